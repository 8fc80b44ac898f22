#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecModel

/// Turns one scanned CloudTrail record into an ``Event`` (the mapping below), or says
/// why it cannot.
///
/// ## Mapping
///
/// Fields are read from the record, or from `detail` of an EventBridge envelope
/// (`detail-type` "AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail",
/// "AWS Service Event via CloudTrail", ...; any `detail-type` ending in "via CloudTrail").
/// `raw` is always the whole record (the whole envelope), byte for byte. JSON `null`
/// and empty strings count as absent.
///
/// - `time`: `eventTime` (RFC 3339, ms); for envelopes, the envelope `time` when
///   `detail` has none. Missing: refused, `record has no eventTime`; unparsable:
///   `eventTime '...' is not RFC 3339`.
/// - `account`: `recipientAccountId`, else `userIdentity.accountId` (else the envelope's
///   `account`). None: refused, `record has no account (recipientAccountId or userIdentity.accountId)`.
/// - `region`: `awsRegion` (else the envelope's `region`); `source`: `.cloudtrail`.
/// - `class` (first match):
///   - `authentication`: `eventName` `ConsoleLogin` (any source); every event of
///     `signin.amazonaws.com` (ConsoleLogin, CheckMfa, SwitchRole, ExitRole, RenewRole,
///     GetSigninToken, PasswordRecovery*, CredentialChallenge, CredentialVerification,
///     UserAuthentication...: all steps of signing in to the console); the federated
///     log-ins of `sts.amazonaws.com`, `AssumeRoleWithSAML` and
///     `AssumeRoleWithWebIdentity`. Plain `AssumeRole`, `GetSessionToken` and
///     `GetFederationToken` stay `api_activity`: they are service-to-service credential
///     calls, far more frequent than log-ins.
///   - `account_change`: `iam.amazonaws.com` or `identitystore.amazonaws.com` calls
///     whose name starts with a changing verb (Create, Delete, Update, Attach, Detach,
///     Put, Add, Remove, Enable, Deactivate, Resync, Upload, Change, Set, Reset, Tag,
///     Untag) and names an identity object: User, Group, Role, AccessKey, LoginProfile,
///     MFADevice, Policy (policies, versions, inline and trust policies),
///     PermissionsBoundary, SSHPublicKey, SigningCertificate, ServiceSpecificCredential
///     or Password (ChangePassword, UpdateAccountPasswordPolicy). So CreateUser,
///     AttachRolePolicy, CreateAccessKey, DeactivateMFADevice, ChangePassword are account
///     changes; CreateSAMLProvider, UploadServerCertificate, CreateAccountAlias are not.
///   - otherwise `api_activity`.
/// - `action`: `eventName`; `service`: `eventSource`.
/// - `outcome`: `failure` when `errorCode` is present or `responseElements.ConsoleLogin`
///   is `Failure`, else `success`.
/// - `principal` by `userIdentity.type`: `Root`: `arn`, else `arn:aws:iam::<accountId>:root`;
///   `AWSService`: `invokedBy` (e.g. `ec2.amazonaws.com`), else as below; others: `arn`,
///   else `userName` (failed console log-ins, SAML and web-identity users), else
///   `principalId` (`AWSAccount` callers).
/// - `principal_type`: `userIdentity.type`; `access_key`: `userIdentity.accessKeyId`.
/// - `mfa`: `additionalEventData.MFAUsed` (`Yes`/`No`), else
///   `userIdentity.sessionContext.attributes.mfaAuthenticated` (`"true"`/`"false"`).
/// - `sourceIPAddress`: `src_ip` when it parses as an IPv4 or IPv6 address, else
///   `src_service` (`ec2.amazonaws.com`, `AWS Internal`).
/// - `user_agent`, `error_code`, `event_id`: `userAgent`, `errorCode`, `eventID`.
/// - `resource`, the most specific resource named, first found of:
///   `requestParameters.bucketName` (`bucket/key` when `requestParameters.key` is there),
///   `resources[0].ARN`, then `requestParameters` `userName`, `roleName`, `groupName`,
///   `policyArn`, `groupId`, `instanceId`, `trailName`, `secretId`, `functionName`,
///   `dBInstanceIdentifier`, `keyId`, `name`.
/// - `resource_type`: `resources[0].type` when present, else from the field that gave
///   the resource: `AWS::S3::Bucket` / `AWS::S3::Object`, `AWS::IAM::User`,
///   `AWS::IAM::Role`, `AWS::IAM::Group`, `AWS::IAM::Policy`, `AWS::EC2::SecurityGroup`,
///   `AWS::EC2::Instance`, `AWS::CloudTrail::Trail`, `AWS::SecretsManager::Secret`,
///   `AWS::Lambda::Function`, `AWS::RDS::DBInstance`, `AWS::KMS::Key` (none for `name`).
/// - `bytes`: `additionalEventData.bytesTransferredIn + bytesTransferredOut` (S3 data
///   events carry both: the request body uploaded plus the response body downloaded),
///   when either is present.
///
/// A record without `eventName` is refused: `not a CloudTrail record (no eventName)`.
final class CloudTrailNormaliser: JSONRecordNormaliser {
    let tape = TapeReader()
    var scanner: JSONScanner { tape.scanner }

