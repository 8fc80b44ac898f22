import Foundation
import SecModel
import SecStore
import Testing
@testable import SecCLI

/// A store with every source of the all-sources data set ingested (CloudTrail, flow,
/// Route 53 and GuardDuty under AWSLogs; RDS, S3 access and CloudFront beside it) and no
/// detection run yet; tests work on copies.
final class DetectBaseStore: @unchecked Sendable {
    let dir: String
    let data = GeneratedData.allSources

    static let shared: DetectBaseStore = {
        do { return try DetectBaseStore() } catch { fatalError("ingest failed: \(error)") }
    }()

    init() throws {
        dir = temporaryDirectory("detect-base")
        let store = try Store(path: dir, create: true)
        try store.register(data.org)
        let opts = IngestOptions(paths: ["AWSLogs", "rds", "s3-access-logs", "cloudfront"].map { data.dir + "/" + $0 })
        _ = try IngestPipeline(store: store, options: opts).run()
    }

    /// A copy of the store's directory (no process has it open for writing).
    func copy(_ tag: String) throws -> String {
        let d = temporaryDirectory(tag)
        try FileManager.default.removeItem(atPath: d)
        try FileManager.default.copyItem(atPath: dir, toPath: d)
        return d
    }
}

/// `secq findings --format json`, one object per finding.
func findingsJSON(_ store: String, _ extra: [String] = []) throws -> [[String: Any]] {
    let r = try secq(["findings", "--store", store, "--format", "json"] + extra)
    #expect(r.status == 0, "\(r.err)")
    return try ndjson(r.out)
}

@Suite(.serialized) struct DetectCLITests {
    let base = DetectBaseStore.shared

