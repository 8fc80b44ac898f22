import Foundation
import SecModel
import Testing
@testable import SecIngest

/// AWS Config items and notifications written for these tests after the AWS Config
/// Developer Guide (configuration items, "Example Configuration Item Change
/// Notifications", "Example Oversized Configuration Item Change Notification"):
/// documentation account ids and resource ids.
enum ConfigFixtures {
    /// A security group, `configuration` an object.
    static let securityGroup = #"""
    {"relatedEvents":[],"relationships":[{"resourceId":"vpc-0a1b2c3d4e5f60718","resourceName":null,"resourceType":"AWS::EC2::VPC","name":"Is contained in Vpc"}],"configuration":{"description":"web tier","groupName":"web","ipPermissions":[{"fromPort":22,"ipProtocol":"tcp","ipv6Ranges":[],"prefixListIds":[],"toPort":22,"userIdGroupPairs":[],"ipv4Ranges":[{"cidrIp":"0.0.0.0/0"}],"ipRanges":["0.0.0.0/0"]}],"ownerId":"111122223333","groupId":"sg-0123456789abcdef0","ipPermissionsEgress":[{"ipProtocol":"-1","ipv6Ranges":[],"prefixListIds":[],"userIdGroupPairs":[],"ipv4Ranges":[{"cidrIp":"0.0.0.0/0"}],"ipRanges":["0.0.0.0/0"]}],"tags":[],"vpcId":"vpc-0a1b2c3d4e5f60718"},"supplementaryConfiguration":{},"tags":{},"configurationItemVersion":"1.3","configurationItemCaptureTime":"2026-11-28T06:14:09.118Z","configurationStateId":1795846449118,"awsAccountId":"111122223333","configurationItemStatus":"OK","resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-0123456789abcdef0","resourceName":"web","ARN":"arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0","awsRegion":"us-east-1","availabilityZone":"Not Applicable","configurationStateMd5Hash":"","resourceCreationTime":null}
    """#

    /// A bucket, `configuration` (and a supplementary configuration) as JSON strings.
    static let bucket = #"""
    {"relatedEvents":[],"relationships":[],"configuration":"{\"name\":\"acme-reports\",\"owner\":{\"displayName\":null,\"id\":\"a1b2c3d4\"},\"creationDate\":\"2024-01-01T00:00:00.000Z\"}","supplementaryConfiguration":{"PublicAccessBlockConfiguration":"{\"blockPublicAcls\":true,\"ignorePublicAcls\":true,\"blockPublicPolicy\":true,\"restrictPublicBuckets\":true}"},"tags":{"env":"prod"},"configurationItemVersion":"1.3","configurationItemCaptureTime":"2026-11-28T06:14:11.502Z","configurationStateId":1795846451502,"awsAccountId":"111122223333","configurationItemStatus":"ResourceDiscovered","resourceType":"AWS::S3::Bucket","resourceId":"acme-reports","resourceName":"acme-reports","ARN":"arn:aws:s3:::acme-reports","awsRegion":"us-east-1","availabilityZone":"Regional","configurationStateMd5Hash":"","resourceCreationTime":"2024-01-01T00:00:00.000Z"}
    """#

    /// A deleted instance: no configuration, no name.
    static let deletedInstance = #"""
    {"relatedEvents":[],"relationships":[],"configuration":null,"supplementaryConfiguration":{},"tags":{},"configurationItemVersion":"1.3","configurationItemCaptureTime":"2026-11-28T06:15:00.000Z","configurationStateId":1795846500000,"awsAccountId":"111122223333","configurationItemStatus":"ResourceDeleted","resourceType":"AWS::EC2::Instance","resourceId":"i-0abcd1234example","ARN":"arn:aws:ec2:us-east-1:111122223333:instance/i-0abcd1234example","awsRegion":"us-east-1","availabilityZone":"us-east-1a","configurationStateMd5Hash":"","resourceCreationTime":null}
    """#

    static let items = [securityGroup, bucket, deletedInstance]

    /// A snapshot file as Config writes it to S3: one line.
    static func snapshot(_ items: [String]) -> String {
        #"{"fileVersion":"1.0","configSnapshotId":"9f2c6a1e-3b4d-4c5e-8f70-8192a3b4c5d6","configurationItems":["#
            + items.joined(separator: ",") + "]}"
    }

    /// A history file: no snapshot id.
    static func history(_ items: [String]) -> String {
        #"{"fileVersion":"1.0","configurationItems":["# + items.joined(separator: ",") + "]}"
    }

    /// The security group's change notification.
    static let notification = #"{"configurationItemDiff":{"changedProperties":{"Configuration.IpPermissions.0":{"previousValue":null,"updatedValue":{"fromPort":22,"ipProtocol":"tcp","toPort":22,"ipRanges":["0.0.0.0/0"]},"changeType":"CREATE"}},"changeType":"UPDATE"},"configurationItem":"#
        + securityGroup
        + #","notificationCreationTime":"2026-11-28T06:14:10.402Z","messageType":"ConfigurationItemChangeNotification","recordVersion":"1.3"}"#

    /// The notification as an EventBridge rule delivers it.
    static let eventBridge = #"{"version":"0","id":"2a1b3c4d-5e6f-7081-92a3-b4c5d6e7f809","detail-type":"Config Configuration Item Change","source":"aws.config","account":"111122223333","time":"2026-11-28T06:14:12Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0"],"detail":"#
        + notification + "}"

    /// The notification as an SNS subscription delivers it: `Message` a JSON string.
    static let sns = #"{"Type":"Notification","MessageId":"8b945cb0-db34-5b72-b032-1724878af488","TopicArn":"arn:aws:sns:us-east-1:111122223333:config-topic","Subject":"[AWS Config:us-east-1] AWS::EC2::SecurityGroup sg-0123456789abcdef0 Updated in Account 111122223333","Message":"#
        + jsonString(notification)
        + #","Timestamp":"2026-11-28T06:14:10.513Z","SignatureVersion":"1","Signature":"EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=","SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:111122223333:config-topic:a6859fee-3638-407c-907e-879651c9d143"}"#

    /// An oversized change: only a summary and where the item went.
    static let oversized = #"{"configurationItemSummary":{"changeType":"UPDATE","configurationItemVersion":"1.3","configurationItemCaptureTime":"2026-11-28T06:16:16.261Z","configurationStateId":1795846576261,"awsAccountId":"111122223333","configurationItemStatus":"OK","resourceType":"AWS::EC2::Instance","resourceId":"i-0fedcba9876543210","resourceName":null,"ARN":"arn:aws:ec2:us-east-1:111122223333:instance/i-0fedcba9876543210","awsRegion":"us-east-1","availabilityZone":"us-east-1b","configurationStateMd5Hash":"","resourceCreationTime":"2026-11-01T08:00:00.000Z"},"s3DeliverySummary":{"s3BucketLocation":"config-bucket/AWSLogs/111122223333/Config/us-east-1/2026/11/28/OversizedChangeNotification/AWS::EC2::Instance/i-0fedcba9876543210/111122223333_Config_us-east-1_ChangeNotification_AWS::EC2::Instance_i-0fedcba9876543210_20261128T061616Z_0.json.gz","errorCode":null,"errorMessage":null},"notificationCreationTime":"2026-11-28T06:16:16.261Z","messageType":"OversizedConfigurationItemChangeNotification","recordVersion":"1.0"}"#

    /// `aws configservice get-resource-config-history` output: times in epoch seconds,
    /// `accountId` and `arn`, pretty-printed.
    static let cliHistory = """
    {
        "configurationItems": [
            {
                "version": "1.3",
                "accountId": "111122223333",
                "configurationItemCaptureTime": 1795846449.118,
                "configurationItemStatus": "OK",
                "configurationStateId": "1795846449118",
                "configurationItemMD5Hash": "",
                "arn": "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0",
                "resourceType": "AWS::EC2::SecurityGroup",
                "resourceId": "sg-0123456789abcdef0",
                "resourceName": "web",
                "awsRegion": "us-east-1",
                "availabilityZone": "Not Applicable",
                "tags": {},
                "relatedEvents": [],
                "relationships": [],
                "configuration": "{\\"groupName\\":\\"web\\",\\"groupId\\":\\"sg-0123456789abcdef0\\"}",
                "supplementaryConfiguration": {}
            }
        ],
        "nextToken": "QVFIQUVMN0ZxM0V0MWlvb1pHMWxhdGE="
    }

