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
final class CloudTrailNormaliser {
    let scanner = JSONScanner()
    // Exclusivity checks are off here for speed, as in JSONScanner: one thread at a
    // time, and `scratch` and `keyScratch` are never both borrowed by the same call.
    @exclusivity(unchecked) private var strings = StringInterner()
    @exclusivity(unchecked) private var addresses = AddressCache()
    @exclusivity(unchecked) private var scratch: [UInt8] = []
    @exclusivity(unchecked) private var keyScratch: [UInt8] = []

    enum Result {
        /// The event was appended to the caller's array.
        case event
        case refused(String)
        /// The object is a `{"Records":[...]}` document, not a record.
        case recordsDocument
    }

    /// Indexes (on the scanner's tape) of the fields the mapping reads; -1 when absent.
    private struct Fields {
        var time = -1, name = -1, source = -1, region = -1, recipient = -1, identity = -1
        var ip = -1, agent = -1, error = -1, id = -1, request = -1, response = -1, additional = -1
        var resources = -1, records = -1, detailType = -1, detail = -1
        var envAccount = -1, envRegion = -1, envTime = -1
    }

    @inline(__always) private static func eq(_ k: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        memcmp(k.baseAddress!, s.utf8Start, s.utf8CodeUnitCount) == 0
    }

    /// Calls `body` with each member's key (unescaped) and tape index, in order.
    @inline(__always)
    private func forEachMember(_ obj: Int, _ body: (UnsafeRawBufferPointer, Int) -> Void) {
        let s = scanner
        var i = obj + 1
        let end = Int(s[obj].next)
        while i < end {
            let e = s[i]
            let key = UnsafeRawBufferPointer(start: s.base + Int(e.keyStart), count: Int(e.keyEnd - e.keyStart))
            if e.flags & JSONScanner.keyEscaped != 0 {
                keyScratch.removeAll(keepingCapacity: true)
                JSONScanner.unescape(key, into: &keyScratch)
                let copy = keyScratch
                copy.withUnsafeBytes { body($0, i) }
            } else {
                body(key, i)
            }
            i = Int(e.next)
        }
    }

    /// Reads the members of object `obj` the mapping needs.
    private func collect(_ obj: Int) -> Fields {
        var f = Fields()
        forEachMember(obj) { key, i in assign(&f, key: key, index: i) }
        return f
    }

    @inline(__always)
    private func assign(_ f: inout Fields, key k: UnsafeRawBufferPointer, index i: Int) {
        @inline(__always) func set(_ slot: inout Int) { if slot < 0 { slot = i } }
        switch k.count {
        case 4: if Self.eq(k, "time") { set(&f.envTime) }
        case 6:
            if Self.eq(k, "detail") { set(&f.detail) } else if Self.eq(k, "region") { set(&f.envRegion) }
        case 7:
            if Self.eq(k, "eventID") { set(&f.id) } else if Self.eq(k, "Records") { set(&f.records) }
            else if Self.eq(k, "account") { set(&f.envAccount) }
        case 9:
            if Self.eq(k, "eventTime") { set(&f.time) } else if Self.eq(k, "eventName") { set(&f.name) }
            else if Self.eq(k, "awsRegion") { set(&f.region) } else if Self.eq(k, "errorCode") { set(&f.error) }
            else if Self.eq(k, "userAgent") { set(&f.agent) } else if Self.eq(k, "resources") { set(&f.resources) }
        case 11:
            if Self.eq(k, "eventSource") { set(&f.source) } else if Self.eq(k, "detail-type") { set(&f.detailType) }
        case 12: if Self.eq(k, "userIdentity") { set(&f.identity) }
        case 15: if Self.eq(k, "sourceIPAddress") { set(&f.ip) }
        case 16: if Self.eq(k, "responseElements") { set(&f.response) }
        case 17: if Self.eq(k, "requestParameters") { set(&f.request) }
        case 18: if Self.eq(k, "recipientAccountId") { set(&f.recipient) }
        case 19: if Self.eq(k, "additionalEventData") { set(&f.additional) }
        default: break
        }
    }

    // MARK: - Values

    /// Whether entry `i` is a non-empty string.
    @inline(__always) private func isText(_ i: Int) -> Bool {
        i >= 0 && scanner[i].kind == .string && scanner[i].end > scanner[i].start
    }

    /// The string at `i`, from the interner; nil unless a non-empty string.
    @inline(__always) private func text(_ i: Int) -> String? {
        guard isText(i) else { return nil }
        if scanner[i].flags & JSONScanner.stringEscaped == 0 { return strings.intern(scanner.bytes(i)) }
        scratch.removeAll(keepingCapacity: true)
        JSONScanner.unescape(scanner.bytes(i), into: &scratch)
        return scratch.withUnsafeBytes { strings.intern($0) }
    }

