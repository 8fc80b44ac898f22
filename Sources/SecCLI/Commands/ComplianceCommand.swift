import ArgumentParser
import Foundation
import SecCompliance
import SecEngine
import SecModel
import SecQuery
import SecStore

/// `secq compliance`: the AWS Config managed-rule equivalents over every bank's
/// configuration items.
struct ComplianceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compliance",
        abstract: "Report which resources break which AWS Config rule, per bank and account.",
        discussion: """
        'secq compliance run' evaluates: a durable subscriber named 'compliance' in each \
        bank reads the AWS Config items ingested since its checkpoint (source config), \
        keeps each resource's latest item (by capture time; ResourceDeleted makes its \
        rules NOT_APPLICABLE, ResourceNotRecorded INSUFFICIENT_DATA), evaluates the \
        rules of every changed resource and the account-wide rules, and appends one \
        event of source 'compliance' per (rule, resource) whose status changed, in the \
        same write transaction as its checkpoint.

        'secq compliance' (report, the default) prints the enterprise summary (per \
        bank: rules, resources evaluated, % compliant, non-compliant count by rule), \
        then the non-compliant resources with the setting that breaks the rule and the \
        CIS AWS Foundations v1.4.0 control. --at answers as of a past time from the \
        compliance events. 'secq compliance rules' lists the rules and parameters.

        Policy: STORE/compliance/<bank>.json (schemas/compliance.schema.json) turns \
        rules off and sets parameters; anything not named keeps AWS's default. A \
        changed policy re-evaluates every resource on the next run.

        Examples:
          secq compliance run
          secq compliance
          secq compliance --bank acme-bank --rule restricted-ssh
          secq compliance --format json | jq -r 'select(.status == "NON_COMPLIANT") | .resource'
          secq compliance --at 2026-11-03T00:00:00Z
          secq query 'compliance | where status == "NON_COMPLIANT" | stats count() by bank, rule'
          secq query 'where source == "compliance" | fields time, action, title, resource'
        """,
        subcommands: [ComplianceReport.self, ComplianceRun.self, ComplianceRules.self],
        defaultSubcommand: ComplianceReport.self)

    /// The policy of a bank: STORE/compliance/<bank>.json, else AWS's defaults.
    static func policy(store: String, bank: String, override: String?) throws -> CompliancePolicy {
        let path = override ?? store + "/compliance/" + bank + ".json"
        guard let data = FileManager.default.contents(atPath: path) else {
            if override != nil { throw CLIError(message: "cannot read policy '\(path)'") }
            return .defaults
        }
        do { return try CompliancePolicy(json: Array(data)) } catch {
            throw CLIError(message: "policy '\(path)': \(error)")
        }
    }

    /// `--at`: an RFC 3339 time.
    static func time(_ text: String, option: String) throws -> Int64 {
        guard let t = Timestamp.parse(text) else {
            throw ValidationError("\(option) '\(text)' is not a time (RFC 3339, like 2026-11-03T00:00:00Z)")
        }
        return t
    }
}

struct ComplianceRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Evaluate the rules over each bank's new configuration items.",
        discussion: """
        Prints one line per bank: items read, evaluations, status changes (compliance \
        events appended), checkpoint. Killing it loses and repeats nothing: each batch \
        commits with its checkpoint.

        Evaluations are as of the items' capture times, so evaluating again changes \
        nothing unless the policy (STORE/compliance/<bank>.json) or secq's rules \
        changed; a changed policy is noticed and evaluated at the start of the run, \
        --reevaluate forces it.
        """)

    @OptionGroup var options: StoreOptions
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable).") var banks: [String] = []
    @Option(help: ArgumentHelp("A policy file for the banks named (instead of STORE/compliance/<bank>.json).", valueName: "file"))
    var policy: String?
    @Option(help: ArgumentHelp("Configuration items per write transaction.", valueName: "n")) var batch = 2000
    @Flag(help: "First evaluate every current item of every account again (the periodic evaluation).") var reevaluate = false

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            for id in try selectedBanks(store, banks) {
                let engine = ComplianceEngine(policy: try ComplianceCommand.policy(store: options.path, bank: id, override: policy))
                let s = try engine.run(try store.bank(id), batch: batch, reevaluate: reevaluate)
                var line = "\(id): \(s.items) items, \(s.evaluations) evaluations, \(s.changes) status changes, checkpoint \(s.checkpoint)"
                if s.unreadable > 0 { line += " (\(s.unreadable) records held no configuration item)" }
                Terminal.err(line)
            }
        }
    }
}