    """

    /// Config's other messages: not configuration items.
    static let snapshotDelivered = #"{"configSnapshotId":"9f2c6a1e-3b4d-4c5e-8f70-8192a3b4c5d6","s3ObjectKey":"AWSLogs/111122223333/Config/us-east-1/2026/11/28/ConfigSnapshot/111122223333_Config_us-east-1_ConfigSnapshot_20261128T062000Z_9f2c6a1e.json.gz","s3Bucket":"config-bucket","notificationCreationTime":"2026-11-28T06:20:00.000Z","messageType":"ConfigurationSnapshotDeliveryCompleted","recordVersion":"1.1"}"#
}

@Suite struct ConfigTests {
    /// The values copied straight from the item, checked against Foundation's reading.
    func checkItem(_ ev: Event, _ item: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) {
        let time = item["configurationItemCaptureTime"]
        if let text = time as? String {
            #expect(ev.time == oracleMillis(text), sourceLocation: sourceLocation)
        } else {
            #expect(ev.time == Int64(((time as! NSNumber).doubleValue * 1000).rounded()), sourceLocation: sourceLocation)
        }
        #expect(ev.account == (item["awsAccountId"] ?? item["accountId"]) as? String, sourceLocation: sourceLocation)
        #expect(ev.region == item["awsRegion"] as? String, sourceLocation: sourceLocation)
        #expect(ev.source == .config && ev.eventClass == .configItem && ev.outcome == .unknown, sourceLocation: sourceLocation)
        #expect(ev.resource == (item["ARN"] ?? item["arn"] ?? item["resourceId"]) as? String, sourceLocation: sourceLocation)
        #expect(ev.resourceType == item["resourceType"] as? String, sourceLocation: sourceLocation)
        #expect(ev.action == item["configurationItemStatus"] as? String, sourceLocation: sourceLocation)
        #expect(ev.title == item["resourceName"] as? String, sourceLocation: sourceLocation)
        let state = item["configurationStateId"] ?? item["configurationStateID"]
        #expect(ev.eventID == (state as? String ?? (state as? NSNumber)?.stringValue), sourceLocation: sourceLocation)
        #expect(ev.principal == nil && ev.srcIP == nil && ev.severity == nil, sourceLocation: sourceLocation)
    }

    @Test func snapshotFileGivesAnEventPerItemWithItsOwnBytes() {
        let doc = ConfigFixtures.snapshot(ConfigFixtures.items)
        let input = Array(doc.utf8)
        let out = parse(input, format: .config, file: "AWSLogs/111122223333/Config/us-east-1/2026/11/28/ConfigSnapshot/s.json.gz")
        #expect(out.quarantined.isEmpty && out.warnings.isEmpty)
        #expect(out.events.map(\.raw) == ConfigFixtures.items.map { Array($0.utf8) })
        checkAccounting(out, input: input)
        for (ev, item) in zip(out.events, ConfigFixtures.items) { checkItem(ev, oracle(item)) }
        #expect(out.events.map(\.action) == ["OK", "ResourceDiscovered", "ResourceDeleted"])
        #expect(out.events[0].time == 1_795_846_449_118 && out.events[0].eventID == "1795846449118")
        #expect(out.events[2].title == nil) // no resourceName
        // `configuration` stays as Config wrote it: an object, or a JSON string.
        #expect(JSONPath("configuration.groupId")?.lookup(in: out.events[0].raw) == .string("sg-0123456789abcdef0"))
        guard case .string(let text)? = JSONPath("configuration")?.lookup(in: out.events[1].raw) else {
            Issue.record("bucket configuration is not a string"); return
        }
        #expect(JSONPath("name")?.lookup(in: Array(text.utf8)) == .string("acme-reports"))
    }

    @Test func historyFileAndLargeSnapshotsReadWhole() {
        let history = ConfigFixtures.history([ConfigFixtures.bucket, ConfigFixtures.bucket])
        #expect(parse(history, format: .config).events.count == 2)
        // One line of several megabytes: read whole, not refused as a long line.
        let many = (0 ..< 3000).map { n in
            ConfigFixtures.securityGroup.replacingOccurrences(of: "sg-0123456789abcdef0", with: "sg-\(String(format: "%017d", n))")
        }
        let input = Array(ConfigFixtures.snapshot(many).utf8)
        #expect(!input.withUnsafeBytes { InputReader.isLineOriented($0) })
        let reader = InputReader(source: BytesSource(input), name: "s.json", chunkSize: 1 << 16, maxLineLength: 1 << 20)
        let context = ParseContext(file: "s.json")
        var out = ParseOutput()
        while let chunk = reader.next() { out.append(IngestParser.parse(chunk: chunk, format: .config, context: context)) }
        #expect(out.quarantined.isEmpty)
        #expect(out.events.count == 3000)
        #expect(out.events.last?.resourceType == "AWS::EC2::SecurityGroup")
        checkAccounting(out, input: input)
    }

    @Test func changeNotificationKeepsTheWholeMessage() throws {
        let out = parse(ConfigFixtures.notification, format: .config)
        #expect(out.quarantined.isEmpty)
        let ev = try #require(out.events.first)
        #expect(out.events.count == 1)
        #expect(ev.raw == Array(ConfigFixtures.notification.utf8))
        checkItem(ev, oracle(ConfigFixtures.securityGroup))
        #expect(JSONPath("configurationItemDiff.changeType")?.lookup(in: ev.raw) == .string("UPDATE"))
    }

    @Test func eventBridgeAndSNSEnvelopes() throws {
        for envelope in [ConfigFixtures.eventBridge, ConfigFixtures.sns] {
            let out = parse(envelope, format: .config)
            #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))")
            let ev = try #require(out.events.first)
            #expect(ev.raw == Array(envelope.utf8))
            checkItem(ev, oracle(ConfigFixtures.securityGroup))
            #expect(InputFormat.detect(prefix: Array(envelope.utf8), path: "-") == .config)
        }
        let rule = ConfigFixtures.eventBridge.replacingOccurrences(of: "Config Configuration Item Change",
                                                                    with: "Config Rules Compliance Change")
        #expect(parse(rule, format: .config).quarantined.map(\.reason)
            == ["not a configuration item (EventBridge 'Config Rules Compliance Change')"])
        // A Message string that is not JSON is refused with where it broke.
        let broken = ConfigFixtures.sns.replacingOccurrences(of: #"\"changeType\":\"UPDATE\"}"#, with: #"\"changeType\":\"UPDATE\""#)
        #expect(parse(broken, format: .config).quarantined.first?.reason.hasPrefix("invalid JSON at byte ") == true)
    }

    @Test func oversizedNotificationFromItsSummary() throws {
        let out = parse(ConfigFixtures.oversized, format: .config)
        #expect(out.quarantined.isEmpty)
        let ev = try #require(out.events.first)
        #expect(ev.raw == Array(ConfigFixtures.oversized.utf8))
        checkItem(ev, oracle(ConfigFixtures.oversized)["configurationItemSummary"] as! [String: Any])
        #expect(ev.title == nil) // resourceName null
    }

    @Test func cliOutputWithEpochSeconds() throws {
        let input = Array(ConfigFixtures.cliHistory.utf8)
        #expect(InputFormat.detect(prefix: input, path: "history.json") == .config)
        let out = parse(input, format: .config)
        #expect(out.quarantined.isEmpty)
        let ev = try #require(out.events.first)
        checkAccounting(out, input: input)
        let item = ((oracle(ConfigFixtures.cliHistory)["configurationItems"]) as! [[String: Any]])[0]
        checkItem(ev, item)
        #expect(ev.time == 1_795_846_449_118)
        #expect(ev.resource == "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0")
    }

    @Test func otherMessagesAreRefused() {
        #expect(parse(ConfigFixtures.snapshotDelivered, format: .config).quarantined.map(\.reason)
            == ["not a configuration item (messageType 'ConfigurationSnapshotDeliveryCompleted')"])
        #expect(parse(#"{"ConfigRule":{"ConfigRuleName":"r"}}"#, format: .config).quarantined.map(\.reason)
            == ["not a configuration item (no resourceType or resourceId)"])
    }

    @Test func badItemsAreQuarantinedAndTheRestKept() {
        let good = ConfigFixtures.securityGroup
        let badTime = good.replacingOccurrences(of: "2026-11-28T06:14:09.118Z", with: "last tuesday")
        let noTime = good.replacingOccurrences(of: #""configurationItemCaptureTime":"2026-11-28T06:14:09.118Z","#, with: "")
        let anonymous = good.replacingOccurrences(of: #""resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-0123456789abcdef0","#, with: "")
        let broken = good.replacingOccurrences(of: #""tags":{},"#, with: #""tags":{,"#)
        let brokenAt = Array(broken.utf8).firstRange(of: Array("{,".utf8))!.lowerBound + 1
        var nonUTF8 = Array(good.replacingOccurrences(of: #""resourceName":"web""#, with: "\"resourceName\":\"w\u{01}b\"").utf8)
        nonUTF8[nonUTF8.firstIndex(of: 0x01)!] = 0xC3 // a lead byte without its continuation
        let doc = Array(#"{"fileVersion":"1.0","configurationItems":["#.utf8)
            + Array([good, badTime, noTime, anonymous, broken, ConfigFixtures.bucket].joined(separator: ",").utf8)
            + [0x2C] + nonUTF8 + Array("]}".utf8)
        let out = parse(doc, format: .config)
        checkAccounting(out, input: doc)
        #expect(out.records == 7)
        #expect(out.quarantined.map(\.reason) == [
            "configurationItemCaptureTime 'last tuesday' is not a time", "configuration item has no configurationItemCaptureTime",
            "not a configuration item (no resourceType or resourceId)",
            "invalid JSON at byte \(brokenAt) of record: expected '\"' to start a key",
        ])
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == [badTime, noTime, anonymous, broken])
        #expect(out.events.count == 3)
        #expect(out.events.map(\.resourceType) == ["AWS::EC2::SecurityGroup", "AWS::S3::Bucket", "AWS::EC2::SecurityGroup"])
        #expect(out.events[2].raw == nonUTF8 && out.events[2].title == "w\u{FFFD}b")
    }

    @Test func accountAndRegionFallBackToThePath() {
        let item = ConfigFixtures.securityGroup.replacingOccurrences(of: #""awsAccountId":"111122223333","#, with: "")
            .replacingOccurrences(of: #""awsRegion":"us-east-1","#, with: "")
        let path = "AWSLogs/777788889999/Config/eu-west-1/2026/11/28/ConfigHistory/h.json.gz"
        let ev = parse(ConfigFixtures.history([item]), format: .config, file: path).events.first
        #expect(ev?.account == "777788889999" && ev?.region == "eu-west-1")
        #expect(parse(ConfigFixtures.history([item]), format: .config).quarantined.map(\.reason) == [ParseContext.noAccountReason])
        // The EventBridge envelope's account and region come before the path's.
        let wrapped = ConfigFixtures.eventBridge.replacingOccurrences(of: ConfigFixtures.securityGroup, with: item)
        let fromEnvelope = parse(wrapped, format: .config, file: path).events.first
        #expect(fromEnvelope?.account == "111122223333" && fromEnvelope?.region == "us-east-1")
    }

    @Test func firstFormatNotificationWithAnArrayOfItems() {
        let message = #"{"MessageVersion":"1.0","NotificationCreateTime":"2014-03-18T10:11:00Z","messageType":"ConfigurationItemChangeNotification","configurationItem":["#
            + ConfigFixtures.securityGroup + "," + ConfigFixtures.bucket + #"],"configurationItemDiff":{"changeType":"UPDATE"}}"#
        let input = Array(message.utf8)
        let out = parse(input, format: .config)
        #expect(out.quarantined.isEmpty && out.records == 2)
        #expect(out.events.map(\.raw) == [ConfigFixtures.securityGroup, ConfigFixtures.bucket].map { Array($0.utf8) })
        checkAccounting(out, input: input, sliced: false)
        // One item in the array: the notification is the raw record.
        let single = message.replacingOccurrences(of: "," + ConfigFixtures.bucket, with: "")
        #expect(parse(single, format: .config).events.map(\.raw) == [Array(single.utf8)])
    }

    @Test func detection() {
        let cases: [(String, String)] = [
            ("snapshot", ConfigFixtures.snapshot(ConfigFixtures.items)), ("notification", ConfigFixtures.notification),
            ("oversized", ConfigFixtures.oversized), ("item", ConfigFixtures.bucket), ("cli", ConfigFixtures.cliHistory),
            ("message", ConfigFixtures.snapshotDelivered),
        ]
        for (name, text) in cases {
            #expect(InputFormat.detect(prefix: Array(text.utf8), path: "x.json") == .config, "\(name)")
            #expect(InputFormat.detect(prefix: gzip(Array(text.utf8)), path: "x.json.gz") == .config, "\(name)")
        }
        #expect(InputFormat.detect(prefix: [], path: "AWSLogs/111122223333/Config/us-east-1/2026/11/28/ConfigSnapshot/s.json.gz") == .config)
    }

    // MARK: - The AWS Config Developer Guide's examples

    /// The configuration items a document holds, by Foundation's reading: in item lists,
    /// notifications, summaries, and envelopes (EventBridge `detail`, SNS `Message`, a
    /// rule's `invokingEvent`, as objects or JSON strings).
    static func oracleItems(_ value: Any?) -> [[String: Any]] {
        if let text = value as? String {
            return oracleItems(try? JSONSerialization.jsonObject(with: Data(text.utf8)))
        }
        guard let object = value as? [String: Any] else { return [] }
        for key in ["configurationItems", "baseConfigurationItems"] {
            if let list = object[key] as? [[String: Any]] { return list }
        }
        if let list = object["configurationItem"] as? [[String: Any]] { return list }
        if let item = (object["configurationItem"] ?? object["configurationItemSummary"]) as? [String: Any] { return [item] }
        for key in ["detail", "Message", "invokingEvent"] where object[key] != nil { return oracleItems(object[key]) }
        return []
    }

    @Test func developerGuideExamples() throws {
        guard let dir = CorpusConformanceTests.available("aws-config-examples/extracted") else { return }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names.count >= 15)
        var items = 0
        for name in names {
            let path = dir.appendingPathComponent(name).path
            let bytes = try IngestInput.read(path: path).bytes
            let out = parse(bytes, format: .config, file: name)
            #expect(out.records == out.events.count + out.quarantined.count, "\(name)")
            guard let document = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
                print("\(name): not JSON; \(out.quarantined.count) piece(s) quarantined, \(out.events.count) event(s)")
                continue
            }
            let expected = Self.oracleItems(document)
            let detected = InputFormat.detect(prefix: bytes, path: name)
            print("\(name): \(expected.count) configuration item(s); detected as \(detected?.rawValue ?? "nothing")")
            if expected.isEmpty {
                #expect(out.events.isEmpty, "\(name)")
                #expect(detected != .config, "\(name)")
                continue
            }
            #expect(detected == .config, "\(name)")
            #expect(out.quarantined.isEmpty, "\(name): a valid item was quarantined: \(out.quarantined.map(\.reason))")
            #expect(out.events.count == expected.count, "\(name)")
            for (ev, item) in zip(out.events, expected) {
                #expect(ev.resourceType == item["resourceType"] as? String, "\(name)")
                #expect(ev.action == item["configurationItemStatus"] as? String, "\(name)")
                let time = item["configurationItemCaptureTime"]
                let millis = (time as? String).flatMap(oracleMillis)
                    ?? (time as? NSNumber).map { Int64(($0.doubleValue * 1000).rounded()) }
                #expect(ev.time == millis, "\(name)")
                #expect(ev.resource == (item["ARN"] ?? item["arn"] ?? item["resourceId"]) as? String, "\(name)")
            }
            items += out.events.count
        }
        #expect(items >= 14)
    }
}