    static let layout = JSONLayout(
        recordName: "CloudTrail record", documentKeys: ["Records"], documentFirstKeys: ["Records"],
        recordStartKeys: ["eventVersion"],
        recordKeys: [
            "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
            "userAgent", "requestParameters", "responseElements", "additionalEventData", "requestID", "eventID",
            "readOnly", "resources", "eventType", "apiVersion", "managementEvent", "recipientAccountId",
            "sharedEventID", "vpcEndpointId", "eventCategory", "tlsDetails", "errorCode", "errorMessage",
            "serviceEventDetails", "sessionCredentialFromConsole",
        ])

    /// Indexes (on the scanner's tape) of the fields the mapping reads; -1 when absent.
    private struct Fields {
        var time = -1, name = -1, source = -1, region = -1, recipient = -1, identity = -1
        var ip = -1, agent = -1, error = -1, id = -1, request = -1, response = -1, additional = -1
        var resources = -1, records = -1, detailType = -1, detail = -1
        var envAccount = -1, envRegion = -1, envTime = -1
    }

    /// Reads the members of object `obj` the mapping needs.
    private func collect(_ obj: Int) -> Fields {
        var f = Fields()
        tape.forEachMember(obj) { key, i in assign(&f, key: key, index: i) }
        return f
    }

    @inline(__always)
    private func assign(_ f: inout Fields, key k: UnsafeRawBufferPointer, index i: Int) {
        @inline(__always) func set(_ slot: inout Int) { if slot < 0 { slot = i } }
        switch k.count {
        case 4: if TapeReader.eq(k, "time") { set(&f.envTime) }
        case 6:
            if TapeReader.eq(k, "detail") { set(&f.detail) } else if TapeReader.eq(k, "region") { set(&f.envRegion) }
        case 7:
            if TapeReader.eq(k, "eventID") { set(&f.id) } else if TapeReader.eq(k, "Records") { set(&f.records) }
            else if TapeReader.eq(k, "account") { set(&f.envAccount) }
        case 9:
            if TapeReader.eq(k, "eventTime") { set(&f.time) } else if TapeReader.eq(k, "eventName") { set(&f.name) }
            else if TapeReader.eq(k, "awsRegion") { set(&f.region) } else if TapeReader.eq(k, "errorCode") { set(&f.error) }
            else if TapeReader.eq(k, "userAgent") { set(&f.agent) } else if TapeReader.eq(k, "resources") { set(&f.resources) }
        case 11:
            if TapeReader.eq(k, "eventSource") { set(&f.source) } else if TapeReader.eq(k, "detail-type") { set(&f.detailType) }
        case 12: if TapeReader.eq(k, "userIdentity") { set(&f.identity) }
        case 15: if TapeReader.eq(k, "sourceIPAddress") { set(&f.ip) }
        case 16: if TapeReader.eq(k, "responseElements") { set(&f.response) }
        case 17: if TapeReader.eq(k, "requestParameters") { set(&f.request) }
        case 18: if TapeReader.eq(k, "recipientAccountId") { set(&f.recipient) }
        case 19: if TapeReader.eq(k, "additionalEventData") { set(&f.additional) }
        default: break
        }
    }

    // MARK: - Records

