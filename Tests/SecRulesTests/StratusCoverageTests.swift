import Foundation
import SecDetect
import SecIngest
import SecModel
import Testing
@testable import SecRules

/// The Stratus Red Team table (tools/stratus-expected.json, docs/detection.md) and the
/// detectors that cover it: every technique's detonation records, through the CloudTrail
/// parser and every built-in detector and rule file, give exactly the listed types; and
/// each detector added for it fires on a positive and stays quiet on near misses.
@Suite struct StratusCoverageTests {
    static let repo: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0 ..< 3 { url.deleteLastPathComponent() }
        return url
    }()

    /// technique -> expected types (empty: not covered), and the not-covered reasons.
    static func expected() throws -> (types: [String: [String]], reasons: [String: String]) {
        let data = try Data(contentsOf: repo.appendingPathComponent("tools/stratus-expected.json"))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let techniques = try #require(doc["techniques"] as? [String: [String: Any]])
        var types: [String: [String]] = [:], reasons: [String: String] = [:]
        for (t, v) in techniques {
            if let f = v["findings"] as? [String] {
                #expect(!f.isEmpty, "\(t): an empty findings list; write not_covered with a reason")
                types[t] = f.sorted()
            } else {
                let why = try #require(v["not_covered"] as? String, "\(t): neither findings nor not_covered")
                #expect(!why.isEmpty)
                types[t] = []
                reasons[t] = why
            }
        }
        return (types, reasons)
    }

    /// What `secq detect` runs by default: the Swift built-ins and the built-in rule files.
    static func allDetectors() -> DetectorSet {
        DetectorSet(BuiltInDetectors.all(intel: nil) + RuleSet.detectors())
    }

    static func findingTypes(_ events: [Event]) -> Set<String> {
        var set = allDetectors()
        var out: Set<String> = []
        for (i, var e) in events.enumerated() {
            e.seq = UInt64(i + 1)
            for d in set.observe(e) { out.insert(d.type.description) }
        }
        return out
    }

    @Test func docTableIsTheExpectedFile() throws {
        let (types, reasons) = try Self.expected()
        let doc = try String(contentsOf: Self.repo.appendingPathComponent("docs/detection.md"), encoding: .utf8)
        let begin = try #require(doc.range(of: "<!-- stratus-table:"))
        let end = try #require(doc.range(of: "<!-- /stratus-table -->"))
        var rows: [String: String] = [:]
        for line in doc[begin.upperBound ..< end.lowerBound].split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            rows[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells[1]
        }
        #expect(rows.count == types.count, "docs/detection.md's table differs from tools/stratus-expected.json: run tools/stratus-table --write")
        for (t, want) in types {
            let cell = want.isEmpty ? "not covered: " + reasons[t]! : want.joined(separator: ", ")
            #expect(rows[t] == cell, "\(t): docs/detection.md says \(rows[t] ?? "nothing"); run tools/stratus-table --write")
        }
    }

    @Test func everyDetonationGivesItsFindings() throws {
        let (types, _) = try Self.expected()
        guard let dir = corpus("stratus-red-team/detonation-logs") else { return }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == Set(types.keys), "every detonation log has a row, and every row a log")
        var covered = 0
        for (t, want) in types.sorted(by: { $0.key < $1.key }) {
            let data = try Data(contentsOf: dir.appendingPathComponent(t + ".json"))
            let out = CloudTrailParser.parse(bytes: Array(data), file: t + ".json")
            #expect(!out.events.isEmpty && out.quarantined.isEmpty, "\(t): \(out.events.count) events, \(out.quarantined.count) quarantined")
            let events = out.events.map { var e = $0; e.bank = "acme"; return e }
            let got = Self.findingTypes(events)
            #expect(got == Set(want), "\(t): expected \(want), got \(got.sorted())")
            if !want.isEmpty { covered += 1 }
        }
        print("Stratus Red Team: \(covered) of \(types.count) techniques covered")
    }

    // MARK: - Each detector: positive and near misses

    static func hits(_ events: [Event]) -> [String] {
        var set = allDetectors()
        var out: [String] = []
        for (i, var e) in events.enumerated() {
            e.seq = UInt64(i + 1)
            out += set.observe(e).map(\.type.description)
        }
        return out
    }

    static func ec2(_ name: String, _ params: String, seconds: Int = 0, error: String? = nil) -> Event {
        ct(name, source: "ec2.amazonaws.com", params: params, seconds: seconds, error: error)
    }

    @Test func snapshotAndImageSharing() {
        let snap = #"{"attributeType":"CREATE_VOLUME_PERMISSION","snapshotId":"snap-1","createVolumePermission":{"add":{"items":[{"userId":"098797384747"}]}}}"#
        #expect(Self.hits([Self.ec2("ModifySnapshotAttribute", snap)]) == ["Exfiltration:EC2/SnapshotSharedWithAccount.Custom"])
        let snapAll = #"{"attributeType":"CREATE_VOLUME_PERMISSION","snapshotId":"snap-1","createVolumePermission":{"add":{"items":[{"group":"all"}]}}}"#
        #expect(Self.hits([Self.ec2("ModifySnapshotAttribute", snapAll)]) == ["Exfiltration:EC2/SnapshotSharedPublicly.Custom"])
        let snapRemove = #"{"attributeType":"CREATE_VOLUME_PERMISSION","snapshotId":"snap-1","createVolumePermission":{"remove":{"items":[{"userId":"098797384747"}]}}}"#
        #expect(Self.hits([Self.ec2("ModifySnapshotAttribute", snapRemove), Self.ec2("ModifySnapshotAttribute", snap, error: "Client.UnauthorizedOperation"),
                           Self.ec2("DescribeSnapshotAttribute", snap)]).isEmpty)

        let ami = #"{"attributeType":"launchPermission","imageId":"ami-1","launchPermission":{"add":{"items":[{"userId":"846424999548"}]}}}"#
        #expect(Self.hits([Self.ec2("ModifyImageAttribute", ami)]) == ["Exfiltration:EC2/AMISharedWithAccount.Custom"])
        let amiAll = #"{"attributeType":"launchPermission","imageId":"ami-1","launchPermission":{"add":{"items":[{"group":"all"}]}}}"#
        #expect(Self.hits([Self.ec2("ModifyImageAttribute", amiAll)]) == ["Exfiltration:EC2/AMISharedPublicly.Custom"])
        let amiDesc = #"{"imageId":"ami-1","description":{"value":"web"}}"#
        #expect(Self.hits([Self.ec2("ModifyImageAttribute", amiDesc)]).isEmpty)

        func rds(_ p: String, _ name: String = "ModifyDBSnapshotAttribute") -> Event { ct(name, source: "rds.amazonaws.com", params: p) }
        #expect(Self.hits([rds(#"{"attributeName":"restore","dBSnapshotIdentifier":"x","valuesToAdd":["503161813013"]}"#)])
            == ["Exfiltration:RDS/SnapshotSharedWithAccount.Custom"])
        #expect(Self.hits([rds(#"{"attributeName":"restore","dBClusterSnapshotIdentifier":"x","valuesToAdd":["all"]}"#, "ModifyDBClusterSnapshotAttribute")])
            == ["Exfiltration:RDS/SnapshotSharedPublicly.Custom"])
        #expect(Self.hits([rds(#"{"attributeName":"restore","dBSnapshotIdentifier":"x","valuesToRemove":["503161813013"]}"#)]).isEmpty)
    }

    @Test func loggingRemovedAndOrganizationLeft() {
        let del = #"{"DeleteFlowLogsRequest":{"FlowLogId":{"content":"fl-1","tag":1}}}"#
        #expect(Self.hits([Self.ec2("DeleteFlowLogs", del)]) == ["Stealth:IAMUser/FlowLogsDeleted.Custom"])
        #expect(Self.hits([Self.ec2("DeleteFlowLogs", del, error: "Client.UnauthorizedOperation"), Self.ec2("CreateFlowLogs", "{}"),
                           Self.ec2("DescribeFlowLogs", "{}")]).isEmpty)

        func r53(_ name: String) -> Event {
            ct(name, source: "route53resolver.amazonaws.com", params: #"{"resolverQueryLogConfigId":"rqlc-1"}"#)
        }
        #expect(Self.hits([r53("DeleteResolverQueryLogConfig")]) == ["Stealth:IAMUser/DNSQueryLoggingDeleted.Custom"])
        #expect(Self.hits([r53("DisassociateResolverQueryLogConfig")]) == ["Stealth:IAMUser/DNSQueryLoggingDeleted.Custom"])
        #expect(Self.hits([r53("CreateResolverQueryLogConfig"), r53("ListResolverQueryLogConfigs")]).isEmpty)

        func org(_ name: String, error: String? = nil) -> Event { ct(name, source: "organizations.amazonaws.com", error: error) }
        #expect(Self.hits([org("LeaveOrganization", error: "AccessDenied")]) == ["Stealth:IAMUser/LeaveOrganizationAttempted.Custom"])
        #expect(Self.hits([org("LeaveOrganization")]) == ["Stealth:IAMUser/LeaveOrganizationAttempted.Custom"])
        #expect(Self.hits([org("DescribeOrganization"), org("RemoveAccountFromOrganization", error: "AccessDenied")]).isEmpty)
    }

    @Test func bulkCredentialReads() {
        // GetPasswordData: 5 calls in 10 minutes, allowed or not; 4 are quiet.
        let pw = (0 ..< 5).map { Self.ec2("GetPasswordData", #"{"instanceId":"i-\#($0)"}"#, seconds: $0 * 60, error: "Client.UnauthorizedOperation") }
        #expect(Self.hits(pw) == ["CredentialAccess:IAMUser/EC2PasswordDataRetrieval.Custom"])
        #expect(Self.hits(Array(pw.prefix(4))).isEmpty)

        func sm(_ name: String, _ p: String, seconds: Int = 0, error: String? = nil) -> Event {
            ct(name, source: "secretsmanager.amazonaws.com", params: p, seconds: seconds, error: error)
        }
        let batch = #"{"filters":[{"key":"tag-key","values":["app"]}]}"#
        #expect(Self.hits([sm("BatchGetSecretValue", batch)]) == ["CredentialAccess:IAMUser/SecretsBulkRetrieval.Custom"])
        #expect(Self.hits([sm("BatchGetSecretValue", batch, error: "AccessDeniedException")]).isEmpty)
        let ten = (0 ..< 10).map { sm("GetSecretValue", #"{"secretId":"app/secret-\#($0)"}"#, seconds: $0 * 30) }
        #expect(Self.hits(ten) == ["CredentialAccess:IAMUser/SecretsBulkRetrieval.Custom"])
        // an application reading its own secret again and again; nine distinct secrets
        #expect(Self.hits((0 ..< 20).map { sm("GetSecretValue", #"{"secretId":"app/db"}"#, seconds: $0 * 10) }).isEmpty)
        #expect(Self.hits(Array(ten.prefix(9))).isEmpty)

        func ssm(_ names: [String], decrypt: Bool = true, seconds: Int = 0) -> Event {
            let list = names.map { "\"\($0)\"" }.joined(separator: ",")
            return ct("GetParameters", source: "ssm.amazonaws.com", params: #"{"names":[\#(list)],"withDecryption":\#(decrypt)}"#, seconds: seconds)
        }
        func five(_ i: Int) -> [String] { (0 ..< 5).map { "/cred/\(i)/\($0)" } }
        let sets = (0 ..< 3).map { ssm(five($0), seconds: $0 * 20) }
        #expect(Self.hits(sets) == ["CredentialAccess:IAMUser/SSMSecureStringBulkRetrieval.Custom"])
        // near misses: two sweeps; one application's set again and again; not decrypted;
        // many distinct pairs (what tools/gen's instance roles do)
        #expect(Self.hits(Array(sets.prefix(2))).isEmpty)
        #expect(Self.hits((0 ..< 10).map { _ in ssm(five(0)) }).isEmpty)
        #expect(Self.hits((0 ..< 3).map { ssm(five($0), decrypt: false, seconds: $0 * 20) }).isEmpty)
        #expect(Self.hits((0 ..< 10).map { ssm(["/app/\($0)a", "/app/\($0)b"], seconds: $0 * 20) }).isEmpty)

        // user data of 5 instances in 10 minutes; 4, or another attribute, are quiet
        func attr(_ a: String, _ i: Int) -> Event {
            Self.ec2("DescribeInstanceAttribute", #"{"attribute":"\#(a)","instanceId":"i-\#(i)"}"#, seconds: i * 30, error: "Client.UnauthorizedOperation")
        }
        #expect(Self.hits((0 ..< 5).map { attr("userData", $0) }) == ["Discovery:IAMUser/EC2UserDataRetrieval.Custom"])
        #expect(Self.hits((0 ..< 4).map { attr("userData", $0) }).isEmpty)
        #expect(Self.hits((0 ..< 8).map { attr("instanceType", $0) }).isEmpty)
    }

    @Test func instanceAccessAndExecution() {
        #expect(Self.hits([Self.ec2("ModifyInstanceAttribute", #"{"instanceId":"i-1","userData":"<sensitiveDataRemoved>"}"#)])
            == ["Execution:IAMUser/EC2UserDataModified.Custom"])
        #expect(Self.hits([Self.ec2("ModifyInstanceAttribute", #"{"instanceId":"i-1","instanceType":{"value":"m5.large"}}"#)]).isEmpty)

        func send(_ doc: String, extra: String = "") -> Event {
            ct("SendCommand", source: "ssm.amazonaws.com",
               identity: extra.isEmpty ? aliceIdentity : String(aliceIdentity.dropLast()) + extra + "}",
               params: #"{"documentName":"\#(doc)","instanceIds":["i-1"],"parameters":"HIDDEN_DUE_TO_SECURITY_REASONS"}"#)
        }
        #expect(Self.hits([send("AWS-RunShellScript")]) == ["Execution:IAMUser/SSMRunShellCommand.Custom"])
        #expect(Self.hits([send("AWS-RunPatchBaseline"), send("AWS-RunShellScript", extra: #","invokedBy":"ssm.amazonaws.com""#)]).isEmpty)

        #expect(Self.hits([Self.ec2("EnableSerialConsoleAccess", #"{"EnableSerialConsoleAccessRequest":""}"#)])
            == ["Policy:IAMUser/SerialConsoleAccessEnabled.Custom"])
        #expect(Self.hits([Self.ec2("DisableSerialConsoleAccess", "{}"), Self.ec2("GetSerialConsoleAccessStatus", "{}")]).isEmpty)
        func eic(_ name: String) -> Event {
            ct(name, source: "ec2-instance-connect.amazonaws.com", params: #"{"instanceId":"i-1","sSHPublicKey":"ssh-ed25519 AAAA"}"#)
        }
        #expect(Self.hits([eic("SendSerialConsoleSSHPublicKey")]) == ["UnauthorizedAccess:IAMUser/SerialConsoleSSHKeyPushed.Custom"])
        #expect(Self.hits([eic("SendSSHPublicKey")]).isEmpty)
    }

    @Test func persistence() {
        func ra(_ name: String) -> Event { ct(name, source: "rolesanywhere.amazonaws.com", params: #"{"name":"anchor","enabled":true}"#) }
        #expect(Self.hits([ra("CreateTrustAnchor")]) == ["Persistence:IAMUser/RolesAnywhereTrustAnchorCreated.Custom"])
        #expect(Self.hits([ra("ListTrustAnchors"), ra("CreateProfile")]).isEmpty)

        func perm(_ p: String) -> Event { ct("AddPermission20150331v2", source: "lambda.amazonaws.com", params: p) }
        #expect(Self.hits([perm(#"{"action":"lambda:InvokeFunction","functionName":"f","principal":"*","statementId":"b"}"#)])
            == ["Persistence:IAMUser/LambdaFunctionPublicPermission.Custom"])
        #expect(Self.hits([perm(#"{"action":"lambda:InvokeFunction","functionName":"f","principal":"s3.amazonaws.com","statementId":"b"}"#),
                           perm(#"{"action":"lambda:InvokeFunction","functionName":"f","principal":"*","sourceArn":"arn:aws:s3:::b","statementId":"b"}"#)]).isEmpty)

        #expect(Self.hits([ct("CreateLoginProfile", params: #"{"userName":"bob","passwordResetRequired":false}"#)])
            == ["Persistence:IAMUser/LoginProfileCreatedForOtherUser.Custom"])
        #expect(Self.hits([ct("UpdateLoginProfile", params: #"{"userName":"bob"}"#)])
            == ["PrivilegeEscalation:IAMUser/LoginProfileUpdatedForOtherUser.Custom"])
        #expect(Self.hits([ct("UpdateLoginProfile", params: #"{"userName":"alice"}"#), ct("CreateLoginProfile", params: "{}"),
                           ct("UpdateLoginProfile", params: #"{"userName":"bob"}"#, error: "AccessDenied")]).isEmpty)

        func trust(_ principal: String, condition: String = "") -> String {
            let doc = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":\#(principal),"Action":"sts:AssumeRole"\#(condition)}]}"#
            let escaped = doc.replacingOccurrences(of: "\"", with: "\\\"")
            return #"{"roleName":"r","policyDocument":"\#(escaped)"}"#
        }
        #expect(Self.hits([ct("UpdateAssumeRolePolicy", params: trust(#"{"AWS":"arn:aws:iam::193672423079:root"}"#))])
            == ["Persistence:IAMUser/RoleTrustGrantedToExternalAccount.Custom"])
        #expect(Self.hits([ct("UpdateAssumeRolePolicy", params: trust(#"{"AWS":"*"}"#))])
            == ["Persistence:IAMUser/RoleTrustGrantedToExternalAccount.Custom"])
        #expect(Self.hits([ct("UpdateAssumeRolePolicy", params: trust(#"{"AWS":"arn:aws:iam::111122223333:root"}"#)),
                           ct("UpdateAssumeRolePolicy", params: trust(#"{"Service":"ec2.amazonaws.com"}"#)),
                           ct("UpdateAssumeRolePolicy", params: trust(#"{"AWS":"arn:aws:iam::193672423079:root"}"#,
                                                                      condition: #","Condition":{"StringEquals":{"sts:ExternalId":"x"}}"#))]).isEmpty)

        func fed(_ p: String) -> Event { ct("GetFederationToken", source: "sts.amazonaws.com", params: p) }
        let admin = #"{"name":"x","policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}"#
        #expect(Self.hits([fed(admin)]) == ["Persistence:IAMUser/FederationTokenWithAdminPolicy.Custom"])
        // tools/gen's background shape: a managed read-only policy
        #expect(Self.hits([fed(#"{"name":"x","durationSeconds":43200,"policyArns":[{"arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}]}"#)]).isEmpty)
    }
}