    /// The string at `i`, not cached (values unique to a record).
    @inline(__always) private func uniqueText(_ i: Int) -> String? {
        guard isText(i) else { return nil }
        if scanner[i].flags & JSONScanner.stringEscaped == 0 {
            return String(decoding: scanner.bytes(i), as: UTF8.self)
        }
        return decoded(i)
    }

    private func decoded(_ i: Int) -> String {
        scratch.removeAll(keepingCapacity: true)
        JSONScanner.unescape(scanner.bytes(i), into: &scratch)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// Calls `body` with the (unescaped) bytes of string entry `i`.
    @inline(__always) private func withText<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        scanner.withStringBytes(i, scratch: &scratch, body)
    }

    /// Whether string entry `i` is exactly `s`.
    @inline(__always) private func textIs(_ i: Int, _ s: StaticString) -> Bool {
        guard i >= 0, scanner[i].kind == .string else { return false }
        return withText(i) { b in b.count == s.utf8CodeUnitCount && Self.eq(b, s) }
    }

    /// The number at `i` as an integer (fractions truncated).
    private func integer(_ i: Int) -> Int64? {
        guard i >= 0, scanner[i].kind == .number else { return nil }
        let b = scanner.bytes(i)
        var v: Int64 = 0
        var neg = false
        var k = 0
        if b[0] == 0x2D { neg = true; k = 1 }
        var plain = true
        while k < b.count {
            let d = b[k] &- 0x30
            if d >= 10 { plain = false; break }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { plain = false; break }
            v = a
            k += 1
        }
        if plain { return neg ? -v : v }
        guard let d = Double(String(decoding: b, as: UTF8.self)), d.isFinite, abs(d) < 9.2e18 else { return nil }
        return Int64(d)
    }

    // MARK: - Records

    /// Normalises the record the scanner has just scanned from `record`, appending the
    /// event to `events`.
    func normalise(_ record: UnsafeRawBufferPointer, into events: inout [Event]) -> Result {
        guard scanner.count > 0, scanner[0].kind == .object else {
            return .refused("not a CloudTrail record (not a JSON object)")
        }
        var f = collect(0)
        var envAccount = -1, envRegion = -1, envTime = -1
        if f.detailType >= 0 && f.name < 0 {
            let fromCloudTrail = scanner[f.detailType].kind == .string
                && withText(f.detailType) { b in b.count >= 14 && Self.eq(UnsafeRawBufferPointer(rebasing: b[(b.count - 14)...]), "via CloudTrail") }
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
            if f.records >= 0 && scanner[f.records].kind == .array { return .recordsDocument }
            return .refused("not a CloudTrail record (no eventName)")
        }
        guard isText(f.name) else { return .refused("not a CloudTrail record (eventName is not a non-empty string)") }

        // time
        var timeIndex = f.time
        if timeIndex < 0 || scanner[timeIndex].kind == .null { timeIndex = envTime }
        guard timeIndex >= 0, scanner[timeIndex].kind != .null else { return .refused("record has no eventTime") }
        let time: Int64? = scanner[timeIndex].kind == .string ? withText(timeIndex) { Timestamp.parse($0) } : nil
        guard let time else { return .refused("eventTime '\(quotedValue(timeIndex))' is not RFC 3339") }

        // account
        let identity = scanner[max(f.identity, 0)].kind == .object && f.identity >= 0 ? f.identity : -1
        let identityAccount = scanner.member(identity, "accountId")
        guard let account = text(f.recipient) ?? text(identityAccount) ?? text(envAccount) else {
            return .refused("record has no account (recipientAccountId or userIdentity.accountId)")
        }

        let cls = withText(f.name) { name in
            f.source >= 0 && scanner[f.source].kind == .string
                ? withSourceBytes(f.source) { CloudTrailNormaliser.classify(source: $0, name: name) }
                : CloudTrailNormaliser.classify(source: UnsafeRawBufferPointer(start: nil, count: 0), name: name)
        }
        var ev = Event(time: time, account: account, source: .cloudtrail, eventClass: cls, raw: Array(record))
        ev.region = text(f.region) ?? text(envRegion)
        ev.action = text(f.name)
        ev.service = text(f.source)
        ev.userAgent = text(f.agent)
        ev.errorCode = text(f.error)
        ev.eventID = uniqueText(f.id)
        let consoleFailure = textIs(scanner.member(f.response, "ConsoleLogin"), "Failure")
        ev.outcome = ev.errorCode != nil || consoleFailure ? .failure : .success

        if identity >= 0 { applyIdentity(identity, account: account, to: &ev) }
        if f.additional >= 0 && scanner[f.additional].kind == .object {
            let mfaUsed = scanner.member(f.additional, "MFAUsed")
            if textIs(mfaUsed, "Yes") { ev.mfa = true } else if textIs(mfaUsed, "No") { ev.mfa = false }
            let inBytes = integer(scanner.member(f.additional, "bytesTransferredIn"))
            let outBytes = integer(scanner.member(f.additional, "bytesTransferredOut"))
            if inBytes != nil || outBytes != nil { ev.bytes = (inBytes ?? 0) &+ (outBytes ?? 0) }
        }
        if isText(f.ip) {
            switch withText(f.ip, { addresses.parse($0) }) {
            case .ip(let a): ev.srcIP = a
            case .service(let s): ev.srcService = s
            }
        }
        applyResource(request: f.request, resources: f.resources, to: &ev)
        events.append(ev)
        return .event
    }