struct ComplianceRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "List the rules: what each checks, its CIS control and parameters (defaults).")

    @Option(help: ArgumentHelp("Output format: table or json.", valueName: "table|json")) var format: OutputFormat = .table

    func run() throws {
        let out = Output()
        for r in ManagedRules.all where format == .json {
            out.line(JSONLine.object([
                ("rule", .string(r.name)), ("cis", r.cis.map { .string($0) } ?? .null),
                ("resource_types", .list(r.resourceTypes.sorted().map { .string($0) } + (r.resourceTypes.isEmpty ? [.string(accountResourceType)] : []))),
                ("checks", .string(r.summary)),
                ("parameters", .object(r.parameters.map { p in (p.name, p.defaultValue.map { .string($0.jsonText) } ?? .null) })),
            ]))
        }
        if format != .json {
            out.write(TableRenderer.render(header: ["rule", "cis", "evaluates", "parameters (default)", "checks"], rows: ManagedRules.all.map { r in
                [r.name, r.cis ?? "", r.resourceTypes.isEmpty ? accountResourceType : r.resourceTypes.sorted().joined(separator: ","),
                 r.parameters.map { "\($0.name)=\($0.defaultValue?.jsonText ?? "")" }.joined(separator: " "), r.summary]
            }))
        }
        out.flush()
    }
}

