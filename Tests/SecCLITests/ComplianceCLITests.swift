import Foundation
import Testing
@testable import SecCLI

/// `secq compliance` on the all-sources data set against tools/gen's config-truth.jsonl:
/// the labelled violations (one per account fixed late by a later item, its line
/// carrying `fixed`).
@Suite(.serialized) struct ComplianceCLITests {
    static let evaluated: String = {
        do {
            let store = try DetectBaseStore.shared.copy("compliance")
            let r = try secq(["compliance", "run", "--store", store, "--batch", "500"])
            guard r.status == 0 else { fatalError("compliance run: \(r.err)") }
            return store
        } catch { fatalError("\(error)") }
    }()

    struct Label: Hashable { var bank, account, rule, resource: String }

    static let truth: [(label: Label, fixed: String?)] = {
        let text = (try? String(contentsOfFile: DetectBaseStore.shared.data.dir + "/config-truth.jsonl", encoding: .utf8)) ?? ""
        return ((try? ndjson(text)) ?? []).map { t in
            (Label(bank: t["bank"] as! String, account: t["account"] as! String, rule: t["rule"] as! String,
                   resource: t["arn"] as! String), t["fixed"] as? String)
        }
    }()

    func report(_ extra: [String] = []) throws -> [[String: Any]] {
        let r = try secq(["compliance", "--store", Self.evaluated, "--format", "json"] + extra)
        #expect(r.status == 0, "\(r.err)")
        return try ndjson(r.out)
    }

    static func label(_ o: [String: Any]) -> Label {
        Label(bank: o["bank"] as! String, account: o["account"] as! String, rule: o["rule"] as! String,
              resource: o["resource"] as! String)
    }

    @Test func everyLabelledViolationAndNothingElse() throws {
        #expect(Self.truth.count > 20, "the data set labels violations")
        let rows = try report()
        let bad = Set(rows.filter { $0["status"] as? String == "NON_COMPLIANT" }.map(Self.label))
        let open = Set(Self.truth.filter { $0.fixed == nil }.map(\.label))
        #expect(open.subtracting(bad).isEmpty, "labelled but not reported: \(open.subtracting(bad))")
        #expect(bad.subtracting(open).isEmpty, "reported but not labelled: \(bad.subtracting(open))")
        // Every row has the issue's keys, and reasons name a setting.
        for o in rows {
            for k in ["bank", "account", "region", "rule", "resource_type", "resource", "status", "reason", "evaluated_at"] {
                #expect(o[k] != nil, "\(k) missing in \(o)")
            }
        }
        // The query table holds the same state.
        let q = try secq(["query", "--store", Self.evaluated, "--format", "json",
                          "compliance | where status == \"NON_COMPLIANT\" | stats count() as n"])
        #expect(try ndjson(q.out).first?["n"] as? Int == bad.count)
    }

    /// Compliance events are normalised events like any other: valid against
    /// schemas/event.schema.json, one per status change, their raw record the evaluation.
    @Test func eventsFitTheEventSchema() throws {
        let schema = try EventSchema(path: packageRoot + "/schemas/event.schema.json")
        let r = try secq(["query", "--store", Self.evaluated, "--format", "json", "events | where source == \"compliance\""])
        let events = try ndjson(r.out)
        #expect(events.count >= (try report()).count, "at least one event per evaluated pair")
        for o in events {
            let problems = schema.problems(o)
            #expect(problems.isEmpty, "\(problems) in \(o)")
            if !problems.isEmpty { break }
            #expect(o["class"] as? String == "compliance_finding")
        }
        let raw = try secq(["query", "--store", Self.evaluated, "--format", "json",
                            "events | where source == \"compliance\" and title == \"NON_COMPLIANT\" | head 1 | fields action, raw.evaluation.rule, raw.evaluation.status, raw.previous"])
        let first = try #require(try ndjson(raw.out).first)
        #expect(first["action"] as? String == first["raw.evaluation.rule"] as? String)
        #expect(first["raw.evaluation.status"] as? String == "NON_COMPLIANT")
    }

