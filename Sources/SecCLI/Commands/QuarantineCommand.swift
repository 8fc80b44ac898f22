import ArgumentParser
import Foundation
import SecModel
import SecStore

struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List, show or export the records secq refused, with file, offset and reason.",
        subcommands: [List.self, Show.self, Export.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per refused record.")
        @OptionGroup var options: StoreOptions
        @Option(help: "Output format: table or json.") var format: OutputFormat = .table
        @Option(help: "Show at most this many.") var limit: Int = 1000

        func run() throws {
            try reportingErrors {
                let store = try Store(path: options.path)
                let entries = try store.quarantined(limit: limit)
                let out = Output()
                if format == .json {
                    for q in entries { out.line(QuarantineCommand.json(q, withBytes: false)) }
                } else {
                    let rows = entries.map { [String($0.id), $0.file, String($0.offset), $0.bank ?? "", $0.account ?? "", $0.reason] }
                    out.write(TableRenderer.render(header: ["id", "file", "offset", "bank", "account", "reason"], rows: rows))
                    if entries.isEmpty { out.line("(quarantine is empty)") }
                }
                out.flush()
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

    static func json(_ q: Store.QuarantineEntry, withBytes: Bool) -> String {
        var fields: [(String, JSONLine.Scalar)] = [
            ("id", .int(Int64(q.id))), ("file", .string(q.file)), ("offset", .int(q.offset)), ("reason", .string(q.reason)),
            ("bank", q.bank.map { .string($0) } ?? .null), ("account", q.account.map { .string($0) } ?? .null),
            ("at", .time(q.at)), ("size", .int(Int64(q.size))),
        ]
        if withBytes { fields.append(("bytes_base64", .string(Data(q.bytes).base64EncodedString()))) }
        return JSONLine.object(fields)
    }
}