    /// Normalises the record the scanner has just scanned from `record`, appending the
    /// event to `events`. The record's own account is the only one taken: `context` is
    /// not consulted.
    func normalise(_ record: UnsafeRawBufferPointer, context: ParseContext,
                   into events: inout [Event]) -> JSONRecordResult {
        guard scanner.count > 0, scanner[0].kind == .object else {
            return .refused("not a CloudTrail record (not a JSON object)")
        }
        var f = collect(0)
        var envAccount = -1, envRegion = -1, envTime = -1
        if f.detailType >= 0 && f.name < 0 {
            let fromCloudTrail = scanner[f.detailType].kind == .string
                && tape.withText(f.detailType) { b in b.count >= 14 && TapeReader.eq(UnsafeRawBufferPointer(rebasing: b[(b.count - 14)...]), "via CloudTrail") }
            guard fromCloudTrail else { return .refused("not a CloudTrail record (EventBridge event not from CloudTrail)") }
            guard f.detail >= 0, scanner[f.detail].kind == .object else {
                return .refused("not a CloudTrail record (EventBridge event has no detail object)")
            }
            envAccount = f.envAccount
            envRegion = f.envRegion
            envTime = f.envTime
            f = collect(f.detail)
        }
        guard f.name >= 0, scanner[f.name].kind != .null else {
            if f.records >= 0 && scanner[f.records].kind == .array { return .document }
            return .refused("not a CloudTrail record (no eventName)")
        }
        guard tape.isText(f.name) else { return .refused("not a CloudTrail record (eventName is not a non-empty string)") }

        // time
        var timeIndex = f.time
        if timeIndex < 0 || scanner[timeIndex].kind == .null { timeIndex = envTime }
        guard timeIndex >= 0, scanner[timeIndex].kind != .null else { return .refused("record has no eventTime") }
        guard let time = tape.time(timeIndex) else { return .refused("eventTime '\(tape.quotedValue(timeIndex))' is not RFC 3339") }

        // account
        let identity = scanner[max(f.identity, 0)].kind == .object && f.identity >= 0 ? f.identity : -1
        let identityAccount = scanner.member(identity, "accountId")
        guard let account = tape.text(f.recipient) ?? tape.text(identityAccount) ?? tape.text(envAccount) else {
            return .refused("record has no account (recipientAccountId or userIdentity.accountId)")
        }

        let cls = tape.withText(f.name) { name in
            f.source >= 0 && scanner[f.source].kind == .string
                ? tape.withOtherText(f.source) { CloudTrailNormaliser.classify(source: $0, name: name) }
                : CloudTrailNormaliser.classify(source: UnsafeRawBufferPointer(start: nil, count: 0), name: name)
        }
        var ev = Event(time: time, account: account, source: .cloudtrail, eventClass: cls, raw: Array(record))
        ev.region = tape.text(f.region) ?? tape.text(envRegion)
        ev.action = tape.text(f.name)
        ev.service = tape.text(f.source)
        ev.userAgent = tape.text(f.agent)
        ev.errorCode = tape.text(f.error)
        ev.eventID = tape.uniqueText(f.id)
        let consoleFailure = tape.textIs(scanner.member(f.response, "ConsoleLogin"), "Failure")
        ev.outcome = ev.errorCode != nil || consoleFailure ? .failure : .success

        if identity >= 0 { applyIdentity(identity, account: account, to: &ev) }
        if f.additional >= 0 && scanner[f.additional].kind == .object {
            let mfaUsed = scanner.member(f.additional, "MFAUsed")
            if tape.textIs(mfaUsed, "Yes") { ev.mfa = true } else if tape.textIs(mfaUsed, "No") { ev.mfa = false }
            let inBytes = tape.integer(scanner.member(f.additional, "bytesTransferredIn"))
            let outBytes = tape.integer(scanner.member(f.additional, "bytesTransferredOut"))
            if inBytes != nil || outBytes != nil { ev.bytes = (inBytes ?? 0) &+ (outBytes ?? 0) }
        }
        switch tape.addressOrService(f.ip) {
        case .ip(let a)?: ev.srcIP = a
        case .service(let s)?: ev.srcService = s
        case nil: break
        }
        applyResource(request: f.request, resources: f.resources, to: &ev)
        events.append(ev)
        return .events
    }

    private func applyIdentity(_ ui: Int, account: String, to ev: inout Event) {
        var type = -1, arn = -1, principalId = -1, userName = -1, accountId = -1, accessKey = -1
        var invokedBy = -1, session = -1
        tape.forEachMember(ui) { k, i in
            @inline(__always) func set(_ slot: inout Int) { if slot < 0 { slot = i } }
            switch k.count {
            case 3: if TapeReader.eq(k, "arn") { set(&arn) }
            case 4: if TapeReader.eq(k, "type") { set(&type) }
            case 8: if TapeReader.eq(k, "userName") { set(&userName) }
            case 9: if TapeReader.eq(k, "accountId") { set(&accountId) } else if TapeReader.eq(k, "invokedBy") { set(&invokedBy) }
            case 11: if TapeReader.eq(k, "principalId") { set(&principalId) } else if TapeReader.eq(k, "accessKeyId") { set(&accessKey) }
            case 14: if TapeReader.eq(k, "sessionContext") { set(&session) }
            default: break
            }
        }
        ev.principalType = tape.text(type)
        ev.accessKey = tape.text(accessKey)
        switch ev.principalType {
        case "Root":
            ev.principal = tape.text(arn) ?? "arn:aws:iam::\(tape.text(accountId) ?? account):root"
        case "AWSService":
            ev.principal = tape.text(invokedBy) ?? tape.text(arn) ?? tape.text(userName) ?? tape.text(principalId)
        default:
            ev.principal = tape.text(arn) ?? tape.text(userName) ?? tape.text(principalId)
        }
        if ev.mfa == nil {
            let attrs = scanner.member(session, "attributes")
            let m = scanner.member(attrs, "mfaAuthenticated")
            if m >= 0 {
                switch scanner[m].kind {
                case .true: ev.mfa = true
                case .false: ev.mfa = false
                case .string:
                    if tape.textIs(m, "true") { ev.mfa = true } else if tape.textIs(m, "false") { ev.mfa = false }
                default: break
                }
            }
        }
    }

