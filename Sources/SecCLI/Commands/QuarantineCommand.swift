import ArgumentParser
import Foundation
import SecIngest
import SecModel
import SecStore

struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List, show, export or retry the records secq refused, with file, offset and reason.",
        discussion: """
        Every record secq could not store is kept here with its file, byte offset, reason \
        and original bytes. Records stored anyway but worth a look (a time far in the \
        future) are listed with a reason starting 'kept, flagged'.

        Examples:
          secq quarantine                      # list
          secq quarantine show 12              # the original bytes of entry 12
          secq quarantine export | jq .reason  # NDJSON, bytes in base64
          secq org add ... ; secq quarantine retry   # after registering the account
          secq quarantine retry --account 111122223333 7 8
        """,
        subcommands: [List.self, Show.self, Export.self, Retry.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per refused record.")
        @OptionGroup var options: StoreOptions
        @Option(help: "Output format: table or json.") var format: OutputFormat = .table
        @Option(help: "Show at most this many.") var limit: Int = 1000

        func run() throws {
            try reportingErrors {
                let store = try Store(path: options.path)
                var entries = try store.quarantined(limit: limit + 1)
                let more = entries.count > limit
                if more { entries.removeLast() }
                let out = Output()
                if format == .json {
                    for q in entries { out.line(QuarantineCommand.json(q, withBytes: false)) }
                } else {
                    let rows = entries.map { [String($0.id), $0.file, String($0.offset), $0.bank ?? "", $0.account ?? "", $0.reason] }
                    out.write(TableRenderer.render(header: ["id", "file", "offset", "bank", "account", "reason"], rows: rows))
                    if entries.isEmpty { out.line("(quarantine is empty)") }
                }
                out.flush()
                if more { Terminal.err("(the first \(limit) entries; --limit N shows more)") }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one refused record's original bytes.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "The quarantine id (see 'secq quarantine list').") var id: UInt64

        func run() throws {
            try reportingErrors {
                let store = try Store(path: options.path)
                guard let q = try store.quarantined(withBytes: true).first(where: { $0.id == id }) else {
                    throw CLIError(message: "no quarantined record with id \(id)")
                }
                Terminal.err("# \(q.file) offset \(q.offset): \(q.reason)")
                FileHandle.standardOutput.write(Data(q.bytes))
                if q.bytes.last != 10 { print() }
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "NDJSON of every refused record, bytes included (base64).")
        @OptionGroup var options: StoreOptions

        func run() throws {
            try reportingErrors {
                let store = try Store(path: options.path)
                let out = Output()
                for q in try store.quarantined(withBytes: true) { out.line(QuarantineCommand.json(q, withBytes: true)) }
                out.flush()
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse refused records again and store those that now go in.",
            discussion: """
            Use after fixing the cause: registering the account's bank (secq init --org), \
            naming the account a log's path did not give (--account), or the format \
            detection missed (--format). Stored records leave the quarantine; the others \
            stay with their new reason. Retrying twice stores nothing twice.
            """)
        @OptionGroup var options: StoreOptions
        @Argument(help: "Quarantine ids to retry (default: all).") var ids: [UInt64] = []
        @Option(help: "Parse as this format instead of the one recorded.") var format: String?
        @Option(help: "Account for records that carry none.") var account: String?
        @Flag(help: "Print the result as one JSON object.") var json = false

        func validate() throws {
            if let format, InputFormat(rawValue: format) == nil {
                throw ValidationError("unknown format '\(format)'; known: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let account, !Org.isAccountID(account) {
                throw ValidationError("--account must be a 12-digit AWS account id, not '\(account)'")
            }
        }

        func run() throws {
            try reportingErrors {
                let store = try Store(path: options.path)
                var retry = QuarantineRetry()
                retry.ids = ids.isEmpty ? nil : Set(ids)
                retry.format = format.flatMap(InputFormat.init(rawValue:))
                retry.account = account
                let r = try retry.run(store: store)
                if r.stored > 0 { try catchUpProjections(store) }
                if json {
                    print(JSONLine.object([
                        ("retried", .int(Int64(r.retried))), ("stored", .int(Int64(r.stored))),
                        ("duplicates", .int(Int64(r.duplicates))), ("still_quarantined", .int(Int64(r.stillQuarantined))),
                        ("skipped_kept", .int(Int64(r.skipped))),
                    ]))
                } else {
                    print("retried \(r.retried)  stored \(r.stored)  duplicates \(r.duplicates)  still quarantined \(r.stillQuarantined)"
                          + (r.skipped > 0 ? "  (\(r.skipped) kept-and-flagged entries skipped)" : ""))
                }
            }
        }
    }

    static func json(_ q: Store.QuarantineEntry, withBytes: Bool) -> String {
        var fields: [(String, JSONLine.Scalar)] = [
            ("id", .int(Int64(q.id))), ("file", .string(q.file)), ("offset", .int(q.offset)), ("reason", .string(q.reason)),
            ("bank", q.bank.map { .string($0) } ?? .null), ("account", q.account.map { .string($0) } ?? .null),
            ("at", .time(q.at)), ("size", .int(Int64(q.size))),
            ("format", q.format.map { .string($0) } ?? .null), ("kept", .bool(q.kept == true)),
        ]
        if withBytes { fields.append(("bytes_base64", .string(Data(q.bytes).base64EncodedString()))) }
        return JSONLine.object(fields)
    }
}
