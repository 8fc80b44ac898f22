import Foundation
import SecModel
import Testing
@testable import SecIngest

/// GuardDuty findings written for these tests after the Finding and Resource objects of
/// the GuardDuty API Reference and the sample findings of the User Guide:
/// documentation account ids, addresses and resource ids.
enum GuardDutyFixtures {
    static let detector = "12abc34d567e8fa901bc2d34e56789f0"

    /// A port probe of an instance (S3 export line).
    static let portProbe = #"""
    {"schemaVersion":"2.0","accountId":"111122223333","region":"us-east-1","partition":"aws","id":"1ec5b7c4f7c2a1e7d8f9a0b1c2d3e4f5","arn":"arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/1ec5b7c4f7c2a1e7d8f9a0b1c2d3e4f5","type":"Recon:EC2/PortProbeUnprotectedPort","resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"i-0abcd1234example","instanceType":"t3.medium","launchTime":"2026-11-01T08:00:00.000Z","platform":null,"productCodes":[],"iamInstanceProfile":{"arn":"arn:aws:iam::111122223333:instance-profile/web","id":"AIPAEXAMPLEID1234567"},"networkInterfaces":[{"ipv6Addresses":[],"networkInterfaceId":"eni-0a1b2c3d4e5f60718","privateDnsName":"ip-10-0-0-5.ec2.internal","privateIpAddress":"10.0.0.5","privateIpAddresses":[{"privateDnsName":"ip-10-0-0-5.ec2.internal","privateIpAddress":"10.0.0.5"}],"publicDnsName":"ec2-198-51-100-10.compute-1.amazonaws.com","publicIp":"198.51.100.10","securityGroups":[{"groupId":"sg-0123456789abcdef0","groupName":"web"}],"subnetId":"subnet-0123456789abcdef0","vpcId":"vpc-0a1b2c3d4e5f60718"}],"outpostArn":null,"tags":[{"key":"Name","value":"web-1"}],"instanceState":"running","availabilityZone":"us-east-1a","imageId":"ami-0abcdef1234567890","imageDescription":"Amazon Linux 2023"}},"service":{"serviceName":"guardduty","detectorId":"12abc34d567e8fa901bc2d34e56789f0","action":{"actionType":"PORT_PROBE","portProbeAction":{"portProbeDetails":[{"localPortDetails":{"port":22,"portName":"SSH"},"localIpDetails":{"ipAddressV4":"10.0.0.5"},"remoteIpDetails":{"ipAddressV4":"203.0.113.77","organization":{"asn":"64500","asnOrg":"Example Hosting","isp":"Example Hosting","org":"Example Hosting"},"country":{"countryName":"Example"},"city":{"cityName":"Example City"},"geoLocation":{"lat":0,"lon":0}}},{"localPortDetails":{"port":3389,"portName":"RDP"},"remoteIpDetails":{"ipAddressV4":"203.0.113.78"}}],"blocked":false}},"resourceRole":"TARGET","additionalInfo":{"threatName":"Scanner","threatListName":"ProofPoint"},"eventFirstSeen":"2026-11-28T09:12:01.000Z","eventLastSeen":"2026-11-28T09:58:44.000Z","archived":false,"count":14},"severity":2,"createdAt":"2026-11-28T09:20:15.106Z","updatedAt":"2026-11-28T10:01:02.447Z","title":"Unprotected port on EC2 instance i-0abcd1234example is being probed.","description":"EC2 instance has an unprotected port which is being probed by a known malicious host."}
    """#

    /// An instance role's credentials used from outside AWS: an API call, access key resource.
    static let credentialExfiltration = #"""
    {"schemaVersion":"2.0","accountId":"111122223333","region":"eu-west-1","partition":"aws","id":"a4c5e6f708192a3b4c5d6e7f8091a2b3","arn":"arn:aws:guardduty:eu-west-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/a4c5e6f708192a3b4c5d6e7f8091a2b3","type":"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS","resource":{"resourceType":"AccessKey","accessKeyDetails":{"accessKeyId":"ASIAEXAMPLEKEY123456","principalId":"AROAEXAMPLEID:i-0abcd1234example","userName":"AppInstanceRole","userType":"AssumedRole"}},"service":{"serviceName":"guardduty","detectorId":"12abc34d567e8fa901bc2d34e56789f0","action":{"actionType":"AWS_API_CALL","awsApiCallAction":{"api":"ListBuckets","serviceName":"s3.amazonaws.com","callerType":"Remote IP","errorCode":"AccessDenied","userAgent":"aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0","remoteIpDetails":{"ipAddressV4":"198.51.100.200","organization":{"asn":"64501","asnOrg":"Example ISP","isp":"Example ISP","org":"Example ISP"},"country":{"countryName":"Example"},"city":{"cityName":"Example"},"geoLocation":{"lat":0,"lon":0}},"affectedResources":{}}},"resourceRole":"TARGET","additionalInfo":{"value":"{}","type":"default"},"evidence":null,"eventFirstSeen":"2026-11-28T08:00:00.000Z","eventLastSeen":"2026-11-28T08:05:00.000Z","archived":false,"count":3},"severity":8,"createdAt":"2026-11-28T08:10:00.000Z","updatedAt":"2026-11-28T08:15:30.500Z","title":"Credentials for instance role AppInstanceRole used from external IP address.","description":"Credentials created exclusively for an EC2 instance were used from an external IP address."}
    """#

    /// An instance querying a command-and-control domain (mixed case, trailing dot).
    static let dnsRequest = #"""
    {"schemaVersion":"2.0","accountId":"111122223333","region":"us-east-1","partition":"aws","id":"b5d6e7f8091a2b3c4d5e6f708192a3b4","arn":"arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/b5d6e7f8091a2b3c4d5e6f708192a3b4","type":"Backdoor:EC2/C&CActivity.B!DNS","resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"i-0fedcba9876543210","instanceType":"m5.large","availabilityZone":"us-east-1b","imageId":"ami-0abcdef1234567890","instanceState":"running","tags":[]}},"service":{"serviceName":"guardduty","detectorId":"12abc34d567e8fa901bc2d34e56789f0","action":{"actionType":"DNS_REQUEST","dnsRequestAction":{"domain":"C2.Example.NET.","protocol":"UDP","blocked":false,"domainWithSuffix":"example.net"}},"resourceRole":"ACTOR","additionalInfo":{"threatListName":"Amazon"},"eventFirstSeen":"2026-11-28T07:00:00.000Z","eventLastSeen":"2026-11-28T07:30:00.000Z","archived":false,"count":5},"severity":8,"createdAt":"2026-11-28T07:05:00.000Z","updatedAt":"2026-11-28T07:31:00.000Z","title":"Command and Control server domain name queried by EC2 instance i-0fedcba9876543210.","description":"EC2 instance i-0fedcba9876543210 is querying a domain name associated with a known Command & Control server."}
    """#

    /// An instance connecting out to a mining pool: the instance is the source.
    static let outboundConnection = #"""
    {"schemaVersion":"2.0","accountId":"111122223333","region":"us-east-1","partition":"aws","id":"c6e7f8091a2b3c4d5e6f708192a3b4c5","arn":"arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/c6e7f8091a2b3c4d5e6f708192a3b4c5","type":"CryptoCurrency:EC2/BitcoinTool.B","resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"i-0abcd1234example"}},"service":{"serviceName":"guardduty","detectorId":"12abc34d567e8fa901bc2d34e56789f0","action":{"actionType":"NETWORK_CONNECTION","networkConnectionAction":{"connectionDirection":"OUTBOUND","remoteIpDetails":{"ipAddressV4":"192.0.2.44","organization":{"asn":"64502","asnOrg":"Example Pool"},"country":{"countryName":"Example"}},"remotePortDetails":{"port":3333,"portName":"Unknown"},"localPortDetails":{"port":49152,"portName":"Unknown"},"localIpDetails":{"ipAddressV4":"10.0.0.5"},"protocol":"TCP","blocked":false,"localNetworkInterface":"eni-0a1b2c3d4e5f60718"}},"resourceRole":"ACTOR","additionalInfo":{},"eventFirstSeen":"2026-11-28T06:00:00.000Z","eventLastSeen":"2026-11-28T06:40:00.000Z","archived":false,"count":40},"severity":8,"createdAt":"2026-11-28T06:05:00.000Z","updatedAt":"2026-11-28T06:41:00.000Z","title":"EC2 instance i-0abcd1234example is communicating with a Bitcoin-related IP address.","description":"EC2 instance i-0abcd1234example is communicating with Bitcoin-related IP address 192.0.2.44 on port 3333."}
    """#

    /// SSH brute force against an instance, over IPv6: the remote end is the source.
    static let inboundConnection = #"""
    {"schemaVersion":"2.0","accountId":"111122223333","region":"us-east-1","partition":"aws","id":"d7f8091a2b3c4d5e6f708192a3b4c5d6","arn":"arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/d7f8091a2b3c4d5e6f708192a3b4c5d6","type":"UnauthorizedAccess:EC2/SSHBruteForce","resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"i-0abcd1234example"}},"service":{"serviceName":"guardduty","detectorId":"12abc34d567e8fa901bc2d34e56789f0","action":{"actionType":"NETWORK_CONNECTION","networkConnectionAction":{"connectionDirection":"INBOUND","remoteIpDetails":{"ipAddressV6":"2001:db8:4::1"},"remotePortDetails":{"port":41822,"portName":"Unknown"},"localPortDetails":{"port":22,"portName":"SSH"},"localIpDetails":{"ipAddressV6":"2001:db8:1::5"},"protocol":"TCP","blocked":false}},"resourceRole":"TARGET","additionalInfo":{},"eventFirstSeen":"2026-11-28T05:00:00.000Z","eventLastSeen":"2026-11-28T05:10:00.000Z","archived":false,"count":120},"severity":2,"createdAt":"2026-11-28T05:01:00.000Z","updatedAt":"2026-11-28T05:11:00.000Z","title":"2001:db8:4::1 is performing SSH brute force attacks against i-0abcd1234example.","description":"2001:db8:4::1 is performing SSH brute force attacks against i-0abcd1234example."}
    """#

    /// A bucket's public access block removed by an IAM user: the bucket is the resource.
    static let s3Bucket = #"""
    {"schemaVersion":"2.0","accountId":"444455556666","region":"us-west-2","partition":"aws","id":"e8091a2b3c4d5e6f708192a3b4c5d6e7","arn":"arn:aws:guardduty:us-west-2:444455556666:detector/12abc34d567e8fa901bc2d34e56789f0/finding/e8091a2b3c4d5e6f708192a3b4c5d6e7","type":"Policy:S3/BucketBlockPublicAccessDisabled","resource":{"resourceType":"S3Bucket","accessKeyDetails":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","principalId":"AIDACKCEVSQ6C2EXAMPLE","userName":"alice","userType":"IAMUser"},"s3BucketDetails":[{"arn":"arn:aws:s3:::acme-reports","name":"acme-reports","type":"Destination","createdAt":"2024-01-01T00:00:00.000Z","owner":{"id":"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2"},"tags":[],"defaultServerSideEncryption":{"encryptionType":"AES256"},"publicAccess":{"effectivePermission":"NOT_PUBLIC"}}]},"service":{"serviceName":"guardduty","detectorId":"12abc34d567e8fa901bc2d34e56789f0","action":{"actionType":"AWS_API_CALL","awsApiCallAction":{"api":"DeletePublicAccessBlock","serviceName":"s3.amazonaws.com","callerType":"Remote IP","remoteIpDetails":{"ipAddressV4":"198.51.100.5"},"affectedResources":{"AWS::S3::Bucket":"acme-reports"}}},"resourceRole":"TARGET","additionalInfo":{},"eventFirstSeen":"2026-11-28T04:00:00.000Z","eventLastSeen":"2026-11-28T04:00:00.000Z","archived":false,"count":1},"severity":2,"createdAt":"2026-11-28T04:05:00.000Z","updatedAt":"2026-11-28T04:05:00.000Z","title":"Amazon S3 Block Public Access was disabled for S3 bucket acme-reports.","description":"Amazon S3 Block Public Access was disabled for S3 bucket acme-reports by alice calling DeletePublicAccessBlock."}
    """#

    /// Anonymous access to an EKS cluster's API.
    static let kubernetes = #"""
    {"schemaVersion":"2.0","accountId":"111122223333","region":"us-east-1","partition":"aws","id":"f91a2b3c4d5e6f708192a3b4c5d6e7f8","arn":"arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/f91a2b3c4d5e6f708192a3b4c5d6e7f8","type":"Discovery:Kubernetes/SuccessfulAnonymousAccess","resource":{"resourceType":"EKSCluster","eksClusterDetails":{"name":"prod-cluster","arn":"arn:aws:eks:us-east-1:111122223333:cluster/prod-cluster","vpcId":"vpc-0a1b2c3d4e5f60718","status":"ACTIVE","tags":[],"createdAt":"2025-06-01T00:00:00.000Z"},"kubernetesDetails":{"kubernetesUserDetails":{"username":"system:anonymous","uid":"","groups":["system:unauthenticated"]}}},"service":{"serviceName":"guardduty","detectorId":"12abc34d567e8fa901bc2d34e56789f0","action":{"actionType":"KUBERNETES_API_CALL","kubernetesApiCallAction":{"requestUri":"/api/v1/namespaces","verb":"list","sourceIps":["203.0.113.50"],"userAgent":"kubectl/v1.29.0 (linux/amd64) kubernetes/abcdef0","remoteIpDetails":{"ipAddressV4":"203.0.113.50","country":{"countryName":"Example"}},"statusCode":200}},"resourceRole":"TARGET","additionalInfo":{},"eventFirstSeen":"2026-11-28T03:00:00.000Z","eventLastSeen":"2026-11-28T03:00:00.000Z","archived":false,"count":1},"severity":5,"createdAt":"2026-11-28T03:01:00.000Z","updatedAt":"2026-11-28T03:01:00.000Z","title":"Kubernetes API invoked by an unauthenticated user.","description":"A Kubernetes API commonly used to gain access to cluster resources was invoked by an unauthenticated user."}
    """#

    static let all = [portProbe, credentialExfiltration, dnsRequest, outboundConnection, inboundConnection, s3Bucket, kubernetes]

    /// `finding` in an EventBridge envelope, as a rule delivers it.
    static func eventBridge(_ finding: String) -> String {
        #"{"version":"0","id":"c8c4daa7-a20c-2f03-0070-b7393dd542ad","detail-type":"GuardDuty Finding","source":"aws.guardduty","account":"111122223333","time":"2026-11-28T10:01:05Z","region":"us-east-1","resources":[],"detail":"#
            + finding + "}"
    }

    /// `aws guardduty get-findings` output: capitalised keys, pretty-printed.
    static let cliOutput = """
    {
        "Findings": [
            {
                "AccountId": "111122223333",
                "Arn": "arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/1ec5b7c4f7c2a1e7d8f9a0b1c2d3e4f5",
                "CreatedAt": "2026-11-28T09:20:15.106Z",
                "Description": "EC2 instance has an unprotected port which is being probed by a known malicious host.",
                "Id": "1ec5b7c4f7c2a1e7d8f9a0b1c2d3e4f5",
                "Partition": "aws",
                "Region": "us-east-1",
                "Resource": {
                    "InstanceDetails": {
                        "InstanceId": "i-0abcd1234example",
                        "InstanceType": "t3.medium"
                    },
                    "ResourceType": "Instance"
                },
                "SchemaVersion": "2.0",
                "Service": {
                    "Action": {
                        "ActionType": "PORT_PROBE",
                        "PortProbeAction": {
                            "Blocked": false,
                            "PortProbeDetails": [
                                {
                                    "LocalPortDetails": {
                                        "Port": 22,
                                        "PortName": "SSH"
                                    },
                                    "LocalIpDetails": {
                                        "IpAddressV4": "10.0.0.5"
                                    },
                                    "RemoteIpDetails": {
                                        "IpAddressV4": "203.0.113.77"
                                    }
                                }
                            ]
                        }
                    },
                    "Archived": false,
                    "Count": 14,
                    "DetectorId": "12abc34d567e8fa901bc2d34e56789f0",
                    "EventFirstSeen": "2026-11-28T09:12:01.000Z",
                    "EventLastSeen": "2026-11-28T09:58:44.000Z",
                    "ResourceRole": "TARGET",
                    "ServiceName": "guardduty"
                },
                "Severity": 2.0,
                "Title": "Unprotected port on EC2 instance i-0abcd1234example is being probed.",
                "Type": "Recon:EC2/PortProbeUnprotectedPort",
                "UpdatedAt": "2026-11-28T10:01:02.447Z"
            }
        ]
    }

    """
}

@Suite struct GuardDutyTests {
    func event(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Event {
        let out = parse(text, format: .guardduty)
        #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))", sourceLocation: sourceLocation)
        #expect(out.records == 1, sourceLocation: sourceLocation)
        return try #require(out.events.first, sourceLocation: sourceLocation)
    }

    /// The values copied straight from the finding, checked against Foundation's reading.
    func checkCommon(_ ev: Event, _ json: String, raw: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let f = oracle(json)
        #expect(ev.raw == Array((raw ?? json).utf8), "raw must be the record's exact bytes", sourceLocation: sourceLocation)
        #expect(ev.time == oracleMillis(f["updatedAt"] as! String), sourceLocation: sourceLocation)
        #expect(ev.account == f["accountId"] as? String, sourceLocation: sourceLocation)
        #expect(ev.region == f["region"] as? String, sourceLocation: sourceLocation)
        #expect(ev.source == .guardduty && ev.eventClass == .detectionFinding, sourceLocation: sourceLocation)
        #expect(ev.findingType == f["type"] as? String, sourceLocation: sourceLocation)
        #expect(ev.severity == (f["severity"] as? NSNumber)?.doubleValue, sourceLocation: sourceLocation)
        #expect(ev.title == f["title"] as? String, sourceLocation: sourceLocation)
        #expect(ev.eventID == f["id"] as? String, sourceLocation: sourceLocation)
        #expect(ev.outcome == .unknown, sourceLocation: sourceLocation)
        let resource = f["resource"] as! [String: Any]
        #expect(ev.resourceType == resource["resourceType"] as? String, sourceLocation: sourceLocation)
        let key = resource["accessKeyDetails"] as? [String: Any]
        #expect(ev.accessKey == key?["accessKeyId"] as? String, sourceLocation: sourceLocation)
        #expect(ev.principal == (key?["principalId"] ?? key?["userName"]) as? String, sourceLocation: sourceLocation)
        #expect(ev.principalType == key?["userType"] as? String, sourceLocation: sourceLocation)
        let action = (f["service"] as! [String: Any])["action"] as? [String: Any]
        #expect(ev.action == action?["actionType"] as? String, sourceLocation: sourceLocation)
    }

    /// The `service.action` object of a fixture.
    func action(_ json: String, _ key: String) -> [String: Any] {
        ((oracle(json)["service"] as! [String: Any])["action"] as! [String: Any])[key] as! [String: Any]
    }

    func ip(_ details: Any?) -> IPAddress? {
        let d = details as? [String: Any]
        return ((d?["ipAddressV4"] ?? d?["ipAddressV6"]) as? String).flatMap(IPAddress.init)
    }

    func port(_ details: Any?) -> Int64? {
        ((details as? [String: Any])?["port"] as? Int).map(Int64.init)
    }

    @Test func portProbe() throws {
        let json = GuardDutyFixtures.portProbe
        let ev = try event(json)
        checkCommon(ev, json)
        let probe = (action(json, "portProbeAction")["portProbeDetails"] as! [[String: Any]])[0]
        #expect(ev.srcIP == ip(probe["remoteIpDetails"]))
        #expect(ev.dstIP == ip(probe["localIpDetails"]))
        #expect(ev.dstPort == port(probe["localPortDetails"]) && ev.dstPort == 22)
        #expect(ev.srcPort == nil && ev.proto == nil)
        #expect(ev.resource == "i-0abcd1234example")
        #expect(ev.principal == nil && ev.service == nil && ev.queryName == nil)
        #expect(ev.time == 1_795_860_062_447)
    }

    @Test func apiCallWithAccessKey() throws {
        let json = GuardDutyFixtures.credentialExfiltration
        let ev = try event(json)
        checkCommon(ev, json)
        let call = action(json, "awsApiCallAction")
        #expect(ev.srcIP == ip(call["remoteIpDetails"]))
        #expect(ev.service == call["serviceName"] as? String)
        #expect(ev.errorCode == call["errorCode"] as? String)
        #expect(ev.userAgent == call["userAgent"] as? String)
        #expect(ev.resource == "AppInstanceRole") // accessKeyDetails.userName
        #expect(ev.principal == "AROAEXAMPLEID:i-0abcd1234example" && ev.principalType == "AssumedRole")
        #expect(ev.time % 1000 == 500)
    }

    @Test func dnsRequest() throws {
        let json = GuardDutyFixtures.dnsRequest
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.queryName == "c2.example.net") // lower-cased, trailing dot dropped, as for Route 53
        #expect(JSONPath("service.action.dnsRequestAction.domain")?.lookup(in: ev.raw) == .string("C2.Example.NET."))
        #expect(ev.proto == 17)
        #expect(ev.srcIP == nil && ev.dstIP == nil)
        #expect(ev.resource == "i-0fedcba9876543210")
    }

    @Test func outboundConnectionHasTheInstanceAsSource() throws {
        let json = GuardDutyFixtures.outboundConnection
        let ev = try event(json)
        checkCommon(ev, json)
        let c = action(json, "networkConnectionAction")
        #expect(ev.srcIP == ip(c["localIpDetails"]) && ev.srcPort == port(c["localPortDetails"]))
        #expect(ev.dstIP == ip(c["remoteIpDetails"]) && ev.dstPort == port(c["remotePortDetails"]))
        #expect(ev.dstIP == IPAddress("192.0.2.44") && ev.dstPort == 3333)
        #expect(ev.proto == 6)
    }

    @Test func inboundConnectionHasTheRemoteAsSource() throws {
        let json = GuardDutyFixtures.inboundConnection
        let ev = try event(json)
        checkCommon(ev, json)
        let c = action(json, "networkConnectionAction")
        #expect(ev.srcIP == ip(c["remoteIpDetails"]) && ev.srcPort == port(c["remotePortDetails"]))
        #expect(ev.dstIP == ip(c["localIpDetails"]) && ev.dstPort == port(c["localPortDetails"]))
        #expect(ev.srcIP?.isV4 == false && ev.dstPort == 22)
    }

    @Test func s3BucketFindingNamesTheBucket() throws {
        let json = GuardDutyFixtures.s3Bucket
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.resource == "arn:aws:s3:::acme-reports") // not the access key's user
        #expect(ev.principal == "AIDACKCEVSQ6C2EXAMPLE" && ev.accessKey == "AKIAIOSFODNN7EXAMPLE")
        #expect(ev.srcIP == IPAddress("198.51.100.5"))
        #expect(ev.service == "s3.amazonaws.com")
    }

    @Test func kubernetesApiCall() throws {
        let json = GuardDutyFixtures.kubernetes
        let ev = try event(json)
        checkCommon(ev, json)
        let call = action(json, "kubernetesApiCallAction")
        #expect(ev.resource == "prod-cluster")
        #expect(ev.srcIP == ip(call["remoteIpDetails"]))
        #expect(ev.userAgent == call["userAgent"] as? String)
    }

    @Test func eventBridgeEnvelope() throws {
        let envelope = GuardDutyFixtures.eventBridge(GuardDutyFixtures.portProbe)
        let ev = try event(envelope)
        checkCommon(ev, GuardDutyFixtures.portProbe, raw: envelope)
        #expect(ev.raw == Array(envelope.utf8))
        // A finding with no account or region of its own takes the envelope's.
        let bare = GuardDutyFixtures.portProbe.replacingOccurrences(of: #""accountId":"111122223333","region":"us-east-1","#, with: "")
        let fromEnvelope = try event(GuardDutyFixtures.eventBridge(bare))
        #expect(fromEnvelope.account == "111122223333" && fromEnvelope.region == "us-east-1")
        let other = GuardDutyFixtures.eventBridge(GuardDutyFixtures.portProbe)
            .replacingOccurrences(of: "GuardDuty Finding", with: "EC2 Instance State-change Notification")
        #expect(parse(other, format: .guardduty).quarantined.map(\.reason) == ["not a GuardDuty finding (EventBridge event of another type)"])
    }

    @Test func s3ExportJSONLinesGzipped() {
        let text = GuardDutyFixtures.all.joined(separator: "\n") + "\n"
        let input = Array(text.utf8)
        let out = parse(input, format: .guardduty, file: "AWSLogs/111122223333/GuardDuty/us-east-1/2026/11/28/f.jsonl.gz")
        #expect(out.quarantined.isEmpty)
        #expect(out.events.map(\.raw) == GuardDutyFixtures.all.map { Array($0.utf8) })
        checkAccounting(out, input: input)
        let chunked = readAndParse(gzip(input), format: .guardduty, chunkSize: 2048)
        #expect(chunked.events == out.events && chunked.eventOffsets == out.eventOffsets)
    }

    @Test func getFindingsListPrettyPrinted() throws {
        let two = [GuardDutyFixtures.portProbe, GuardDutyFixtures.dnsRequest]
        let doc = "{\n    \"findings\": [\n        " + two.joined(separator: ",\n        ") + "\n    ]\n}\n"
        let input = Array(doc.utf8)
        #expect(InputFormat.detect(prefix: input, path: "findings.json") == .guardduty)
        for out in [parse(input, format: .guardduty), readAndParse(input, format: .guardduty, chunkSize: 512)] {
            #expect(out.quarantined.isEmpty && out.warnings.isEmpty)
            #expect(out.events.map(\.raw) == two.map { Array($0.utf8) })
            checkAccounting(out, input: input)
        }
        // Compact on one line, the list is still read whole, however long.
        let compact = Array((#"{"findings":["# + two.joined(separator: ",") + "]}").utf8)
        #expect(!compact.withUnsafeBytes { InputReader.isLineOriented($0) })
        #expect(parse(compact, format: .guardduty).events.count == 2)
        // A bare JSON array of findings (`jq .findings`) too.
        let array = "[" + two.joined(separator: ",") + "]"
        #expect(InputFormat.detect(prefix: Array(array.utf8), path: "f.json") == .guardduty)
        #expect(parse(array, format: .guardduty).events.count == 2)
    }

    @Test func cliOutputWithCapitalisedKeys() throws {
        let input = Array(GuardDutyFixtures.cliOutput.utf8)
        #expect(InputFormat.detect(prefix: input, path: "findings.json") == .guardduty)
        let out = parse(input, format: .guardduty)
        #expect(out.quarantined.isEmpty)
        let ev = try #require(out.events.first)
        checkAccounting(out, input: input)
        let api = try event(GuardDutyFixtures.portProbe)
        // The same finding as the API writes it: the same normalised fields.
        #expect(ev.time == api.time && ev.account == api.account && ev.region == api.region)
        #expect(ev.findingType == api.findingType && ev.severity == api.severity && ev.title == api.title)
        #expect(ev.eventID == api.eventID && ev.resource == api.resource && ev.resourceType == api.resourceType)
        #expect(ev.action == api.action && ev.srcIP == api.srcIP && ev.dstIP == api.dstIP && ev.dstPort == api.dstPort)
    }

    @Test func badFindingsAreQuarantinedAndTheRestKept() {
        let good = GuardDutyFixtures.outboundConnection
        func with(_ find: String, _ replace: String) -> String { good.replacingOccurrences(of: find, with: replace) }
        let noType = with(#""type":"CryptoCurrency:EC2/BitcoinTool.B","#, "")
        let noTimes = with(#""createdAt":"2026-11-28T06:05:00.000Z","updatedAt":"2026-11-28T06:41:00.000Z","#, "")
        let createdOnly = with(#""updatedAt":"2026-11-28T06:41:00.000Z","#, "")
        let badTime = with("2026-11-28T06:41:00.000Z", "soon")
        let noAccount = with(#""accountId":"111122223333","#, "")
        let badSeverity = with(#""severity":8,"#, #""severity":"high","#)
        let cut = String(good.prefix(300))
        let binary = "\u{00}\u{00}\u{07}\u{08}\u{1B}[0m"
        var nonUTF8 = Array(with("is communicating with a Bitcoin", "is communicating with a B\u{01}tcoin").utf8)
        nonUTF8[nonUTF8.firstIndex(of: 0x01)!] = 0xFF
        let text = [good, noType, noTimes, createdOnly, badTime, noAccount, badSeverity, cut, good, binary].joined(separator: "\n")
        let input = Array(text.utf8) + [0x0A] + nonUTF8
        let out = parse(input, format: .guardduty, file: "findings.jsonl")
        checkAccounting(out, input: input)
        #expect(out.records == 11)
        #expect(out.quarantined.map(\.reason) == [
            "not a GuardDuty finding (no type)", "finding has no updatedAt or createdAt", "updatedAt 'soon' is not RFC 3339",
            ParseContext.noAccountReason, "invalid JSON at byte 300 of record: control character in string", // the line end, inside a string
            "binary data (non-text bytes)",
        ])
        #expect(out.quarantined.map(\.line) == [2, 3, 5, 6, 8, 10])
        #expect(out.events.count == 5)
        #expect(out.events[1].time == oracleMillis("2026-11-28T06:05:00.000Z")) // createdAt when there is no updatedAt
        #expect(out.events[2].severity == nil) // not a number: left empty, the finding kept
        #expect(out.events[4].raw == nonUTF8)
        #expect(out.events[4].title?.contains("B\u{FFFD}tcoin") == true)
    }

    @Test func detectionPutsFindingsBeforeCloudTrail() {
        // A finding whose free-form details mention CloudTrail's keys is still a finding.
        let mentions = GuardDutyFixtures.portProbe.replacingOccurrences(
            of: #""additionalInfo":{"threatName":"Scanner","threatListName":"ProofPoint"}"#,
            with: #""additionalInfo":{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","eventVersion":"1.08"}"#)
        #expect(mentions != GuardDutyFixtures.portProbe)
        #expect(InputFormat.detect(prefix: Array(mentions.utf8), path: "f.jsonl") == .guardduty)
        #expect(InputFormat.detect(prefix: Array(GuardDutyFixtures.eventBridge(mentions).utf8), path: "-") == .guardduty)
        #expect(InputFormat.detect(prefix: gzip(Array(GuardDutyFixtures.portProbe.utf8)), path: "f.jsonl.gz") == .guardduty)
        // CloudTrail records, even about GuardDuty, stay CloudTrail.
        for (name, json) in Fixtures.all {
            #expect(InputFormat.detect(prefix: Array(json.utf8), path: "x.json") == .cloudtrail, "\(name)")
        }
        #expect(InputFormat.detect(prefix: Array(Fixtures.eventBridge.utf8), path: "x.json") == .cloudtrail)
        let aboutGuardDuty = Fixtures.record(1).replacingOccurrences(of: #""requestParameters":{"maxResults":1}"#,
            with: #""requestParameters":{"detectorId":"12abc34d567e8fa901bc2d34e56789f0","findingCriteria":{"criterion":{"severity":{"gte":7},"type":{"eq":["Recon:EC2/PortProbeUnprotectedPort"]}}}}"#)
        #expect(InputFormat.detect(prefix: Array(aboutGuardDuty.utf8), path: "x.json") == .cloudtrail)
    }

    @Test func pantherGuardDutyTestLogs() throws {
        guard let dir = CorpusConformanceTests.available("panther-analysis/extracted_tests") else { return }
        let fb = try IngestInput.read(path: dir.appendingPathComponent("AWS.GuardDuty.jsonl").path)
        var checked = 0
        for (n, line) in fb.bytes.split(separator: 0x0A).enumerated() {
            let test = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let what = "line \(n + 1) (\(test["test_name"] ?? "?"))"
            let log = try #require(test["log"] as? [String: Any])
            guard case .object(let text)? = JSONPath.lookup(raw: Array(line), path: [.key("log")]) else {
                Issue.record("\(what): no log object"); continue
            }
            #expect(InputFormat.detect(prefix: Array(text.utf8), path: "panther") == .guardduty, "\(what)")
            let out = parse(text, format: .guardduty)
            #expect(out.quarantined.isEmpty, "\(what): \(out.quarantined.map(\.reason))")
            guard let ev = out.events.first else { continue }
            #expect(ev.raw == Array(text.utf8), "\(what)")
            #expect(ev.account == log["accountId"] as? String, "\(what)")
            #expect(ev.findingType == log["type"] as? String, "\(what)")
            #expect(ev.severity == (log["severity"] as? NSNumber)?.doubleValue, "\(what)")
            #expect(ev.eventID == log["id"] as? String, "\(what)")
            #expect(ev.time == Timestamp.parse(log["updatedAt"] as! String), "\(what)")
            #expect(ev.resourceType == (log["resource"] as? [String: Any])?["resourceType"] as? String, "\(what)")
            checked += 1
        }
        print("Panther GuardDuty test logs: \(checked) findings checked")
        #expect(checked >= 8)
    }
}
