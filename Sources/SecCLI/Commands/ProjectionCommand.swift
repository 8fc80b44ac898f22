import ArgumentParser
import Foundation
import SecModel
import SecQuery
import SecStore

struct ProjectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projection",
        abstract: "Show, catch up and rebuild the state derived from each bank's log.",
        discussion: """
        A projection folds a bank's log, in arrival order, into state of its own (in the \
        bank's LMDB file) and remembers the last sequence number it folded (its \
        checkpoint) in the same write transaction as the state, so an interrupted run \
        never counts an event twice or skips one. 'secq ingest' brings every projection \
        up to date when it ends.

        Projections:
          \(APIBaselines.name)  per principal, account and region: each API
                         (service + action) called, with first seen, last seen
                         and count; at most 10,000 APIs each (calls of later
                         new APIs are counted, not kept)
          \(Baselines.name)      per principal (CloudTrail): APIs, networks (/24,
                         /48), addresses, regions, user agents, S3 buckets
                         read (bytes per day), hour-of-week profile, hourly
                         rate mean/variance, error rate; per account:
                         principals; per interface (VPC flow): remote ports,
                         peers, bytes per peer per hour; per instance
                         (Route 53): domains, query types, name length and
                         entropy; per DB instance (RDS): users, clients.
                         Capped per entity; a first-seen item of most kinds
                         goes to the bank's change feed (new_api,
                         new_network, new_domain, ...), marked learning in
                         the entity's first 7 days

        Examples:
          secq projection status
          secq projection status --bank acme-bank --format json
          secq projection rebuild \(APIBaselines.name) --bank acme-bank
          secq projection catch-up
        """,
        subcommands: [ProjectionStatusCommand.self, ProjectionRebuildCommand.self, ProjectionCatchUpCommand.self])
}

/// The built-in projection called `name`, or a usage error naming the known ones.
func projectionNamed(_ name: String) throws -> any Projection {
    if let p = Projections.named(name) { return p }
    let names = Projections.builtIn.map { type(of: $0).name }
    let hint = Suggest.nearest(name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
    throw CLIError(message: "unknown projection '\(name)'\(hint); known: \(names.joined(separator: ", "))")
}

/// Brings every built-in projection of every registered bank up to date (after the
/// commands that append: ingest, quarantine retry).
func catchUpProjections(_ store: Store) throws {
    for id in try store.org().banks.map(\.id) {
        let bank = try store.bank(id)
        for p in Projections.builtIn { try bank.catchUp(p) }
    }
}

struct ProjectionStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per bank and projection: checkpoint, head, lag and state size.",
        discussion: """
        state       ok, behind, not built, or rebuild (an older version is stored)
        checkpoint  the last sequence number folded (0: nothing yet)
        head        the bank's last sequence number
        lag events  events not folded yet
        lag time    event time at the head minus event time at the checkpoint:
                    how far behind the projection is in log time
        entries     entries of the projection's databases, and their size on
        size        disk (LMDB pages)

        A projection shown as 'rebuild' is dropped and folded again by the next \
        'secq projection catch-up' or 'secq ingest'.

        Examples:
          secq projection status
          secq projection status --bank acme-bank --format json
        """)

    @OptionGroup var options: StoreOptions
    @OptionGroup var listing: BankListingOptions
    var banks: [String] { listing.banks }
    var format: OutputFormat { listing.format }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let out = Output()
            var rows: [[String]] = []
            for id in try selectedBanks(store, banks) {
                let bank = try store.bank(id)
                for p in Projections.builtIn {
                    let s = try bank.status(p)
                    if format == .json {
                        out.line(JSONLine.object([
                            ("bank", .string(id)), ("projection", .string(s.name)), ("version", .int(Int64(s.version))),
                            ("stored_version", s.storedVersion.map { .int(Int64($0)) } ?? .null),
                            ("checkpoint", .int(Int64(s.checkpoint))), ("head", .int(Int64(s.head))),
                            ("lag_events", .int(Int64(s.lagEvents))), ("lag_seconds", .double(Double(s.lagMillis) / 1000)),
                            ("entries", .int(Int64(s.entries))), ("state_bytes", .int(Int64(s.bytes))),
                            ("needs_rebuild", .bool(s.needsRebuild)),
                        ]))
                    } else {
                        let state = s.needsRebuild ? "rebuild" : s.storedVersion == nil ? "not built" : s.lagEvents == 0 ? "ok" : "behind"
                        rows.append([id, s.name, state, String(s.checkpoint), String(s.head), String(s.lagEvents),
                                     LagText.text(millis: s.lagMillis), String(s.entries), Bytes.human(s.bytes)])
                    }
                }
            }
            if format != .json {
                out.write(TableRenderer.render(header: ["bank", "projection", "state", "checkpoint", "head", "lag events",
                                                        "lag time", "entries", "size"], rows: rows))
            }
            out.flush()
        }
    }
}