    /// The value at `i` for a refusal reason: at most 40 characters, printable ASCII.
    private func quotedValue(_ i: Int) -> String {
        let b = scanner[i].kind == .string ? scanner.bytes(i) : scanner.rawText(i)
        var out = ""
        for c in b.prefix(40) {
            out.unicodeScalars.append(c >= 0x20 && c < 0x7F && c != 0x27 ? Unicode.Scalar(c) : "?")
        }
        return b.count > 40 ? out + "..." : out
    }

    private func withSourceBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        // A second scratch: `name` may live in the first one.
        let b = scanner.bytes(i)
        if scanner[i].flags & JSONScanner.stringEscaped == 0 { return body(b) }
        keyScratch.removeAll(keepingCapacity: true)
        JSONScanner.unescape(b, into: &keyScratch)
        return keyScratch.withUnsafeBytes(body)
    }

    private func applyIdentity(_ ui: Int, account: String, to ev: inout Event) {
        var type = -1, arn = -1, principalId = -1, userName = -1, accountId = -1, accessKey = -1
        var invokedBy = -1, session = -1
        forEachMember(ui) { k, i in
            @inline(__always) func set(_ slot: inout Int) { if slot < 0 { slot = i } }
            switch k.count {
            case 3: if Self.eq(k, "arn") { set(&arn) }
            case 4: if Self.eq(k, "type") { set(&type) }
            case 8: if Self.eq(k, "userName") { set(&userName) }
            case 9: if Self.eq(k, "accountId") { set(&accountId) } else if Self.eq(k, "invokedBy") { set(&invokedBy) }
            case 11: if Self.eq(k, "principalId") { set(&principalId) } else if Self.eq(k, "accessKeyId") { set(&accessKey) }
            case 14: if Self.eq(k, "sessionContext") { set(&session) }
            default: break
            }
        }
        ev.principalType = text(type)
        ev.accessKey = text(accessKey)
        switch ev.principalType {
        case "Root":
            ev.principal = text(arn) ?? "arn:aws:iam::\(text(accountId) ?? account):root"
        case "AWSService":
            ev.principal = text(invokedBy) ?? text(arn) ?? text(userName) ?? text(principalId)
        default:
            ev.principal = text(arn) ?? text(userName) ?? text(principalId)
        }
        if ev.mfa == nil {
            let attrs = scanner.member(session, "attributes")
            let m = scanner.member(attrs, "mfaAuthenticated")
            if m >= 0 {
                switch scanner[m].kind {
                case .true: ev.mfa = true
                case .false: ev.mfa = false
                case .string:
                    if textIs(m, "true") { ev.mfa = true } else if textIs(m, "false") { ev.mfa = false }
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
        let firstType = text(scanner.member(first, "type"))
        let request = rp >= 0 && scanner[rp].kind == .object ? rp : -1
        if request >= 0 {
            let bucket = scanner.member(request, "bucketName")
            if let b = text(bucket) {
                if let key = uniqueText(scanner.member(request, "key")) {
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
        if let a = text(arn) {
            ev.resource = a
            ev.resourceType = firstType
            return
        }
        guard request >= 0 else { return }
        for (key, type) in CloudTrailNormaliser.resourceParameters {
            if let v = text(scanner.member(request, key)) {
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
            source.count == s.utf8CodeUnitCount && eq(source, s)
        }
        @inline(__always) func isName(_ s: StaticString) -> Bool {
            name.count == s.utf8CodeUnitCount && eq(name, s)
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
        if name.count == 14 && eq(name, "ChangePassword") { return true }
        for verb in changeVerbs {
            let v = verb.utf8CodeUnitCount
            guard name.count > v, eq(name, verb), name[v] >= 0x41 && name[v] <= 0x5A else { continue }
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