    /// The fixed resources are COMPLIANT, with a compliance event at the fixing item's
    /// capture time; `--at` before and after the fix gives the two answers.
    @Test func aFixFlipsToCompliantWithAnEvent() throws {
        let fixed = Self.truth.filter { $0.fixed != nil }
        #expect(!fixed.isEmpty)
        for (label, at) in fixed {
            let t = try #require(ISO8601DateFormatter().date(from: at!))
            let now = try report(["--bank", label.bank, "--rule", label.rule]).filter { Self.label($0) == label }
            #expect(now.first?["status"] as? String == "COMPLIANT", "\(label)")
            let q = try secq(["query", "--store", Self.evaluated, "--format", "json",
                              "events | where source == \"compliance\" and resource == \"\(label.resource)\" and action == \"\(label.rule)\" | sort time | fields time, title, outcome, class"])
            let events = try ndjson(q.out)
            #expect(events.map { $0["title"] as? String } == ["NON_COMPLIANT", "COMPLIANT"], "\(label): \(events)")
            #expect(events.last?["class"] as? String == "compliance_finding")
            #expect(events.last?["outcome"] as? String == "success")
            let flipped = try #require(ISO8601DateFormatter.withFraction.date(from: events.last?["time"] as? String ?? "")
                                       ?? ISO8601DateFormatter().date(from: events.last?["time"] as? String ?? ""))
            #expect(flipped >= t && flipped < t.addingTimeInterval(1), "\(label): flipped at \(flipped), fixed \(t)")
            func status(at date: Date) throws -> String? {
                let stamp = ISO8601DateFormatter().string(from: date)
                return try report(["--bank", label.bank, "--rule", label.rule, "--at", stamp])
                    .first { Self.label($0) == label }?["status"] as? String
            }
            #expect(try status(at: t.addingTimeInterval(-60)) == "NON_COMPLIANT", "\(label) before the fix")
            #expect(try status(at: t.addingTimeInterval(60)) == "COMPLIANT", "\(label) after the fix")
        }
    }

    /// The configuration as of a time, and the history naming what the fix changed.
    @Test func configShowAndHistory() throws {
        let (label, at) = try #require(Self.truth.first { $0.fixed != nil })
        let t = try #require(ISO8601DateFormatter().date(from: at!))
        let setting = [
            "cloud-trail-log-file-validation-enabled": "configuration.logFileValidationEnabled",
            "cmk-backing-key-rotation-enabled": "supplementaryConfiguration.KeyRotationStatus",
            "s3-bucket-server-side-encryption-enabled": "supplementaryConfiguration.ServerSideEncryptionConfiguration",
            "iam-user-mfa-enabled": "configuration.mfaDevices",
        ][label.rule]!
        let h = try secq(["config", "history", label.resource, "--store", Self.evaluated, "--format", "json"])
        #expect(h.status == 0, "\(h.err)")
        let history = try ndjson(h.out)
        #expect(history.count >= 2)
        let changes = history.filter { ($0["changed"] as? [String])?.contains(setting) == true }
        #expect(changes.count == 1, "\(history.map { $0["changed"] ?? "" })")
        func show(_ date: Date) throws -> [String: Any] {
            let r = try secq(["config", "show", label.resource, "--store", Self.evaluated, "--at", ISO8601DateFormatter().string(from: date)])
            #expect(r.status == 0, "\(r.err)")
            return try #require(try ndjson(r.out).first)
        }
        let before = try show(t.addingTimeInterval(-60)), after = try show(t.addingTimeInterval(60))
        #expect(before["ARN"] as? String == label.resource && after["ARN"] as? String == label.resource)
        #expect((before["configurationItemCaptureTime"] as? String) != (after["configurationItemCaptureTime"] as? String))
        let unknown = try secq(["config", "show", "arn:aws:s3:::no-such-bucket", "--store", Self.evaluated])
        #expect(unknown.status != 0 && unknown.err.contains("no configuration item of 'arn:aws:s3:::no-such-bucket'"))
    }

    /// A second run finds nothing new; a changed policy re-evaluates every resource.
    @Test func rerunAndPolicyChange() throws {
        let again = try secq(["compliance", "run", "--store", Self.evaluated])
        let lines = again.err.split(separator: "\n")
        #expect(again.status == 0 && lines.count == DetectBaseStore.shared.data.org.banks.count && lines.allSatisfy { $0.contains(", 0 status changes") }, "\(again.err)")
        let forced = try secq(["compliance", "run", "--store", Self.evaluated, "--reevaluate"])
        let forcedLines = forced.err.split(separator: "\n")
        #expect(forced.status == 0 && forcedLines.count == DetectBaseStore.shared.data.org.banks.count, "\(forced.err)")
        #expect(forcedLines.allSatisfy { $0.contains(", 0 status changes") && !$0.contains(" 0 evaluations") }, "\(forced.err)")
        let store = try DetectBaseStore.shared.copy("compliance-policy")
        _ = try secq(["compliance", "run", "--store", store])
        try FileManager.default.createDirectory(atPath: store + "/compliance", withIntermediateDirectories: true)
        let policy = #"{"disabled": ["encrypted-volumes"], "parameters": {"restricted-common-ports": {"blockedPorts": "22,3389"}}}"#
        for bank in DetectBaseStore.shared.data.org.banks.map(\.id) {
            try policy.write(toFile: store + "/compliance/\(bank).json", atomically: true, encoding: .utf8)
        }
        let r = try secq(["compliance", "run", "--store", store])
        #expect(r.status == 0, "\(r.err)")
        let rows = try ndjson(try secq(["compliance", "--store", store, "--format", "json"]).out)
        #expect(!rows.contains { $0["rule"] as? String == "encrypted-volumes" })
        let ssh = Set(rows.filter { $0["rule"] as? String == "restricted-ssh" && $0["status"] as? String == "NON_COMPLIANT" }.map { $0["resource"] as! String })
        let common = Set(rows.filter { $0["rule"] as? String == "restricted-common-ports" && $0["status"] as? String == "NON_COMPLIANT" }.map { $0["resource"] as! String })
        #expect(!ssh.isEmpty && ssh.isSubset(of: common), "port 22 is blocked now: \(ssh.subtracting(common))")
        try "{\"disabled\": [\"no-such-rule\"]}".write(toFile: store + "/compliance/\(DetectBaseStore.shared.data.org.banks[0].id).json",
                                                     atomically: true, encoding: .utf8)
        let bad = try secq(["compliance", "run", "--store", store])
        #expect(bad.status != 0 && bad.err.contains("unknown rule 'no-such-rule' in 'disabled'"), "\(bad.err)")
    }

    /// The current state does not depend on how the items were cut into batches (the
    /// same store evaluated a few items per transaction).
    @Test func batchesDoNotChangeTheState() throws {
        let store = try DetectBaseStore.shared.copy("compliance-small-batches")
        let r = try secq(["compliance", "run", "--store", store, "--batch", "37"])
        #expect(r.status == 0, "\(r.err)")
        func state(_ s: String) throws -> [String] {
            try ndjson(try secq(["compliance", "--store", s, "--format", "json"]).out).map { o in
                ["bank", "account", "region", "rule", "resource", "status", "reason", "evaluated_at"].map { "\(o[$0] ?? "")" }
                    .joined(separator: "|")
            }.sorted()
        }
        let small = try state(store), big = try state(Self.evaluated)
        #expect(small.count == big.count && small.count > 100)
        #expect(small == big)
    }

    @Test func tableAndErrors() throws {
        let r = try secq(["compliance", "--store", Self.evaluated])
        #expect(r.status == 0)
        #expect(r.out.contains("non_compliant") && r.out.contains("restricted-ssh") && r.out.contains("5.2"))
        let csv = try secq(["compliance", "--store", Self.evaluated, "--format", "csv", "--status", "NON_COMPLIANT"])
        #expect(csv.out.split(separator: "\n").first == "bank,account,region,rule,resource_type,resource,resource_id,status,reason,evaluated_at,cis")
        let typo = try secq(["compliance", "--store", Self.evaluated, "--rule", "restricted-shh"])
        #expect(typo.status != 0 && typo.err.contains("did you mean 'restricted-ssh'"), "\(typo.err)")
        #expect(r.out.contains("(all banks)"))
        let account = try secq(["compliance", "--store", Self.evaluated, "--account", "999999999999"])
        #expect(account.status != 0 && account.err.contains("no account '999999999999' in the organisation"), "\(account.err)")
        // --account keeps that account's rows only.
        let one = Self.truth[0].label
        let mine = try report(["--account", one.account])
        #expect(!mine.isEmpty && mine.allSatisfy { $0["account"] as? String == one.account })
        let when = try secq(["compliance", "--store", Self.evaluated, "--at", "yesterday"])
        #expect(when.status != 0 && when.err.contains("--at 'yesterday' is not a time"))
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFraction: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}
