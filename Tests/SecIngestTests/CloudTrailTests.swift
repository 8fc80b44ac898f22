import Foundation
import SecModel
import Testing
@testable import SecIngest

/// Field-by-field checks of normalised events against what Foundation reads from the
/// same fixture: the oracle supplies the source values, the test states only the
/// mapping decisions (class, outcome, which field feeds the principal).
@Suite struct CloudTrailNormaliseTests {
    /// Parses one fixture; expects exactly one event.
    func event(_ json: String) throws -> Event {
        let out = parse(json)
        #expect(out.quarantined.isEmpty, "quarantined: \(out.quarantined.map(\.reason))")
        #expect(out.records == 1)
        return try #require(out.events.first)
    }

    /// The checks every fixture shares: values copied straight from the record.
    func checkCommon(_ ev: Event, _ json: String, sourceLine: SourceLocation = #_sourceLocation) {
        let r = oracle(json)
        let root = (r["detail"] as? [String: Any]) ?? r
        let ui = root["userIdentity"] as? [String: Any] ?? [:]
        #expect(ev.raw == Array(json.utf8), "raw must be the record's exact bytes", sourceLocation: sourceLine)
        #expect(ev.time == oracleMillis(root["eventTime"] as! String), sourceLocation: sourceLine)
        #expect(ev.account == (root["recipientAccountId"] as? String ?? ui["accountId"] as? String),
                sourceLocation: sourceLine)
        #expect(ev.source == .cloudtrail, sourceLocation: sourceLine)
        #expect(ev.region == root["awsRegion"] as? String, sourceLocation: sourceLine)
        #expect(ev.action == root["eventName"] as? String, sourceLocation: sourceLine)
        #expect(ev.service == root["eventSource"] as? String, sourceLocation: sourceLine)
        #expect(ev.userAgent == root["userAgent"] as? String, sourceLocation: sourceLine)
        #expect(ev.errorCode == root["errorCode"] as? String, sourceLocation: sourceLine)
        #expect(ev.eventID == root["eventID"] as? String, sourceLocation: sourceLine)
        #expect(ev.principalType == ui["type"] as? String, sourceLocation: sourceLine)
        let key = ui["accessKeyId"] as? String
        #expect(ev.accessKey == (key?.isEmpty == false ? key : nil), sourceLocation: sourceLine)
        let ip = root["sourceIPAddress"] as! String
        if let addr = IPAddress(ip) {
            #expect(ev.srcIP == addr && ev.srcService == nil, sourceLocation: sourceLine)
        } else {
            #expect(ev.srcService == ip && ev.srcIP == nil, sourceLocation: sourceLine)
        }
        #expect(ev.seq == 0 && ev.bank.isEmpty && ev.ou == nil, sourceLocation: sourceLine)
    }

    func identity(_ json: String) -> [String: Any] {
        let r = oracle(json)
        return ((r["detail"] as? [String: Any]) ?? r)["userIdentity"] as? [String: Any] ?? [:]
    }

    @Test func rootConsoleLoginWithMFA() throws {
        let json = Fixtures.rootConsoleLogin
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.principal == identity(json)["arn"] as? String)
        #expect(ev.eventClass == .authentication)
        #expect(ev.outcome == .success)
        #expect(ev.mfa == true)  // additionalEventData.MFAUsed "Yes"
        #expect(ev.accessKey == nil) // "" in the record
        #expect(ev.resource == nil && ev.resourceType == nil)
    }

    @Test func rootWithoutArnGetsAccountRootArn() throws {
        let json = Fixtures.rootNoArn
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.principal == "arn:aws:iam::\(identity(json)["accountId"] as! String):root")
        #expect(ev.eventClass == .accountChange) // iam CreateAccessKey
        #expect(ev.outcome == .success)
        #expect(ev.mfa == true) // sessionContext mfaAuthenticated "true"
        #expect(ev.time % 1000 == 512)
        let rp = oracle(json)["requestParameters"] as! [String: Any]
        #expect(ev.resource == rp["userName"] as? String)
        #expect(ev.resourceType == "AWS::IAM::User")
    }

    @Test func iamUserConsoleLoginFailure() throws {
        let json = Fixtures.iamUserLoginFailure
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.principal == identity(json)["arn"] as? String)
        #expect(ev.eventClass == .authentication)
        #expect(ev.outcome == .failure) // responseElements.ConsoleLogin "Failure", no errorCode
        #expect(ev.errorCode == nil)
        #expect(ev.mfa == false) // MFAUsed "No"
    }

    @Test func iamUserAccessDeniedFromIPv6() throws {
        let json = Fixtures.iamUserAccessDeniedIPv6
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.principal == identity(json)["arn"] as? String)
        #expect(ev.outcome == .failure)
        #expect(ev.errorCode == "AccessDenied")
        #expect(ev.eventClass == .accountChange) // a denied CreateUser is still an attempted change
        #expect(ev.srcIP?.isV4 == false)
        #expect(ev.srcIP?.description == "2001:db8:85a3::8a2e:370:7334")
        #expect(ev.mfa == nil)
    }

    @Test func assumedRoleWithSessionContext() throws {
        let json = Fixtures.assumedRole
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.principal == identity(json)["arn"] as? String)
        #expect(ev.eventClass == .apiActivity)
        #expect(ev.outcome == .success)
        #expect(ev.mfa == true)
        let res = (oracle(json)["resources"] as! [[String: Any]])[0]
        #expect(ev.resource == res["ARN"] as? String)
        #expect(ev.resourceType == res["type"] as? String)
    }

    @Test func awsServiceUsesInvokedBy() throws {
        let json = Fixtures.awsService
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.principal == identity(json)["invokedBy"] as? String)
        #expect(ev.srcService == "ec2.amazonaws.com")
        #expect(ev.srcIP == nil)
        #expect(ev.eventClass == .apiActivity) // plain AssumeRole is not a log-in
        #expect(ev.accessKey == nil)
    }

    @Test func s3DataEvent() throws {
        let json = Fixtures.s3GetObject
        let ev = try event(json)
        checkCommon(ev, json)
        let r = oracle(json)
        let rp = r["requestParameters"] as! [String: Any]
        let add = r["additionalEventData"] as! [String: Any]
        #expect(ev.resource == "\(rp["bucketName"] as! String)/\(rp["key"] as! String)")
        #expect(ev.resourceType == "AWS::S3::Object")
        #expect(ev.bytes == Int64((add["bytesTransferredIn"] as! Int) + (add["bytesTransferredOut"] as! Int)))
        #expect(ev.mfa == false)
        #expect(ev.srcIP?.isV4 == true)
        #expect(ev.time % 1000 == 250)
    }

    @Test func awsAccountWithoutRecipientAccount() throws {
        let json = Fixtures.awsAccountNoRecipient
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.account == identity(json)["accountId"] as? String)
        #expect(ev.principal == identity(json)["principalId"] as? String)
        #expect(ev.srcService == "AWS Internal")
        #expect(ev.resourceType == "AWS::KMS::Key")
    }

    @Test func consoleLoginWithoutMFA() throws {
        let json = Fixtures.consoleLoginNoMFA
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.eventClass == .authentication)
        #expect(ev.outcome == .success)
        #expect(ev.mfa == false)
        #expect(ev.principal == identity(json)["arn"] as? String)
    }

    @Test func federatedUser() throws {
        let json = Fixtures.federatedUser
        let ev = try event(json)
        checkCommon(ev, json)
        #expect(ev.principal == identity(json)["arn"] as? String)
        #expect(ev.principalType == "FederatedUser")
        #expect(ev.mfa == false)
    }

    @Test func eventBridgeEnvelope() throws {
        let json = Fixtures.eventBridge
        let ev = try event(json)
        checkCommon(ev, json) // reads the expected values from `detail`
        #expect(ev.principal == identity(json)["arn"] as? String)
        #expect(ev.resource == "acme-public-site")
        #expect(ev.resourceType == "AWS::S3::Bucket")
    }

    @Test(arguments: [
        ("signin.amazonaws.com", "CheckMfa", EventClass.authentication),
        ("signin.amazonaws.com", "SwitchRole", .authentication),
        ("signin.amazonaws.com", "GetSigninToken", .authentication),
        ("sts.amazonaws.com", "AssumeRoleWithSAML", .authentication),
        ("sts.amazonaws.com", "AssumeRole", .apiActivity),
        ("iam.amazonaws.com", "CreateUser", .accountChange),
        ("iam.amazonaws.com", "AttachRolePolicy", .accountChange),
        ("iam.amazonaws.com", "PutUserPolicy", .accountChange),
        ("iam.amazonaws.com", "CreateLoginProfile", .accountChange),
        ("iam.amazonaws.com", "DeactivateMFADevice", .accountChange),
        ("iam.amazonaws.com", "UpdateAccessKey", .accountChange),
        ("iam.amazonaws.com", "AddUserToGroup", .accountChange),
        ("iam.amazonaws.com", "ChangePassword", .accountChange),
        ("iam.amazonaws.com", "UpdateAssumeRolePolicy", .accountChange),
        ("iam.amazonaws.com", "GetUser", .apiActivity),
        ("iam.amazonaws.com", "ListRoles", .apiActivity),
        ("iam.amazonaws.com", "CreateSAMLProvider", .apiActivity),
        ("iam.amazonaws.com", "UploadServerCertificate", .apiActivity),
        ("ec2.amazonaws.com", "CreateUser", .apiActivity),
        ("s3.amazonaws.com", "ConsoleLogin", .authentication),
    ])
    func eventClass(source: String, name: String, expected: EventClass) {
        let json = #"{"eventTime":"2024-01-01T00:00:00Z","eventSource":""# + source + #"","eventName":""# + name
            + #"","recipientAccountId":"111122223333"}"#
        let out = parse(json)
        #expect(out.events.first?.eventClass == expected)
    }

    @Test func escapedStringsAreDecoded() throws {
        let json = #"{"eventTime":"2024-01-01T00:00:00Z","eventName":"Put\u004fbject","eventSource":"s3.amazonaws.com","recipientAccountId":"111122223333","userAgent":"tab\there \"quoted\" \u00e9 \ud83d\ude00 \u2028 end","requestParameters":{"bucketName":"b","key":"dir\/file name.txt"}}"#
        let ev = try event(json)
        let r = oracle(json)
        #expect(ev.action == "PutObject")
        #expect(ev.userAgent == r["userAgent"] as? String)
        #expect(ev.resource == "b/dir/file name.txt")
    }

    @Test func principalFallsBackToUserNameThenPrincipalId() throws {
        let noArn = #"{"eventTime":"2024-01-01T00:00:00Z","eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","userIdentity":{"type":"IAMUser","principalId":"AIDAX","accountId":"111122223333","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"},"errorMessage":"No username found in supplied account","responseElements":{"ConsoleLogin":"Failure"}}"#
        #expect(try event(noArn).principal == "HIDDEN_DUE_TO_SECURITY_REASONS")
        #expect(try event(noArn).outcome == .failure)
        let onlyId = #"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","userIdentity":{"type":"SAMLUser","principalId":"p-1:saml"},"recipientAccountId":"111122223333"}"#
        #expect(try event(onlyId).principal == "p-1:saml")
    }
}
