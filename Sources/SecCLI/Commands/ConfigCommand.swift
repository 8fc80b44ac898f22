import ArgumentParser
import Foundation
import SecCompliance
import SecEngine
import SecModel
import SecStore

/// `secq config`: a resource's configuration as AWS Config recorded it, now or then.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show a resource's configuration item (now or at a past time) and its history.",
        discussion: """
        Reads the AWS Config items in the log (source config), found by the resource's \
        ARN (or its resource id when Config gives no ARN).

        Examples:
          secq config show arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0abc --at 2026-11-03T00:00:00Z | jq .configuration.ipPermissions
          secq config history arn:aws:s3:::acme-reports
        """,
        subcommands: [ConfigShow.self, ConfigHistory.self])
}

struct ConfigShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the resource's latest configuration item (as of --at) as JSON.",
        discussion: "The item as AWS Config wrote it, one JSON object (keys sorted); a deleted resource shows its ResourceDeleted item.")

    @OptionGroup var options: StoreOptions
    @Argument(help: ArgumentHelp("The resource's ARN (or resource id).", valueName: "arn")) var arn: String
    @Option(help: ArgumentHelp("The item in force at this time (RFC 3339).", valueName: "time")) var at: String?
    @Option(name: .customLong("bank"), help: "Only look in this bank (repeatable).") var banks: [String] = []

    func validate() throws { if let at { _ = try ComplianceCommand.time(at, option: "--at") } }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let when = try at.map { try ComplianceCommand.time($0, option: "--at") } ?? .max
            var best: Event? = nil
            var seen = false
            for id in try selectedBanks(store, banks) {
                let history = try store.bank(id).configHistory(resource: arn)
                seen = seen || !history.isEmpty
                if let e = history.last(where: { $0.time <= when }), best.map({ ($0.time, $0.seq) < (e.time, e.seq) }) ?? true {
                    best = e
                }
            }
            guard let e = best else {
                throw CLIError(message: seen ? "'\(arn)' has no configuration item at or before \(at ?? "now")"
                                             : "no configuration item of '\(arn)' (AWS Config items are found by ARN, else resource id)")
            }
            let out = Output()
            out.line(ConfigItem.itemJSON(raw: e.raw)?.jsonText ?? String(decoding: e.raw, as: UTF8.self))
            out.flush()
        }
    }
}

struct ConfigHistory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List the resource's configuration items in capture-time order, with what changed.",
        discussion: "json prints one object per item: time, bank, seq, status (configurationItemStatus), state_id and changed (the configuration and supplementaryConfiguration keys that differ from the item before).")

    @OptionGroup var options: StoreOptions
    @Argument(help: ArgumentHelp("The resource's ARN (or resource id).", valueName: "arn")) var arn: String
    @Option(name: .customLong("bank"), help: "Only look in this bank (repeatable).") var banks: [String] = []
    @Option(help: ArgumentHelp("Output format: table or json.", valueName: "table|json")) var format: OutputFormat = .table

    func validate() throws { if format == .csv { throw ValidationError("--format must be table or json") } }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            var rows: [(bank: String, e: Event, changed: [String])] = []
            for id in try selectedBanks(store, banks) {
                var previous: ConfigItem? = nil
                for e in try store.bank(id).configHistory(resource: arn) {
                    let item = ConfigItem(raw: e.raw, account: e.account, region: e.region, time: e.time)
                    var changed: [String] = []
                    if let item, let previous {
                        let a = previous.configuration?.object ?? [:], b = item.configuration?.object ?? [:]
                        for k in Set(a.keys).union(b.keys).sorted() where a[k] != b[k] { changed.append("configuration.\(k)") }
                        for k in Set(previous.supplementary.keys).union(item.supplementary.keys).sorted()
                        where previous.supplementary[k] != item.supplementary[k] {
                            changed.append("supplementaryConfiguration.\(k)")
                        }
                    }
                    if item != nil { previous = item }
                    rows.append((id, e, changed))
                }
            }
            guard !rows.isEmpty else {
                throw CLIError(message: "no configuration item of '\(arn)' (AWS Config items are found by ARN, else resource id)")
            }
            let out = Output()
            if format == .json {
                for r in rows {
                    out.line(JSONLine.object([
                        ("time", .time(r.e.time)), ("bank", .string(r.bank)), ("seq", .int(Int64(r.e.seq))),
                        ("status", r.e.action.map { .string($0) } ?? .null), ("state_id", r.e.eventID.map { .string($0) } ?? .null),
                        ("changed", .list(r.changed.map { .string($0) })),
                    ]))
                }
            } else {
                out.write(TableRenderer.render(header: ["time", "bank", "seq", "status", "changed"], rows: rows.map { r in
                    [Timestamp.rfc3339(millis: r.e.time), r.bank, String(r.e.seq), r.e.action ?? "", r.changed.joined(separator: ", ")]
                }))
            }
            out.flush()
        }
    }
}
