import ArgumentParser
import Foundation
import SecDetect
import SecEngine
import SecModel
import SecStore

/// `secq findings`: the findings 'secq detect' keeps, and archiving them.
struct FindingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "findings",
        abstract: "List the findings of 'secq detect', or archive one.",
        discussion: """
        One row per finding, highest severity first, then most recently seen. A finding \
        is one activity (its type and aggregation key in a bank and account): repeats \
        count it up and widen first/last seen instead of adding rows.

        Severity is GuardDuty's 1.0-10.0 with its labels: low 1.0-3.9, medium 4.0-6.9, \
        high 7.0-8.9, critical 9.0-10.0; --severity high shows high and critical. \
        Archived findings are listed too (status column); they keep counting up when \
        the activity recurs.

        The same rows are the 'findings' table of 'secq query' (columns id, \
        finding_type, severity, severity_label, title, bank, account, region, principal, \
        resource, src_ip, count, first_seen, last_seen, status, detector, \
        suppressed_by).

        The listing's options (--severity, --since, --bank, --format): 'secq findings \
        list --help'; 'list' may be left out.

        Examples:
          secq findings
          secq findings --severity high --since 24h --bank acme-bank
          secq findings --format json | jq -r .id
          secq findings archive 3f2a...            (an id from the list)
          secq findings suppress add scanner --where 'finding_type == "Recon:EC2/Portscan" and src_ip == \"203.0.113.7\"'
          secq query 'findings | where status == "active" | stats count() by finding_type'
        """,
        subcommands: [FindingsList.self, FindingsArchive.self, FindingsSuppress.self],
        defaultSubcommand: FindingsList.self)
}

struct FindingsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List findings (the default).")

    @OptionGroup var options: StoreOptions
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable).") var banks: [String] = []
    @Option(help: ArgumentHelp("Only this label and above.", valueName: "low|medium|high|critical"))
    var severity: String?
    @Option(help: ArgumentHelp("Only findings last seen within this long before now (30m, 24h, 7d).", valueName: "duration"))
    var since: String?
    @Option(help: ArgumentHelp("Output format: table or json (one object per line).", valueName: "table|json"))
    var format: OutputFormat = .table

    func validate() throws {
        if format == .csv { throw ValidationError("--format must be table or json") }
        if let severity, SeverityLabel(rawValue: severity) == nil {
            throw ValidationError("--severity '\(severity)' is not low, medium, high or critical")
        }
        if let since, Self.duration(since) == nil {
            throw ValidationError("--since '\(since)' is not a duration: a whole number and a unit (ms, s, m, h, d, w), like 24h")
        }
    }

    /// `30m`, `24h`, `7d` in milliseconds.
    static func duration(_ s: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
                                         ("w", 604_800_000)]
        for (u, scale) in units where s.hasSuffix(u) {
            let digits = s.dropLast(u.count)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int64(digits), n >= 0 else { continue }
            let (v, o) = n.multipliedReportingOverflow(by: scale)
            return o ? nil : v
        }
        return nil
    }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let minimum = severity.flatMap(SeverityLabel.init(rawValue:))?.minimum ?? 0
            let after = since.flatMap(Self.duration).map { Int64(Date().timeIntervalSince1970 * 1000) - $0 }
            var found: [Finding] = []
            for id in try selectedBanks(store, banks) {
                found += try store.bank(id).findings().filter { f in
                    f.severity >= minimum && (after == nil || f.lastSeen >= after!)
                }
            }
            found.sort { ($1.severity, $1.lastSeen, $0.id) < ($0.severity, $0.lastSeen, $1.id) }
            let out = Output()
            if format == .json {
                for f in found {
                    var fields: [(String, JSONLine.Scalar)] = []
                    for (c, v) in zip(FindingRows.columns, FindingRows.row(f)) { fields.append((c.name, JSONLine.scalar(v))) }
                    fields.append(("description", .string(f.description)))
                    fields.append(("aggregation_key", .list(f.aggregationKey.map { .string($0) })))
                    fields.append(("evidence", .list(f.evidence.map { ev in
                        .object([("seq", .int(Int64(ev.seq))), ("event_id", ev.eventID.map { .string($0) } ?? .null),
                                 ("time", .time(ev.time))])
                    })))
                    out.line(JSONLine.object(fields))
                }
            } else {
                out.write(TableRenderer.render(
                    header: ["severity", "finding_type", "bank", "account", "principal / resource", "count", "last_seen", "status", "id"],
                    rows: found.map { f in
                        [String(format: "%.1f %@", f.severity, f.label.rawValue), f.type.description, f.bank, f.account,
                         f.principal ?? f.resource ?? f.srcIP ?? "", String(f.count), Timestamp.rfc3339(millis: f.lastSeen),
                         f.status.rawValue, f.id]
                    }))
                if found.isEmpty { out.line("(no findings; 'secq detect' finds them)") }
            }
            out.flush()
        }
    }
}