    /// The generator's labelled scenarios (truth.jsonl) against the engine's findings.
    /// For each scenario a built-in detector covers: the finding type secq gives it (the
    /// generator names GuardDuty's nearest type; secq's own types end in `.Custom`) and
    /// what identifies the instance besides type, bank and account.
    static let covered: [String: (type: String, match: String)] = [
        "root_usage": ("Policy:IAMUser/RootCredentialUsage", "principal"),
        "cloudtrail_disabled": ("Stealth:IAMUser/CloudTrailLoggingDisabled", "principal"),
        "password_policy_change": ("Stealth:IAMUser/PasswordPolicyChange", "principal"),
        "console_bruteforce": ("CredentialAccess:IAMUser/ConsoleLoginBruteForce.Custom", "principal"),
        "s3_block_public_access_disabled": ("Policy:S3/BucketBlockPublicAccessDisabled", "principal"),
        "sg_open_admin_port": ("Policy:EC2/SecurityGroupAdminPortOpen.Custom", "principal"),
        "access_key_other_user": ("Persistence:IAMUser/AccessKeyCreatedForOtherUser.Custom", "principal"),
        "admin_policy_attached": ("PrivilegeEscalation:IAMUser/AdministrativePolicyAttached.Custom", "principal"),
        "kali_user_agent": ("PenTest:IAMUser/KaliLinux", "principal"),
        "malicious_ip_caller": ("Recon:IAMUser/MaliciousIPCaller.Custom", "principal"),
        "ssh_bruteforce": ("UnauthorizedAccess:EC2/SSHBruteForce", "src_ip"),
        "dns_exfiltration": ("Trojan:EC2/DNSDataExfiltration", "src_ip"),
        "port_scan": ("Recon:EC2/PortProbeUnprotectedPort", "src_ip"),
        "s3_access_mass_download": ("Exfiltration:S3/AnomalousBehavior", "principal"),
        // The RDS finding's resource is the database named in the log line; the client
        // address identifies the instance of the scenario.
        "rds_bruteforce": ("CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce", "src_ip"),
        // The behavioural detectors, with the learning period the generated week allows.
        "recon_burst": ("Discovery:IAMUser/AnomalousBehavior", "principal"),
        "s3_mass_download": ("Exfiltration:S3/AnomalousBehavior", "principal"),
        "instance_credential_exfiltration": ("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "principal"),
    ]

    /// Every RDS brute force, successful or not, has its many failed log-ins first, so
    /// FailedLogin is explained by any `rds_bruteforce` of the account.
    static let rdsFailedLogin = "CredentialAccess:RDS/AnomalousBehavior.FailedLogin"

    /// The `malicious_ip_caller` scenario's caller also lists buckets (and may read or
    /// write them) from its listed address: the S3 types by purpose, from that address,
    /// are explained by it.
    static let s3MaliciousIPCaller = Set(["Discovery", "Exfiltration", "Impact"].map { "\($0):S3/MaliciousIPCaller.Custom" })

    /// The generated data covers 7 days and its scenarios start after the first two, so
    /// the baselines' default learning period (7d) would leave nothing to judge: a day.
    static let learning = ["--learning-period", "1d"]

    /// A finding on a principal a labelled scenario names, first seen while that
    /// scenario ran: the attack's own activity, reported by a second detector (the
    /// behavioural ones see the attacker's new APIs, network and client), not background.
    static func scenarioActivity(_ f: [String: Any], _ t: [String: Any]) -> Bool {
        guard let p = f["principal"] as? String, p == t["principal"] as? String,
              let seen = (f["first_seen"] as? String).flatMap({ Timestamp.parse($0) }),
              let start = (t["start"] as? String).flatMap({ Timestamp.parse($0) }),
              let end = (t["end"] as? String).flatMap({ Timestamp.parse($0) }) else { return false }
        return start <= seen && seen <= end
    }

    /// Covered scenarios that give no finding, pinned (none: the slow Route 53
    /// exfiltration in cobalt-bank, 60 names over 47 minutes, is caught since the
    /// detector's window is an hour).
    static let knownMisses: Set<String> = []

    @Test func labelledScenariosProduceTheirFindings() throws {
        let store = try base.copy("detect-scen")
        let r = try secq(["detect", "--store", store, "--threat-list", base.data.dir + "/threat-list.txt"] + Self.learning)
        #expect(r.status == 0, "\(r.err)")
        let findings = try findingsJSON(store).filter { $0["detector"] as? String != "guardduty" }
        var checked = 0
        var misses = Set<String>()
        for t in base.data.truth {
            let scenario = t["scenario"] as! String
            guard let (covered, match) = Self.covered[scenario] else { continue }
            var type = covered
            // An RDS brute force that never succeeded is FailedLogin.
            if scenario == "rds_bruteforce" && t["succeeded"] as? Bool != true { type = Self.rdsFailedLogin }
            let bank = t["bank"] as! String, account = t["account"] as! String
            let want = t[match] as? String
            let hit = findings.contains { f in
                f["finding_type"] as? String == type && f["bank"] as? String == bank && f["account"] as? String == account
                    && f[match] as? String == want
            }
            if !hit { misses.insert("\(scenario)/\(bank)") }
            checked += 1
        }
        #expect(misses == Self.knownMisses)
        #expect(checked >= 30)
    }

    /// Findings no labelled scenario explains (same bank and account, the scenario's
    /// type; or the same principal, first seen while the scenario ran): false positives
    /// on the generated background, pinned here with why.
    ///
    /// None of 30,000 records. The root console sign-ins without MFA that
    /// `PrivilegedConsoleLoginWithoutMFA.Custom` reports (one per bank) are the
    /// `root_usage` scenarios' own sign-ins (root, within each scenario's span); the
    /// behavioural findings beside the scenarios (`Persistence:IAMUser/AnomalousBehavior`
    /// on `access_key_other_user`, `Discovery` and `CredentialAccess` on the stolen
    /// instance credentials...) are the attackers' activity seen by a second detector.
    static let pinnedBackground: [String] = []

    @Test func backgroundFalsePositivesArePinned() throws {
        let store = try base.copy("detect-fp")
        #expect(try secq(["detect", "--store", store, "--threat-list", base.data.dir + "/threat-list.txt"] + Self.learning).status == 0)
        let findings = try findingsJSON(store).filter { $0["detector"] as? String != "guardduty" }
        var unexplained: [String] = []
        for f in findings {
            let type = f["finding_type"] as? String, bank = f["bank"] as? String, account = f["account"] as? String
            let explained = base.data.truth.contains { t in
                guard t["bank"] as? String == bank, t["account"] as? String == account else { return false }
                let scenario = t["scenario"] as? String ?? ""
                return t["expected_finding"] as? String == type || Self.covered[scenario]?.type == type
                    || (scenario == "rds_bruteforce" && type == Self.rdsFailedLogin)
                    || (scenario == "malicious_ip_caller" && Self.s3MaliciousIPCaller.contains(type ?? "")
                        && t["src_ip"] as? String == f["src_ip"] as? String)
                    || Self.scenarioActivity(f, t)
            }
            if !explained { unexplained.append("\(type ?? "?") \(bank ?? "?") \(f["principal"] as? String ?? f["resource"] as? String ?? "")") }
        }
        print("background findings: \(unexplained.count) over \(base.data.summary["records"] ?? 0) records: \(unexplained)")
        #expect(unexplained.sorted() == Self.pinnedBackground.sorted())
    }

    @Test func killedMidRunGivesTheSameFindings() throws {
        let killed = try base.copy("detect-killed")
        let whole = try base.copy("detect-whole")
        // Killed (SIGKILL) at several points, then run to the end (the behavioural
        // detectors judging too: with a learning period the week allows).
        var midRun = 0
        for delay in [250, 500, 900] {
            try secqKilled(after: delay, ["detect", "--store", killed, "--batch", "50"] + Self.learning)
            let subs = try secq(["subscribers", "--store", killed, "--format", "json"])
            for o in try ndjson(subs.out) {
                let cp = o["checkpoint"] as! Int, head = o["head"] as! Int
                if cp > 0 && cp < head { midRun += 1 }
            }
        }
        #expect(midRun > 0, "no kill landed mid-run")
        let r1 = try secq(["detect", "--store", killed, "--batch", "50"] + Self.learning)
        let r2 = try secq(["detect", "--store", whole, "--batch", "50"] + Self.learning)
        #expect(r1.status == 0 && r2.status == 0)
        let a = try secq(["findings", "--store", killed, "--format", "json"]).out
        let b = try secq(["findings", "--store", whole, "--format", "json"]).out
        #expect(!b.isEmpty)
        // Every field of every finding: ids, counts, first/last seen, evidence.
        #expect(a == b)
        // And the findings' events in the log: the same changes at the same seqs.
        let changes = "where source == \"finding\" | fields seq, bank, event_id, action, raw.finding.count"
        let ea = try secq(["query", "--store", killed, "--format", "json", changes]).out
        let eb = try secq(["query", "--store", whole, "--format", "json", changes]).out
        #expect(!eb.isEmpty && ea == eb)
        // A rerun at the head changes nothing.
        let again = try secq(["detect", "--store", whole] + Self.learning)
        #expect(again.out.contains("acme-bank: 0 events, 0 new findings, 0 updated"))
        #expect(try secq(["findings", "--store", whole, "--format", "json"]).out == b)
    }

    @Test func findingsListTableAndArchive() throws {
        let store = try base.copy("detect-list")
        #expect(try secq(["detect", "--store", store]).status == 0)
        let all = try findingsJSON(store)
        #expect(!all.isEmpty)
        // Sorted by severity, then last seen, both descending.
        let keys = all.map { ($0["severity"] as! Double, $0["last_seen"] as! String) }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 >= $1.1) })
        // --severity high: the findings at 7.0 and above, computed here from the full list.
        let high = try findingsJSON(store, ["--severity", "high"])
        #expect(high.map { $0["id"] as! String } == all.filter { ($0["severity"] as! Double) >= 7.0 }.map { $0["id"] as! String })
        #expect(high.allSatisfy { ["high", "critical"].contains($0["severity_label"] as! String) })
        // --bank
        let acme = try findingsJSON(store, ["--bank", "acme-bank"])
        #expect(acme.map { $0["id"] as! String } == all.filter { $0["bank"] as? String == "acme-bank" }.map { $0["id"] as! String })
        // GuardDuty's own findings are there, one per GuardDuty finding id.
        let gd = all.filter { $0["detector"] as? String == "guardduty" }
        #expect(!gd.isEmpty)

        // The query table: one row per finding, the same counts per detector.
        let q = try secq(["query", "--store", store, "--format", "json", "findings | stats count() as n by detector"])
        #expect(q.status == 0, "\(q.err)")
        var byDetector: [String: Int] = [:]
        for o in try ndjson(q.out) {
            byDetector[o["detector"] as! String] = o["n"] as? Int
        }
        #expect(byDetector == Dictionary(grouping: all, by: { $0["detector"] as! String }).mapValues(\.count))

        // Archive one; it is listed as archived, and the query sees it.
        let id = all[0]["id"] as! String
        let ar = try secq(["findings", "archive", id, "--store", store])
        #expect(ar.status == 0, "\(ar.err)")
        #expect(try findingsJSON(store).first { $0["id"] as? String == id }?["status"] as? String == "archived")
        let aq = try secq(["query", "--store", store, "--format", "json", "findings | where status == \"archived\" | fields id"])
        #expect(aq.out.trimmingCharacters(in: .whitespacesAndNewlines) == "{\"id\":\"\(id)\"}")
        // An unknown id is an error.
        let bad = try secq(["findings", "archive", "0123", "--store", store])
        #expect(bad.status == 1 && bad.err.contains("no finding '0123'"))
        // A bad --severity is a usage error.
        let sev = try secq(["findings", "--store", store, "--severity", "urgent"])
        #expect(sev.status != 0 && sev.err.contains("--severity 'urgent'"))
    }

    /// `secq ingest --detect` leaves the findings `secq detect` after the ingest would,
    /// counts them in its summary, and a second ingest of the same files finds nothing new.
    @Test func ingestWithDetectEqualsDetectAfterIngest() throws {
        let data = base.data
        let inputs = ["AWSLogs", "rds", "s3-access-logs", "cloudfront"].map { data.dir + "/" + $0 }
        let threat = ["--threat-list", data.dir + "/threat-list.txt"]
        let inline = temporaryDirectory("detect-inline"), after = temporaryDirectory("detect-after")
        for d in [inline, after] { #expect(try secq(["init", "--store", d, "--org", data.dir + "/org.json"]).status == 0) }
        // One parser thread: both stores get the events in the same order (the same seqs).
        let r = try secq(["ingest", "--store", inline, "--json", "--jobs", "1", "--detect"] + threat + inputs)
        #expect(r.status == 0, "\(r.err)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(try secq(["ingest", "--store", after, "--json", "--jobs", "1"] + inputs).status == 0)
        #expect(try secq(["detect", "--store", after] + threat).status == 0)
        let a = try secq(["findings", "--store", inline, "--format", "json"]).out
        let b = try secq(["findings", "--store", after, "--format", "json"]).out
        #expect(!a.isEmpty && a == b)
        #expect(summary["new_findings"] as? Int == a.split(separator: "\n").count)
        let again = try secq(["ingest", "--store", inline, "--json", "--detect"] + threat + inputs)
        let s2 = try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as! [String: Any]
        #expect(s2["new_findings"] as? Int == 0 && s2["updated_findings"] as? Int == 0 && s2["stored"] as? Int == 0)
        let bad = try secq(["ingest", "--store", inline, "--threat-list", "x.txt"] + inputs)
        #expect(bad.status != 0 && bad.err.contains("go with --detect"))
    }

    /// Findings are events: each batch appends one `finding` event per finding it
    /// created or updated, in the transaction of its checkpoint, and archiving appends
    /// one; the log (and so the integrity chain) holds the history of every finding.
    @Test func findingsAreEventsInTheLog() throws {
        let store = try base.copy("detect-events")
        let d = try secq(["detect", "--store", store, "--batch", "200"])
        #expect(d.status == 0, "\(d.err)")
        let findings = try findingsJSON(store)
        #expect(!findings.isEmpty)
        let q = try secq(["query", "--store", store, "--format", "json",
                          "where source == \"finding\" | fields bank, event_id, action, finding_type, severity, raw.finding.count, raw.trigger"])
        #expect(q.status == 0, "\(q.err)")
        let events = try ndjson(q.out)
        // One `created` per finding, with its type and bank.
        let created = events.filter { $0["action"] as? String == "created" }
        #expect(created.count == findings.count)
        #expect(Set(created.map { $0["event_id"] as! String }) == Set(findings.map { $0["id"] as! String }))
        for f in findings {
            let mine = events.filter { $0["event_id"] as? String == f["id"] as? String }
            #expect(mine.first { $0["action"] as? String == "created" }?["finding_type"] as? String == f["finding_type"] as? String)
            // The last change carries the finding's count now; never more changes than occurrences.
            #expect(mine.compactMap { $0["raw.finding.count"] as? Int }.max() == f["count"] as? Int)
            #expect(mine.count <= f["count"] as! Int)
        }
        #expect(events.allSatisfy { $0["raw.trigger"] is Int })
        // The source events were read once: a rerun reads nothing and appends nothing.
        let again = try secq(["detect", "--store", store])
        #expect(again.out.contains("acme-bank: 0 events, 0 new findings, 0 updated"))
        #expect(try secq(["query", "--store", store, "--format", "json", "where source == \"finding\" | stats count() as n"]).out
                    == "{\"n\":\(events.count)}\n")

        // Archiving is an event too, at the time it was done, without a trigger.
        let id = findings[0]["id"] as! String
        #expect(try secq(["findings", "archive", id, "--store", store]).status == 0)
        #expect(try secq(["findings", "archive", id, "--store", store, "--unarchive"]).status == 0)
        // Archived again: the same finding as the first time, still a change of its own.
        #expect(try secq(["findings", "archive", id, "--store", store]).status == 0)
        let hand = try ndjson(try secq(["query", "--store", store, "--format", "json",
                                        "where source == \"finding\" and event_id == \"\(id)\" and action in (\"archived\", \"unarchived\") | fields action, raw.finding.status, raw.trigger"]).out)
        #expect(hand.map { $0["action"] as? String } == ["archived", "unarchived", "archived"])
        #expect(hand.map { $0["raw.finding.status"] as? String } == ["archived", "active", "archived"])
        #expect(hand.allSatisfy { !($0["raw.trigger"] is Int) })
        // Every block, the findings' included, is in the chain.
        let v = try secq(["verify", "--store", store])
        #expect(v.status == 0, "\(v.out)\(v.err)")
    }

    /// A suppression rule archives the new findings it matches, naming itself; nothing is
    /// dropped: the same findings exist as without it.
    @Test func suppressionRulesArchiveMatchingNewFindings() throws {
        let plain = try base.copy("detect-nosup"), suppressed = try base.copy("detect-sup")
        #expect(try secq(["detect", "--store", plain]).status == 0)
        let expected = try findingsJSON(plain)
        // The rule: every SSH brute force, and anything of low severity.
        let expr = "finding_type == \"UnauthorizedAccess:EC2/SSHBruteForce\" or severity < 4.0"
        let add = try secq(["findings", "suppress", "add", "ssh-and-low", "--store", suppressed, "--where", expr, "--reason", "test"])
        #expect(add.status == 0, "\(add.err)")
        let list = try ndjson(try secq(["findings", "suppress", "--store", suppressed, "--format", "json"]).out)
        #expect(list.count == 1 && list[0]["where"] as? String == expr && list[0]["reason"] as? String == "test")
        let d = try secq(["detect", "--store", suppressed])
        #expect(d.status == 0, "\(d.err)")
        let got = try findingsJSON(suppressed)
        #expect(got.map { $0["id"] as! String } == expected.map { $0["id"] as! String })
        func matches(_ f: [String: Any]) -> Bool {
            f["finding_type"] as? String == "UnauthorizedAccess:EC2/SSHBruteForce" || (f["severity"] as! Double) < 4.0
        }
        #expect(expected.contains(where: matches) && expected.contains { !matches($0) })
        for f in got {
            let want = matches(f)
            #expect((f["status"] as? String == "archived") == want, "\(f)")
            #expect((f["suppressed_by"] as? String == "ssh-and-low") == want)
            #expect(f["count"] as? Int == expected.first { $0["id"] as? String == f["id"] as? String }?["count"] as? Int)
        }
        let n = got.filter(matches).count
        #expect(d.out.contains("archived by suppression rules"))
        let q = try secq(["query", "--store", suppressed, "--format", "json", "findings | where suppressed_by == \"ssh-and-low\" | stats count() as n"])
        #expect(q.out == "{\"n\":\(n)}\n")

        // A bad expression is pointed at; a duplicate name and an unknown one are errors.
        let bad = try secq(["findings", "suppress", "add", "x", "--store", suppressed, "--where", "finding_typ == \"a\""])
        #expect(bad.status == 2 && bad.err.contains("unknown field 'finding_typ'") && bad.err.contains("^"))
        #expect(bad.err.contains("did you mean 'finding_type'"))
        let dup = try secq(["findings", "suppress", "add", "ssh-and-low", "--store", suppressed, "--where", "severity > 1"])
        #expect(dup.status == 2 && dup.err.contains("exists"))
        #expect(try secq(["findings", "suppress", "remove", "nope", "--store", suppressed]).status == 1)
        #expect(try secq(["findings", "suppress", "remove", "ssh-and-low", "--store", suppressed]).status == 0)
        #expect(try ndjson(try secq(["findings", "suppress", "--store", suppressed, "--format", "json"]).out).isEmpty)
    }

    /// Lists in STORE/threat-lists/ (and trusted/) count as --threat-list and
    /// --trusted-ips do.
    @Test func threatListsFolderOfTheStore() throws {
        let byOption = try base.copy("detect-tl-opt"), byFolder = try base.copy("detect-tl-dir")
        let list = base.data.dir + "/threat-list.txt"
        #expect(try secq(["detect", "--store", byOption, "--threat-list", list]).status == 0)
        try FileManager.default.createDirectory(atPath: byFolder + "/threat-lists/trusted", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: list, toPath: byFolder + "/threat-lists/feed.txt")
        let r = try secq(["detect", "--store", byFolder])
        #expect(r.status == 0)
        #expect(r.err.contains("threat intelligence: "))
        let a = try findingsJSON(byOption), b = try findingsJSON(byFolder)
        #expect(a.contains { ($0["finding_type"] as! String).contains("MaliciousIPCaller") })
        #expect(a.map { $0["id"] as! String } == b.map { $0["id"] as! String })

        // Trusting every address the threat list names leaves no threat-list finding.
        let trusting = try base.copy("detect-tl-trust")
        try FileManager.default.createDirectory(atPath: trusting + "/threat-lists/trusted", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: list, toPath: trusting + "/threat-lists/feed.csv")
        try FileManager.default.copyItem(atPath: list, toPath: trusting + "/threat-lists/trusted/ours.txt")
        #expect(try secq(["detect", "--store", trusting]).status == 0)
        let t = try findingsJSON(trusting)
        // (The threat-list detectors' ids name what they match: malicious-ip-caller, malicious-domain.)
        func fromList(_ f: [String: Any]) -> Bool { (f["detector"] as! String).contains(".malicious-") }
        #expect(a.contains(where: fromList))
        #expect(!t.contains(where: fromList))
        #expect(t.count == a.filter { !fromList($0) }.count)
    }

    @Test func badThreatListIsACaretError() throws {
        let store = try base.copy("detect-badlist")
        let list = temporaryDirectory("detect-list") + "/bad.txt"
        try "1.2.3.4\n300.1.2.3/8\n".write(toFile: list, atomically: true, encoding: .utf8)
        let r = try secq(["detect", "--store", store, "--threat-list", list])
        #expect(r.status == 2)
        #expect(r.err.contains("bad.txt:2:1: error: '300.1.2.3/8' is not an IP address or CIDR prefix"))
        #expect(r.err.contains("^~~~"))
    }

    @Test func followPicksUpAnIngestWithinSeconds() throws {
        let store = try base.copy("detect-follow")
        #expect(try secq(["detect", "--store", store]).status == 0)
        // A root-usage scenario's first record again, with a new event id.
        let t = base.data.truth.first { $0["scenario"] as? String == "root_usage" }!
        let eid = (t["event_ids"] as! [String])[0]
        var rec = base.data.records.first { $0.eventID == eid }!.json
        rec["eventID"] = UUID().uuidString.lowercased()
        let file = temporaryDirectory("detect-follow-in") + "/root.json"
        try JSONSerialization.data(withJSONObject: ["Records": [rec]]).write(to: URL(fileURLWithPath: file))
        let bank = t["bank"] as! String
        func rootCount() throws -> Int {
            try findingsJSON(store).first {
                $0["finding_type"] as? String == "Policy:IAMUser/RootCredentialUsage" && $0["bank"] as? String == bank
                    && $0["principal"] as? String == t["principal"] as? String
            }?["count"] as? Int ?? 0
        }
        let before = try rootCount()
        #expect(before > 0)

        let follower = try StreamingSecq(["detect", "--store", store, "--follow"])
        #expect(follower.wait(timeout: 10) { $0.count >= 3 }) // the first pass: a line per bank
        let ingest = try secq(["ingest", "--store", store, file])
        #expect(ingest.status == 0, "\(ingest.err)")
        let started = Date()
        // The root finding updated, and any other finding the event repeats.
        let line = "\(bank): 1 event, 0 new findings, "
        #expect(follower.wait(timeout: 5) { $0.contains { $0.hasPrefix(line) } }, "\(follower.lines)")
        print("detect --follow: the ingest's event detected \(Int(Date().timeIntervalSince(started) * 1000)) ms after the ingest exited")
        #expect(follower.stop() == 0)
        #expect(try rootCount() == before + 1)
    }

}