struct ComplianceReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "The enterprise summary, then the non-compliant resources (the default).",
        discussion: """
        --format json prints one object per evaluated (rule, resource), every status: \
        bank, account, region, rule, resource_type, resource, status, reason, \
        evaluated_at, cis. csv prints the same columns with a header.
        """)

    @OptionGroup var options: StoreOptions
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable).") var banks: [String] = []
    @Option(name: .customLong("account"), help: "Only this account (repeatable).") var accounts: [String] = []
    @Option(name: .customLong("rule"), help: "Only this rule (repeatable).") var rules: [String] = []
    @Option(help: ArgumentHelp("Only this status (COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, INSUFFICIENT_DATA).", valueName: "status"))
    var status: String?
    @Option(help: ArgumentHelp("The state as of this time (RFC 3339), from the compliance events.", valueName: "time"))
    var at: String?
    @Option(help: ArgumentHelp("Output format: table, json (one object per line) or csv.", valueName: "table|json|csv"))
    var format: OutputFormat = .table

    func validate() throws {
        for r in rules where ManagedRules.named(r) == nil {
            let hint = Suggest.nearest(r, in: ManagedRules.all.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
            throw ValidationError("--rule '\(r)' is not a rule\(hint); 'secq compliance rules' lists them")
        }
        if let status, ComplianceStatus(rawValue: status.uppercased()) == nil {
            throw ValidationError("--status '\(status)' is not COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE or INSUFFICIENT_DATA")
        }
        if let at { _ = try ComplianceCommand.time(at, option: "--at") }
    }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let when = try at.map { try ComplianceCommand.time($0, option: "--at") }
            let wanted = status.flatMap { ComplianceStatus(rawValue: $0.uppercased()) }
            let selected = try selectedBanks(store, banks)
            let known = Set(try store.org().banks.filter { selected.contains($0.id) }.flatMap { $0.accounts.map(\.id) })
            for a in accounts where !known.contains(a) {
                throw CLIError(message: "no account '\(a)' in \(banks.isEmpty ? "the organisation" : "bank " + banks.map { "'\($0)'" }.joined(separator: ", ")) ('secq org' lists them)")
            }
            var rows: [(bank: String, ev: Evaluation)] = []
            var behind: [String] = []
            for id in selected {
                let bank = try store.bank(id)
                let state = try when.map { try bank.complianceState(at: $0) } ?? bank.complianceState()
                // Config items after the subscriber's checkpoint (all of them when it never ran).
                let checkpoint = try bank.subscriberCheckpoint(ComplianceEngine.subscriber) ?? 0
                if when == nil, try !bank.read({ try $0.log(from: checkpoint + 1, limit: 1, sources: [.config]) }).events.isEmpty {
                    behind.append(id)
                }
                for e in state where (accounts.isEmpty || accounts.contains(e.account)) && (rules.isEmpty || rules.contains(e.rule))
                    && (wanted == nil || e.status == wanted) {
                    rows.append((id, e))
                }
            }
            rows.sort { ($0.bank, $0.ev.account, $0.ev.rule, $0.ev.resource) < ($1.bank, $1.ev.account, $1.ev.rule, $1.ev.resource) }
            if !behind.isEmpty {
                Terminal.err("note: configuration items not yet evaluated in \(behind.joined(separator: ", ")): run 'secq compliance run'")
            }
            let out = Output()
            switch format {
            case .json:
                for r in rows {
                    var fields: [(String, JSONLine.Scalar)] = []
                    for (c, v) in zip(ComplianceRows.columns, ComplianceRows.row(r.ev, bank: r.bank)) {
                        fields.append((c.name, JSONLine.scalar(v)))
                    }
                    out.line(JSONLine.object(fields))
                }
            case .csv:
                out.line(CSV.row(ComplianceRows.columns.map(\.name)))
                for r in rows {
                    out.line(CSV.row(ComplianceRows.row(r.ev, bank: r.bank).map { $0 == .null ? "" : $0.text }))
                }
            case .table:
                let bad = rows.filter { $0.ev.status == .nonCompliant }
                if rows.isEmpty {
                    out.line("(nothing evaluated; 'secq compliance run' evaluates the ingested AWS Config items)")
                } else {
                    out.write(Self.summary(rows))
                    out.line("")
                }
                if bad.isEmpty {
                    if !rows.isEmpty { out.line("(no non-compliant resources)") }
                } else {
                    out.write(TableRenderer.render(header: ["bank", "account", "region", "rule", "cis", "resource", "reason"], rows: bad.map { r in
                        [r.bank, r.ev.account, r.ev.region, r.ev.rule, ManagedRules.named(r.ev.rule)?.cis ?? "", r.ev.resource, r.ev.reason]
                    }))
                }
            }
            out.flush()
        }
    }

    /// Per bank: rules, resources, % compliant (of COMPLIANT + NON_COMPLIANT), then the
    /// non-compliant count by rule.
    static func summary(_ rows: [(bank: String, ev: Evaluation)]) -> String {
        var lines: [[String]] = []
        var byRule: [[String]] = []
        for bank in Array(Set(rows.map(\.bank))).sorted() {
            let mine = rows.filter { $0.bank == bank }.map(\.ev)
            let ok = mine.filter { $0.status == .compliant }.count
            let bad = mine.filter { $0.status == .nonCompliant }.count
            let pct = ok + bad == 0 ? "-" : String(format: "%.1f%%", 100.0 * Double(ok) / Double(ok + bad))
            lines.append([bank, String(Set(mine.map(\.rule)).count), String(Set(mine.map { $0.key }).count), pct, String(bad),
                          String(mine.filter { $0.status == .insufficientData }.count)])
            var counts: [String: Int] = [:]
            for e in mine where e.status == .nonCompliant { counts[e.rule, default: 0] += 1 }
            for (rule, n) in counts.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                byRule.append([bank, rule, ManagedRules.named(rule)?.cis ?? "", String(n)])
            }
        }
        if lines.count > 1 {
            let all = rows.map(\.ev)
            let ok = all.filter { $0.status == .compliant }.count, bad = all.filter { $0.status == .nonCompliant }.count
            lines.append(["(all banks)", String(Set(all.map(\.rule)).count), String(Set(rows.map { "\($0.bank)|\($0.ev.key)" }).count),
                          ok + bad == 0 ? "-" : String(format: "%.1f%%", 100.0 * Double(ok) / Double(ok + bad)), String(bad),
                          String(all.filter { $0.status == .insufficientData }.count)])
        }
        var s = TableRenderer.render(header: ["bank", "rules", "resources", "compliant", "non_compliant", "insufficient_data"], rows: lines)
        if !byRule.isEmpty {
            s += "\n" + TableRenderer.render(header: ["bank", "rule", "cis", "non_compliant"], rows: byRule)
        }
        return s
    }
}