/// Options of the commands that fold the log.
struct FoldOptions: ParsableArguments {
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable).") var banks: [String] = []
    @Option(help: "Events folded per write transaction (each one commits state and checkpoint).")
    var batch: Int = BankStore.projectionBatch
    @Flag(name: .customLong("no-progress"), help: "Do not show progress, even on a terminal.") var noProgress = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
    }

    /// Runs `fold` for each selected bank and projection, with progress on standard error
    /// (on a terminal) and one summary line per bank and projection.
    func run(store: Store, projections: [any Projection], verb: String,
             _ fold: (BankStore, any Projection, @escaping (UInt64, UInt64) -> Void) throws -> Int) throws {
        let progress = !noProgress && Terminal.stderrIsTTY
        for id in try selectedBanks(store, banks) {
            let bank = try store.bank(id)
            for p in projections {
                let name = type(of: p).name
                let started = Date()
                var lastShown = Date.distantPast
                let n = try fold(bank, p) { checkpoint, head in
                    guard progress, Date().timeIntervalSince(lastShown) > 0.2 else { return }
                    lastShown = Date()
                    let pct = head == 0 ? 100 : Double(checkpoint) * 100 / Double(head)
                    FileHandle.standardError.write(Data(String(format: "\r\u{1B}[K %@ %@: %llu/%llu (%.0f%%)", id, name,
                                                                 checkpoint, head, pct).utf8))
                }
                if progress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                let secs = Date().timeIntervalSince(started)
                let rate = secs > 0 ? Double(n) / secs : 0
                print("\(id) \(name): \(verb), \(n) events folded in \(String(format: "%.2f", secs)) s (\(Int(rate)) events/s)")
            }
        }
    }
}

struct ProjectionRebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Drop a projection's state and fold the bank's whole log again.",
        discussion: """
        The state is emptied and the checkpoint set to 0 in one transaction, then the log \
        is folded in batches (--batch events per transaction). If the rebuild is \
        interrupted, 'secq projection catch-up' (or the next 'secq ingest') finishes it; \
        the result is byte for byte the state an uninterrupted run gives.

        Examples:
          secq projection rebuild \(APIBaselines.name)
          secq projection rebuild \(APIBaselines.name) --bank acme-bank
        """)

    @OptionGroup var options: StoreOptions
    @Argument(help: ArgumentHelp("The projection to rebuild.", valueName: "name")) var name: String
    @OptionGroup var fold: FoldOptions

    func run() throws {
        try reportingErrors {
            let p = try projectionNamed(name)
            let store = try Store(path: options.path)
            try fold.run(store: store, projections: [p], verb: "rebuilt") { bank, p, progress in
                try bank.rebuild(p, batch: fold.batch, progress: progress)
            }
        }
    }
}

struct ProjectionCatchUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catch-up",
        abstract: "Fold what the log holds beyond each projection's checkpoint.",
        discussion: """
        Brings projections up to date without ingesting: after 'secq ingest --no-projections', \
        or to finish an interrupted rebuild. A projection whose stored state is of an older \
        version is rebuilt.

        Examples:
          secq projection catch-up
          secq projection catch-up \(APIBaselines.name) --bank acme-bank
        """)

    @OptionGroup var options: StoreOptions
    @Argument(help: ArgumentHelp("The projection (default: all).", valueName: "name")) var name: String?
    @OptionGroup var fold: FoldOptions

    func run() throws {
        try reportingErrors {
            let ps = try name.map { [try projectionNamed($0)] } ?? Projections.builtIn
            let store = try Store(path: options.path)
            try fold.run(store: store, projections: ps, verb: "caught up") { bank, p, progress in
                try bank.catchUp(p, batch: fold.batch, progress: progress)
            }
        }
    }
}

enum LagText {
    /// `0s`, `42s`, `3m20s`, `5h02m`, `2d03h`.
    static func text(millis: Int64) -> String {
        let s = millis / 1000
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        if s < 86400 { return "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m" }
        return "\(s / 86400)d\(String(format: "%02d", s / 3600 % 24))h"
    }
}
