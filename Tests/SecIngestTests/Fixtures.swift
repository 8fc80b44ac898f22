import Foundation
import SecModel
import Testing
@testable import SecIngest

/// CloudTrail records written for these tests, shaped like the examples in the AWS
/// CloudTrail User Guide (documentation account ids, addresses and ARNs).
///
/// `consoleLoginNoMFA` and `federatedUser` are copied from DataDog/stratus-red-team
/// (`detonation-logs/aws.initial-access.console-login-without-mfa.json` and
/// `aws.persistence.sts-federation-token.json`, commit 7c9a7a5), Apache-2.0.
enum Fixtures {
    static let rootConsoleLogin = #"""
    {"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":""},"eventTime":"2024-03-01T09:15:02Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.23","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true","MobileVersion":"No","MFAUsed":"Yes"},"eventID":"3f2a1b9c-6d7e-4f80-9a1b-2c3d4e5f6a7b","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"signin.aws.amazon.com"}}
    """#

    /// Root calling an API with no `arn` in its identity.
    static let rootNoArn = #"""
    {"eventVersion":"1.09","userIdentity":{"type":"Root","principalId":"111122223333","accountId":"111122223333","accessKeyId":"ASIAIOSFODNN7EXAMPLE","sessionContext":{"attributes":{"creationDate":"2024-03-01T09:15:02Z","mfaAuthenticated":"true"}}},"eventTime":"2024-03-01T09:20:44.512Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.23","userAgent":"AWS Internal","requestParameters":{"userName":"deploy-bot"},"responseElements":{"accessKey":{"accessKeyId":"AKIAI44QH8DHBEXAMPLE","status":"Active","userName":"deploy-bot","createDate":"Mar 1, 2024 9:20:44 AM"}},"requestID":"a1b2c3d4-5678-90ab-cdef-EXAMPLE11111","eventID":"9e8d7c6b-5a49-4382-9170-8f6e5d4c3b2a","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}
    """#

    /// IAM user failing a console log-in without MFA: no errorCode, the failure is in
    /// responseElements.
    static let iamUserLoginFailure = #"""
    {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2024-03-02T22:01:17Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.77","userAgent":"Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0","errorMessage":"Failed authentication","requestParameters":null,"responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},"eventID":"0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}
    """#

    /// IAM user denied an API call from an IPv6 address.
    static let iamUserAccessDeniedIPv6 = #"""
    {"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"alice"},"eventTime":"2024-03-02T22:05:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"2001:db8:85a3::8a2e:370:7334","userAgent":"aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/iam.create-user","errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/mallory because no identity-based policy allows the iam:CreateUser action","requestParameters":null,"responseElements":null,"requestID":"c0ffee00-1111-2222-3333-444455556666","eventID":"5b6c7d8e-9f01-4a2b-8c3d-4e5f60718293","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"iam.amazonaws.com"}}
    """#

    /// An assumed role (with MFA in its session) starting an instance; the resource
    /// comes from `resources`.
    static let assumedRole = #"""
    {"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:ops-session","arn":"arn:aws:sts::111122223333:assumed-role/Ops/ops-session","accountId":"111122223333","accessKeyId":"ASIAEXAMPLEKEY123456","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID","arn":"arn:aws:iam::111122223333:role/Ops","accountId":"111122223333","userName":"Ops"},"webIdFederationData":{},"attributes":{"creationDate":"2024-03-03T07:00:00Z","mfaAuthenticated":"true"}}},"eventTime":"2024-03-03T07:05:09Z","eventSource":"ec2.amazonaws.com","eventName":"StartInstances","awsRegion":"eu-central-1","sourceIPAddress":"192.0.2.10","userAgent":"aws-sdk-go-v2/1.25.0 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.150.0","requestParameters":{"instancesSet":{"items":[{"instanceId":"i-0abcd1234example"}]}},"responseElements":{"requestId":"e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f60718","instancesSet":{"items":[{"instanceId":"i-0abcd1234example","currentState":{"code":0,"name":"pending"},"previousState":{"code":80,"name":"stopped"}}]}},"requestID":"e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f60718","eventID":"71829304-a5b6-4c7d-8e9f-0a1b2c3d4e5f","readOnly":false,"resources":[{"accountId":"111122223333","type":"AWS::EC2::Instance","ARN":"arn:aws:ec2:eu-central-1:111122223333:instance/i-0abcd1234example"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}
    """#

    /// An AWS service acting for the account; the source address is a service name.
    static let awsService = #"""
    {"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"2024-03-03T07:05:12Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"eu-central-1","sourceIPAddress":"ec2.amazonaws.com","userAgent":"ec2.amazonaws.com","requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/AppInstanceRole","roleSessionName":"i-0abcd1234example"},"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLEKEY654321","sessionToken":"<redacted>","expiration":"Mar 3, 2024, 1:05:12 PM"}},"requestID":"f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9","eventID":"8a9b0c1d-2e3f-4051-9263-748596a7b8c9","readOnly":true,"resources":[{"accountId":"111122223333","type":"AWS::IAM::Role","ARN":"arn:aws:iam::111122223333:role/AppInstanceRole"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","sharedEventID":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","eventCategory":"Management"}
    """#

    /// An S3 data event: object read, bytes in and out, `resources` listing object and bucket.
    static let s3GetObject = #"""
    {"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID2:etl","arn":"arn:aws:sts::444455556666:assumed-role/Etl/etl","accountId":"444455556666","accessKeyId":"ASIAEXAMPLEKEY777777","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID2","arn":"arn:aws:iam::444455556666:role/Etl","accountId":"444455556666","userName":"Etl"},"attributes":{"creationDate":"2024-03-04T01:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2024-03-04T01:02:03.250Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-west-2","sourceIPAddress":"10.20.30.40","userAgent":"[aws-sdk-java/2.25.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/adaptive]","requestParameters":{"bucketName":"acme-reports","Host":"acme-reports.s3.us-west-2.amazonaws.com","key":"2024/03/q1-summary.csv"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"EXAMPLEid2/EXAMPLE=","bytesTransferredOut":18234},"requestID":"0F1E2D3C4B5A6978","eventID":"c1d2e3f4-a5b6-4c7d-8e9f-a0b1c2d3e4f5","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::acme-reports/2024/03/q1-summary.csv"},{"accountId":"444455556666","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::acme-reports"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"444455556666","eventCategory":"Data","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"acme-reports.s3.us-west-2.amazonaws.com"}}
    """#

    /// A cross-account caller: `AWSAccount`, identified only by principalId; no
    /// recipientAccountId, so the account comes from userIdentity.
    static let awsAccountNoRecipient = #"""
    {"eventVersion":"1.08","userIdentity":{"type":"AWSAccount","principalId":"AIDAEXAMPLEPRINCIPAL","accountId":"777788889999"},"eventTime":"2024-03-05T12:00:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"ap-southeast-2","sourceIPAddress":"AWS Internal","userAgent":"AWS Internal","requestParameters":{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,"eventID":"d4c3b2a1-0f9e-4d8c-b7a6-958473625140","readOnly":true,"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:ap-southeast-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management"}
    """#

    static let consoleLoginNoMFA = #"""
    {"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MFAUsed": "No", "MobileVersion": "No"}, "awsRegion": "eu-west-2r", "eventCategory": "Management", "eventID": "865d9377-9c6b-4fd7-8aad-725e95f6a140", "eventName": "ConsoleLogin", "eventSource": "signin.amazonaws.com", "eventTime": "2024-08-02T08:53:24Z", "eventType": "AwsConsoleSignIn", "eventVersion": "1.08", "managementEvent": true, "readOnly": false, "recipientAccountId": "562283505220", "requestParameters": null, "responseElements": {"ConsoleLogin": "Success"}, "sourceIPAddress": "225.01.00.16", "tlsDetails": {"cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "signin.aws.amazon.com", "tlsVersion": "TLSv1.3"}, "userAgent": "stratus-red-team_fccf7123-0651-41f5-b06c-460da5ee1c94", "userIdentity": {"accountId": "562283505220", "arn": "arn:aws:iam::562283505220:user/stratus-red-team-nmfalu-jfzdtsvchl", "principalId": "AIDA1ERT0661IN5R239V", "type": "IAMUser", "userName": "stratus-red-team-nmfalu-jfzdtsvchl"}}
    """#

    static let federatedUser = #"""
    {"awsRegion": "ap-isob-east-1r", "eventCategory": "Management", "eventID": "91529247-c4c4-4793-afc8-d70bbcfe9d19", "eventName": "GetCallerIdentity", "eventSource": "sts.amazonaws.com", "eventTime": "2024-11-30T08:43:18Z", "eventType": "AwsApiCall", "eventVersion": "1.08", "managementEvent": true, "readOnly": true, "recipientAccountId": "742491224508", "requestID": "037be419-9e9f-42e0-a38f-2a5d2ae1ce65", "requestParameters": null, "responseElements": null, "sourceIPAddress": "255.090.254.5", "tlsDetails": {"cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "sts.ap-isob-east-1r.amazonaws.com", "tlsVersion": "TLSv1.3"}, "userAgent": "aws-sdk-go-v2/1.32.3 os/linux lang/go#1.23.1 md/GOOS#linux md/GOARCH#amd64 exec-env/grimoire_095724e3-1fa0-4e3e-b68a-e8581d194380 api/sts#1.26.2", "userIdentity": {"accessKeyId": "ASIASTJKC5GCM7ZE6LUP", "accountId": "742491224508", "arn": "arn:aws:sts::742491224508:federated-user/stratus_red_team", "principalId": "742491224508:stratus_red_team", "sessionContext": {"attributes": {"creationDate": "2024-11-30T08:43:17Z", "mfaAuthenticated": "false"}, "sessionIssuer": {"accountId": "742491224508", "arn": "arn:aws:iam::742491224508:user/stratus-red-team-user-federation-user", "principalId": "AIDAN7SEM6PEVTNQR8M4", "type": "IAMUser", "userName": "stratus-red-team-user-federation-user"}, "webIdFederationData": {}}, "type": "FederatedUser"}}
    """#

    /// An EventBridge envelope around a CloudTrail record.
    static let eventBridge = #"""
    {"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"111122223333","time":"2024-03-06T10:11:12Z","region":"us-east-1","resources":[],"detail":{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"alice"},"eventTime":"2024-03-06T10:11:12Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.5","userAgent":"[aws-cli/2.15.30]","requestParameters":{"bucketName":"acme-public-site","Host":"acme-public-site.s3.amazonaws.com","policy":""},"responseElements":null,"eventID":"e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}}
    """#

    /// Every good record, for tables and multi-record inputs.
    static let all: [(name: String, json: String)] = [
        ("rootConsoleLogin", rootConsoleLogin), ("rootNoArn", rootNoArn), ("iamUserLoginFailure", iamUserLoginFailure),
        ("iamUserAccessDeniedIPv6", iamUserAccessDeniedIPv6), ("assumedRole", assumedRole), ("awsService", awsService),
        ("s3GetObject", s3GetObject), ("awsAccountNoRecipient", awsAccountNoRecipient),
        ("consoleLoginNoMFA", consoleLoginNoMFA), ("federatedUser", federatedUser),
    ]

    /// A record with a given event id and time, for bulk inputs.
    static func record(_ n: Int, account: String = "111122223333") -> String {
        #"{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::"# + account
            + #":user/u\#(n % 7)","accountId":""# + account + #"","accessKeyId":"AKIAEXAMPLE\#(n % 3)"},"eventTime":"2024-04-01T00:00:\#(String(format: "%02d", n % 60))Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.\#(n % 250)","userAgent":"aws-cli/2.15.30","requestParameters":{"maxResults":\#(n)},"responseElements":null,"eventID":"00000000-0000-4000-8000-\#(String(format: "%012d", n))","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":""#
            + account + #"","eventCategory":"Management"}"#
    }

    static func eventID(_ n: Int) -> String { "00000000-0000-4000-8000-" + String(format: "%012d", n) }

    /// `{"Records":[...]}` of the given records, compact, as CloudTrail writes it.
    static func recordsDocument(_ records: [String]) -> String {
        #"{"Records":["# + records.joined(separator: ",") + "]}"
    }

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
}

// MARK: - Test helpers

func parse(_ text: String, file: String = "test.json") -> ParseOutput {
    CloudTrailParser.parse(bytes: Array(text.utf8), file: file)
}

func parse(_ bytes: [UInt8], file: String = "test.json") -> ParseOutput {
    CloudTrailParser.parse(bytes: bytes, file: file)
}

/// Reads a fixture with Foundation, as an independent oracle.
func oracle(_ json: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
}

/// RFC 3339 text to epoch milliseconds, with Foundation (independent of SecModel.Timestamp).
func oracleMillis(_ text: String) -> Int64? {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let d = f.date(from: text) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
    f.formatOptions = [.withInternetDateTime]
    return f.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
}

/// A unique temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("secingest-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Parses a whole input of a given format as the ingest pipeline does (a fresh
/// context; `account` stands for `--account`).
func parse(_ text: String, format: InputFormat, file: String = "test.json", account: String? = nil) -> ParseOutput {
    parse(Array(text.utf8), format: format, file: file, account: account)
}

func parse(_ bytes: [UInt8], format: InputFormat, file: String = "test.json", account: String? = nil) -> ParseOutput {
    bytes.withUnsafeBytes { IngestParser.parse(bytes: $0, file: file, format: format, account: account) }
}

/// Reads an input through ``InputReader`` in chunks of about `chunkSize` bytes and
/// parses them in order through one context, as the pipeline does.
func readAndParse(_ bytes: [UInt8], format: InputFormat, file: String = "test.json", chunkSize: Int) -> ParseOutput {
    let reader = InputReader(source: BytesSource(bytes), name: file, chunkSize: chunkSize)
    let context = ParseContext(file: file)
    var out = ParseOutput()
    while let chunk = reader.next() { out.append(IngestParser.parse(chunk: chunk, format: format, context: context)) }
    out.append(IngestParser.finish(format: format, context: context))
    return out
}

/// What every parse output must hold: each record candidate is an event or quarantined,
/// each event has its offset, and (when `sliced`) each event's `raw` is the input's
/// bytes at that offset.
func checkAccounting(_ out: ParseOutput, input: [UInt8], sliced: Bool = true,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(out.records == out.events.count + out.quarantined.count, sourceLocation: sourceLocation)
    #expect(out.eventOffsets.count == out.events.count, sourceLocation: sourceLocation)
    guard sliced else { return }
    for (ev, offset) in zip(out.events, out.eventOffsets) {
        let start = Int(offset)
        let ok = start >= 0 && start + ev.raw.count <= input.count && Array(input[start ..< start + ev.raw.count]) == ev.raw
        #expect(ok, "raw is not the input's bytes at offset \(offset)", sourceLocation: sourceLocation)
    }
}

/// A JSON string literal holding `text` (for documents carried in a string).
func jsonString(_ text: String) -> String {
    var out = "\""
    for ch in text.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out + "\""
}