    /// `requestParameters` members that name a resource, most specific first, with the
    /// resource type each implies.
    private static let resourceParameters: [(StaticString, String?)] = [
        ("userName", "AWS::IAM::User"), ("roleName", "AWS::IAM::Role"), ("groupName", "AWS::IAM::Group"),
        ("policyArn", "AWS::IAM::Policy"), ("groupId", "AWS::EC2::SecurityGroup"),
        ("instanceId", "AWS::EC2::Instance"), ("trailName", "AWS::CloudTrail::Trail"),
        ("secretId", "AWS::SecretsManager::Secret"), ("functionName", "AWS::Lambda::Function"),
        ("dBInstanceIdentifier", "AWS::RDS::DBInstance"), ("keyId", "AWS::KMS::Key"), ("name", nil),
    ]

    private func applyResource(request rp: Int, resources: Int, to ev: inout Event) {
        let first = scanner.element(resources, 0)
        let firstType = tape.text(scanner.member(first, "type"))
        let request = rp >= 0 && scanner[rp].kind == .object ? rp : -1
        if request >= 0 {
            let bucket = scanner.member(request, "bucketName")
            if let b = tape.text(bucket) {
                if let key = tape.uniqueText(scanner.member(request, "key")) {
                    ev.resource = b + "/" + key
                    ev.resourceType = firstType ?? "AWS::S3::Object"
                } else {
                    ev.resource = b
                    ev.resourceType = firstType ?? "AWS::S3::Bucket"
                }
                return
            }
        }
        var arn = scanner.member(first, "ARN")
        if arn < 0 { arn = scanner.member(first, "arn") }
        if let a = tape.text(arn) {
            ev.resource = a
            ev.resourceType = firstType
            return
        }
        guard request >= 0 else { return }
        for (key, type) in CloudTrailNormaliser.resourceParameters {
            if let v = tape.text(scanner.member(request, key)) {
                ev.resource = v
                ev.resourceType = firstType ?? type
                return
            }
        }
    }

    // MARK: - Classes

    private static let changeVerbs: [StaticString] = [
        "Create", "Delete", "Update", "Attach", "Detach", "Put", "Add", "Remove", "Enable", "Deactivate",
        "Resync", "Upload", "Change", "Set", "Reset", "Tag", "Untag",
    ]
    private static let identityNouns: [StaticString] = [
        "User", "Group", "Role", "AccessKey", "LoginProfile", "MFADevice", "Policy", "PermissionsBoundary",
        "SSHPublicKey", "SigningCertificate", "ServiceSpecificCredential", "Password",
    ]

    /// The event class of a CloudTrail call (see the type's documentation).
    static func classify(source: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer) -> EventClass {
        @inline(__always) func isSource(_ s: StaticString) -> Bool {
            source.count == s.utf8CodeUnitCount && TapeReader.eq(source, s)
        }
        @inline(__always) func isName(_ s: StaticString) -> Bool {
            name.count == s.utf8CodeUnitCount && TapeReader.eq(name, s)
        }
        if isName("ConsoleLogin") { return .authentication }
        switch source.count {
        case 20 where isSource("signin.amazonaws.com"):
            return .authentication
        case 17 where isSource("sts.amazonaws.com"):
            if isName("AssumeRoleWithSAML") || isName("AssumeRoleWithWebIdentity") { return .authentication }
        case 17 where isSource("iam.amazonaws.com"), 27 where isSource("identitystore.amazonaws.com"):
            if isIdentityChange(name) { return .accountChange }
        default: break
        }
        return .apiActivity
    }

    /// Whether an IAM call name changes an identity object (see the type's documentation).
    static func isIdentityChange(_ name: UnsafeRawBufferPointer) -> Bool {
        if name.count == 14 && TapeReader.eq(name, "ChangePassword") { return true }
        for verb in changeVerbs {
            let v = verb.utf8CodeUnitCount
            guard name.count > v, TapeReader.eq(name, verb), name[v] >= 0x41 && name[v] <= 0x5A else { continue }
            let rest = UnsafeRawBufferPointer(rebasing: name[v...])
            return identityNouns.contains { noun in
                let m = noun.utf8CodeUnitCount
                guard rest.count >= m else { return false }
                for k in 0 ... rest.count - m where memcmp(rest.baseAddress! + k, noun.utf8Start, m) == 0 { return true }
                return false
            }
        }
        return false
    }
}
