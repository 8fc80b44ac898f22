import ArgumentParser
import Foundation
import SecModel
import SecStore

/// `secq baseline`: the behavioural profile of principals (and other entities) as the
/// baselines projections hold it.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Print what each principal (or other entity) is usually seen doing.",
        discussion: """
        A readable profile per entity from the baselines projections: when it was first \
        and last active and how often, then each thing it was seen doing (APIs called, \
        and what other baselines keep), most frequent first, with first and last seen. \
        The same rows are the 'baselines' table of 'secq query'.

        Entities are keyed per bank and account; APIs are also kept per region (shown \
        after their dates). --principal matches the whole ARN or, failing that, any \
        part of it (with --principal, only principals are shown).

        Examples:
          secq baseline --bank acme-bank
          secq baseline --bank acme-bank --principal alice
          secq baseline --account 111122223333 --format json | jq '.kinds.api[0]'
          secq query 'baselines | where kind == "api" and first_seen > ago(1d)'
        """)

    @OptionGroup var options: StoreOptions
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable).") var banks: [String] = []
    @Option(help: "Only this account.") var account: String?
    @Option(help: ArgumentHelp("Only principals whose ARN is this, else contains it.", valueName: "arn-or-part"))
    var principal: String?
    @Option(help: "Things of each kind shown per entity (most frequent first).") var limit = 10
    @Option(help: ArgumentHelp("Output format: table (a profile per entity) or json (one object per entity).",
                               valueName: "table|json"))
    var format: OutputFormat = .table

    func validate() throws {
        if format == .csv { throw ValidationError("--format must be table or json") }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let a = account, !Org.isAccountID(a) { throw ValidationError("--account must be a 12-digit AWS account id") }
    }

    struct Entity: Hashable {
        var bank, account, type, name: String
    }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let out = Output()
            var profiles: [Entity: [BaselineRow]] = [:]
            for id in try selectedBanks(store, banks) {
                let rows = try store.bank(id).baselineRows().filter { r in
                    (account == nil || r.account == account) && (principal == nil || r.entityType == "principal")
                }
                for r in rows {
                    profiles[Entity(bank: id, account: r.account, type: r.entityType, name: r.entity), default: []].append(r)
                }
            }
            if let p = principal {
                let exact = profiles.filter { $0.key.name == p }
                profiles = exact.isEmpty ? profiles.filter { $0.key.name.localizedCaseInsensitiveContains(p) } : exact
            }
            let order = profiles.keys.sorted { ($0.bank, $0.account, $0.type, $0.name) < ($1.bank, $1.account, $1.type, $1.name) }
            if order.isEmpty {
                FileHandle.standardError.write(Data("secq: no baselines match (has 'secq ingest' run? see 'secq projection status')\n".utf8))
            }
            for e in order { format == .json ? out.line(json(e, profiles[e]!)) : out.write(text(e, profiles[e]!)) }
            out.flush()
        }
    }

    /// The entity's own row (its whole activity) and its other rows by kind, most
    /// frequent first.
    func split(_ rows: [BaselineRow], _ e: Entity) -> (own: BaselineRow?, kinds: [(String, [BaselineRow])]) {
        let own = rows.first { $0.kind == e.type }
        let byKind = Dictionary(grouping: rows.filter { $0.kind != e.type }, by: \.kind)
        let kinds = byKind.keys.sorted().map { k in
            (k, byKind[k]!.sorted { ($1.count, $0.key) < ($0.count, $1.key) })
        }
        return (own, kinds)
    }

    func text(_ e: Entity, _ rows: [BaselineRow]) -> String {
        let (own, kinds) = split(rows, e)
        func day(_ t: Int64) -> String { String(Timestamp.rfc3339(millis: t).prefix(10)) }
        var s = "\(e.type) \(e.name)\n  \(e.bank), account \(e.account)\n"
        if let own {
            s += "  active \(Timestamp.rfc3339(millis: own.firstSeen)) .. \(Timestamp.rfc3339(millis: own.lastSeen)), \(own.count) events\n"
        }
        for (kind, list) in kinds {
            let shown = list.prefix(limit)
            s += "  \(kind) (\(list.count)\(list.count > shown.count ? ", top \(shown.count) by count" : "")):\n"
            let width = shown.map(\.key.count).max() ?? 0
            let countWidth = shown.map { String($0.count).count }.max() ?? 0
            for r in shown {
                let pad = String(repeating: " ", count: max(0, width - r.key.count))
                let n = String(r.count)
                let extra = (r.region.isEmpty ? "" : "  " + r.region) + (r.bytes.map { "  \($0) bytes" } ?? "")
                s += "    \(r.key)\(pad)  \(String(repeating: " ", count: countWidth - n.count))\(n)  \(day(r.firstSeen)) .. \(day(r.lastSeen))\(extra)\n"
            }
        }
        return s + "\n"
    }

    func json(_ e: Entity, _ rows: [BaselineRow]) -> String {
        let (own, kinds) = split(rows, e)
        func time(_ t: Int64?) -> JSONLine.Scalar { t.map { .string(Timestamp.rfc3339(millis: $0)) } ?? .null }
        func item(_ r: BaselineRow) -> JSONLine.Scalar {
            var f: [(String, JSONLine.Scalar)] = [("key", .string(r.key)), ("count", .int(Int64(r.count))),
                                                  ("first_seen", time(r.firstSeen)), ("last_seen", time(r.lastSeen))]
            if !r.region.isEmpty { f.append(("region", .string(r.region))) }
            if let b = r.bytes { f.append(("bytes", .int(Int64(bitPattern: b)))) }
            return .object(f)
        }
        var byKind: [(String, JSONLine.Scalar)] = []
        for (k, list) in kinds { byKind.append((k, .list(list.prefix(limit).map(item)))) }
        let count: JSONLine.Scalar = own.map { .int(Int64($0.count)) } ?? .null
        let fields: [(String, JSONLine.Scalar)] = [
            ("bank", .string(e.bank)), ("account", .string(e.account)),
            ("entity_type", .string(e.type)), ("entity", .string(e.name)),
            ("first_seen", time(own?.firstSeen)), ("last_seen", time(own?.lastSeen)), ("count", count),
            ("kinds", .object(byKind)),
        ]
        return JSONLine.object(fields)
    }
}