struct FindingsArchive: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Archive a finding (its status becomes archived; it stays, and still counts up).",
        discussion: "Written in one write transaction of the finding's bank. --unarchive makes it active again.")

    @OptionGroup var options: StoreOptions
    @Argument(help: ArgumentHelp("The finding's id (32 hex digits, from 'secq findings').", valueName: "id")) var id: String
    @Option(name: .customLong("bank"), help: "Only look in this bank (repeatable).") var banks: [String] = []
    @Flag(help: "Make the finding active again.") var unarchive = false

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            var hits: [String] = []
            for b in try selectedBanks(store, banks) where try store.bank(b).setFindingStatus(id, unarchive ? .active : .archived) {
                hits.append(b)
            }
            guard !hits.isEmpty else { throw CLIError(message: "no finding '\(id)' (ids are listed by 'secq findings')") }
            Terminal.err("\(unarchive ? "unarchived" : "archived") finding \(id) in \(hits.joined(separator: ", "))")
        }
    }
}

/// `secq findings suppress`: the store's suppression rules.
struct FindingsSuppress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppress",
        abstract: "Manage suppression rules: new findings that match one are archived on arrival.",
        discussion: """
        A suppression rule is a name and a 'where' expression over the columns of the \
        'findings' table (finding_type, severity, bank, account, region, principal, \
        resource, src_ip, detector, title, ...), kept in STORE/suppressions.json. When \
        'secq detect' creates a finding that matches a rule, the finding is stored with \
        status archived and suppressed_by the rule's name: it is kept (and counts up when \
        the activity recurs), never dropped. Findings that exist when a rule is added \
        are not changed; archive them with 'secq findings archive'.

        Examples:
          secq findings suppress add vuln-scanner \\
            --where 'finding_type == "Recon:EC2/Portscan" and src_ip in cidr("198.51.100.0/24")' \\
            --reason "quarterly scan by the bank's vendor"
          secq findings suppress list
          secq findings suppress remove vuln-scanner
          secq query 'findings | where suppressed_by != null | stats count() by suppressed_by'
        """,
        subcommands: [Add.self, List.self, Remove.self],
        defaultSubcommand: List.self)

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a suppression rule.")

        @OptionGroup var options: StoreOptions
        @Argument(help: "The rule's name (letters, digits, '-', '_', '.').") var name: String
        @Option(name: .customLong("where"), help: ArgumentHelp("The expression over 'findings' columns.", valueName: "expr"))
        var expression: String
        @Option(help: "Why the activity is expected (kept with the rule).") var reason: String?

        func validate() throws {
            guard !name.isEmpty, name.utf8.allSatisfy({ b in
                (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 95 || b == 46
            }) else { throw ValidationError("the name '\(name)' must be letters, digits, '-', '_' or '.'") }
        }

        func run() throws {
            try reportingErrors {
                _ = try Store(path: options.path)
                _ = try SuppressionRules.filter(expression, name: "--where")
                var rules = try SuppressionRules.load(store: options.path)
                guard !rules.rules.contains(where: { $0.name == name }) else {
                    throw CLIError(message: "a suppression rule '\(name)' exists; remove it first to change it", code: 2)
                }
                rules.rules.append(.init(name: name, where: expression, reason: reason,
                                         created: Timestamp.rfc3339(millis: Int64(Date().timeIntervalSince1970 * 1000))))
                try rules.save(store: options.path)
                Terminal.err("added suppression rule '\(name)': new findings matching it are archived on arrival")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the suppression rules (the default).")

        @OptionGroup var options: StoreOptions
        @Option(help: ArgumentHelp("Output format: table or json (one object per line).", valueName: "table|json"))
        var format: OutputFormat = .table

        func validate() throws {
            if format == .csv { throw ValidationError("--format must be table or json") }
        }

        func run() throws {
            try reportingErrors {
                _ = try Store(path: options.path)
                let rules = try SuppressionRules.load(store: options.path).rules
                let out = Output()
                if format == .json {
                    for r in rules {
                        out.line(JSONLine.object([("name", .string(r.name)), ("where", .string(r.where)),
                                                  ("reason", r.reason.map { .string($0) } ?? .null),
                                                  ("created", r.created.map { .string($0) } ?? .null)]))
                    }
                } else if rules.isEmpty {
                    out.line("(no suppression rules; 'secq findings suppress add --help')")
                } else {
                    out.write(TableRenderer.render(header: ["name", "where", "reason", "created"],
                                                   rows: rules.map { [$0.name, $0.where, $0.reason ?? "", $0.created ?? ""] }))
                }
                out.flush()
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove a suppression rule (findings it archived stay archived).")

        @OptionGroup var options: StoreOptions
        @Argument(help: "The rule's name.") var name: String

        func run() throws {
            try reportingErrors {
                _ = try Store(path: options.path)
                var rules = try SuppressionRules.load(store: options.path)
                guard let i = rules.rules.firstIndex(where: { $0.name == name }) else {
                    throw CLIError(message: "no suppression rule '\(name)' ('secq findings suppress list' names them)")
                }
                rules.rules.remove(at: i)
                try rules.save(store: options.path)
                Terminal.err("removed suppression rule '\(name)'")
            }
        }
    }
}
