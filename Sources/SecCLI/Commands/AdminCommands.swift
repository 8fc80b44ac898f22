import ArgumentParser
import Foundation
import SecModel
import SecQuery
import SecStore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the store and register banks and their AWS accounts.",
        discussion: """
        The org file lists banks and the accounts each owns:
          {"banks": [{"id": "acme-bank", "name": "Acme Bank",
                      "accounts": [{"id": "111122223333", "name": "acme-prod", "ou": "prod"}]}]}
        Running init again with more banks or accounts adds them; an account never moves \
        to another bank. Each bank gets its own directory, readable by the owner only.
        """)

    @OptionGroup var options: StoreOptions
    @Option(help: ArgumentHelp("The organisation file (JSON).", valueName: "file")) var org: String

    func run() throws {
        try reportingErrors {
            guard let data = FileManager.default.contents(atPath: org) else {
                throw CLIError(message: "cannot read org file '\(org)'")
            }
            let parsed: Org
            do { parsed = try JSONDecoder().decode(Org.self, from: data) } catch {
                throw CLIError(message: "org file '\(org)' is not valid: \(OrgFileError.describe(error))")
            }
            let store = try Store(path: options.path, create: true)
            let merged = try store.register(parsed)
            let accounts = merged.banks.reduce(0) { $0 + $1.accounts.count }
            print("store '\(options.path)': \(merged.banks.count) banks, \(accounts) accounts")
        }
    }
}

enum OrgFileError {
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let k, let ctx):
            return "missing key '\(k.stringValue)' at \(path(ctx))"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at \(path(ctx))"
        case DecodingError.dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not JSON" : "bad value at \(path(ctx))"
        default:
            return "\(error)"
        }
    }

    static func path(_ ctx: DecodingError.Context) -> String {
        ctx.codingPath.isEmpty ? "top level" : ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}

struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "org", abstract: "List the registered banks and accounts.")

    @OptionGroup var options: StoreOptions
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let org = try store.org()
            if format == .json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.sortedKeys]
                for b in org.banks {
                    for a in b.accounts {
                        let row = ["bank": b.id, "bank_name": b.name, "account": a.id, "name": a.name, "ou": a.ou]
                        print(String(decoding: try enc.encode(row), as: UTF8.self))
                    }
                }
                return
            }
            var rows: [[String]] = []
            for b in org.banks { for a in b.accounts { rows.append([b.id, a.id, a.name, a.ou]) } }
            print(TableRenderer.render(header: ["bank", "account", "name", "ou"], rows: rows), terminator: "")
        }
    }
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per bank: events, blocks, bytes on disk, raw bytes and time range.")

    @OptionGroup var options: StoreOptions
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable).") var banks: [String] = []
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let ids = try selectedBanks(store, banks)
            var rows: [[String]] = []
            let out = Output()
            for id in ids {
                let bank = try store.bank(id)
                let st = try bank.read { try $0.state() }
                let disk = bank.diskBytes
                let range = st.events == 0 ? ("", "") : (Timestamp.rfc3339(millis: st.tMin), Timestamp.rfc3339(millis: st.tMax))
                if format == .json {
                    out.line(JSONLine.object([
                        ("bank", .string(id)), ("events", .int(Int64(st.events))), ("blocks", .int(Int64(st.blocks))),
                        ("disk_bytes", .int(Int64(disk))), ("raw_bytes", .int(Int64(st.rawBytes))),
                        ("first", st.events == 0 ? .null : .time(st.tMin)), ("last", st.events == 0 ? .null : .time(st.tMax)),
                        ("next_seq", .int(Int64(st.nextSeq))),
                    ]))
                } else {
                    rows.append([id, String(st.events), String(st.blocks), Bytes.human(disk), Bytes.human(Int(st.rawBytes)), range.0, range.1])
                }
            }
            if format != .json {
                out.write(TableRenderer.render(header: ["bank", "events", "blocks", "on disk", "raw", "first", "last"], rows: rows))
            }
            out.flush()
        }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute every block hash and the integrity chain of each bank.",
        discussion: "Exits 1 and names the first bad block when a bank does not verify. The chain head printed for each bank can be kept elsewhere as an anchor.")

    @OptionGroup var options: StoreOptions
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable).") var banks: [String] = []

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            var failed = false
            for id in try selectedBanks(store, banks) {
                let report = try store.bank(id).verify()
                if let p = report.problem {
                    failed = true
                    print("FAIL \(id): \(p)")
                } else {
                    let deleted = report.tombstones == 0 ? "" : " (\(report.tombstones) deleted by retention, \(report.deletedEvents) events, tombstones verified)"
                    print("ok   \(id): \(report.blocks) blocks\(deleted), \(report.events) events, head \(SHA256Hex.of(report.head))")
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}

enum SHA256Hex {
    static func of(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
}

/// The banks a command works on: those named, else all registered.
/// `--bank` (repeatable) and `--format table|json`, for commands that list per bank.
struct BankListingOptions: ParsableArguments {
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable).") var banks: [String] = []
    @Option(help: ArgumentHelp("Output format: table or json.", valueName: "table|json")) var format: OutputFormat = .table

    func validate() throws {
        if format == .csv { throw ValidationError("--format must be table or json") }
    }
}

func selectedBanks(_ store: Store, _ named: [String]) throws -> [String] {
    let org = try store.org()
    let all = org.banks.map(\.id)
    for n in named where !all.contains(n) {
        let hint = Suggest.nearest(n, in: all).map { " (did you mean '\($0)'?)" } ?? ""
        throw CLIError(message: "unknown bank '\(n)'\(hint)")
    }
    return named.isEmpty ? all : named
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

enum Bytes {
    static func human(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n), i = 0
        while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }
}
