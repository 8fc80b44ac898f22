import ArgumentParser
import Foundation
import SecModel
import SecStore

struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Show and apply the retention policy: archive, then delete what expired.",
        discussion: """
        The policy is STORE/retention.json (or --policy FILE), checked against \
        schemas/retention.schema.json:
          {"default": {"cloudtrail": "400d", "vpcflow": "90d", "finding": "7y", "*": "365d"},
           "banks": {"acme-bank": {"vpcflow": "30d",
                                   "ous": {"payments": {"cloudtrail": "5y"}},
                                   "accounts": {"111122223333": {"cloudtrail": "7y"}}}},
           "legal_holds": [{"bank": "acme-bank", "account": "111122223333",
                            "from": "2026-01-01T00:00:00Z", "to": "2026-12-31T00:00:00Z",
                            "reason": "case 42"}]}
        Periods: 36h, 90d, 12w, 7y (365-day years) or "forever". An event's period comes \
        from its account's entry, else its account's OU's, else its bank's, else \
        "default"; in each the source's \
        key before "*". No entry keeps the event. A legal hold (bank, optionally account \
        and time range) keeps every event it covers, whatever the period.

        Examples:
          secq retention plan
          secq retention plan --bank acme-bank --as-of 2027-06-01T00:00:00Z --format json
          secq retention apply --archive /archive/secq
        """,
        subcommands: [RetentionPlanCommand.self, RetentionApplyCommand.self])
}

/// `--policy`, `--as-of`: what both retention commands share.
struct RetentionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The policy file (default: STORE/retention.json).", valueName: "file")) var policy: String?
    @Option(name: .customLong("as-of"), help: ArgumentHelp("Judge ages as of this time (RFC 3339; default now).", valueName: "time"))
    var asOf: String?

    func validate() throws {
        if let asOf, Timestamp.parse(asOf) == nil {
            throw ValidationError("--as-of: '\(asOf)' is not an RFC 3339 time like 2027-01-01T00:00:00Z")
        }
    }

    var asOfMillis: Int64 { asOf.flatMap(Timestamp.parse) ?? Int64(Date().timeIntervalSince1970 * 1000) }

    func load(_ store: Store, storePath: String) throws -> RetentionPolicy {
        let file = policy ?? storePath + "/retention.json"
        guard let data = FileManager.default.contents(atPath: file) else {
            if policy != nil { throw CLIError(message: "cannot read retention policy '\(file)'") }
            throw CLIError(message: "no retention policy: write '\(file)' or pass --policy FILE (see 'secq retention --help')")
        }
        let org = try store.org()
        return try RetentionPolicy.parse(data, file: file, banks: org.banks.map(\.id), org: org)
    }
}

struct RetentionPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "What retention would archive and delete, per bank and source. Changes nothing.",
        discussion: """
        Per bank and source: the events that have expired, the blocks they are in (a \
        block straddling the cut-off is rewritten without them), their stored bytes, the \
        oldest and newest of them, and the expired events a legal hold keeps.
        """)

    @OptionGroup var options: StoreOptions
    @OptionGroup var retention: RetentionOptions
    @OptionGroup var listing: BankListingOptions

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let policy = try retention.load(store, storePath: options.path)
            let asOf = retention.asOfMillis
            let out = Output()
            var rows: [[String]] = []
            for id in try selectedBanks(store, listing.banks) {
                let expiring = try store.bank(id).expiring(policy: policy, asOf: asOf)
                for (source, blocks) in Dictionary(grouping: expiring, by: \.source).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    let s = RetentionPlanCommand.summary(blocks)
                    if listing.format == .json {
                        out.line(JSONLine.object([
                            ("bank", .string(id)), ("source", .string(source.rawValue)), ("events", .int(Int64(s.events))),
                            ("blocks", .int(Int64(s.blocks))), ("rewritten_blocks", .int(Int64(s.partial))),
                            ("bytes", .int(Int64(s.bytes))), ("held", .int(Int64(s.held))),
                            ("oldest", s.events == 0 ? .null : .time(s.oldest)), ("newest", s.events == 0 ? .null : .time(s.newest)),
                            ("rules", .list(s.rules.map { .string($0) })),
                        ]))
                    } else {
                        rows.append([id, source.rawValue, String(s.events), String(s.blocks), String(s.partial), Bytes.human(s.bytes),
                                     s.events == 0 ? "" : Timestamp.rfc3339(millis: s.oldest),
                                     s.events == 0 ? "" : Timestamp.rfc3339(millis: s.newest), String(s.held)])
                    }
                }
            }
            if listing.format != .json {
                out.line("as of \(Timestamp.rfc3339(millis: asOf))")
                if rows.isEmpty { out.line("nothing has expired") } else {
                    out.write(TableRenderer.render(header: ["bank", "source", "events", "blocks", "rewritten", "bytes", "oldest", "newest", "held"], rows: rows))
                }
            }
            out.flush()
        }
    }

    struct Summary { var events = 0, blocks = 0, partial = 0, bytes = 0, held = 0; var oldest = Int64.max, newest = Int64.min; var rules: [String] = [] }

    static func summary(_ blocks: [ExpiringBlock]) -> Summary {
        var s = Summary()
        var rules = Set<String>()
        for b in blocks {
            s.held += b.held
            guard !b.expiredRows.isEmpty else { continue }
            s.events += b.expiredRows.count; s.blocks += 1; s.bytes += b.bytes
            if !b.whole { s.partial += 1 }
            s.oldest = min(s.oldest, b.oldest); s.newest = max(s.newest, b.newest)
            rules.insert(b.rule)
        }
        s.rules = rules.sorted()
        return s
    }
}

struct RetentionApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Archive what expired, then delete it from the store, leaving tombstones in the chain.",
        discussion: """
        For each bank, in batches: the expired events are written to the archive \
        (DIR/source=S/bank=B/account=A/region=R/day=D/seq-FIRST-LAST.ndjson.gz, each line \
        the event as 'secq query --format json' prints it plus its raw record) and synced; \
        then, in one transaction, their blocks are deleted with their postings and \
        idempotency entries, each leaving a tombstone in the integrity chain (sequence \
        range, block hash, rule, time), and the files are recorded in the bank's manifest \
        (also written as DIR/_manifest-BANK.json). A block straddling the cut-off is \
        rewritten without its expired events (the rest move to a new block at the head of \
        the log; subscribers and projections that had read them do not read them again). \
        Events under a legal hold stay. 'secq verify' still verifies the chain; 'secq \
        archive verify DIR' checks the archive; 'secq ingest DIR' restores it.

        Safe to interrupt: run it again (with the same --as-of) and it finishes; files an \
        interrupted run wrote but did not record are rewritten.

        Examples:
          secq retention apply --archive /archive/secq
          secq retention apply --archive /archive/secq --as-of 2027-06-01T00:00:00Z --bank acme-bank
        """)

    @OptionGroup var options: StoreOptions
    @OptionGroup var retention: RetentionOptions
    @Option(help: ArgumentHelp("Archive directory (created when missing).", valueName: "dir")) var archive: String?
    @Flag(name: .customLong("no-archive"), help: "Delete without archiving (the data is gone for good).") var noArchive = false
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable).") var banks: [String] = []
    @Option(name: .customLong("batch"), help: "Events archived and deleted per transaction.") var batchEvents = 50_000
    @Flag(help: "Print the summary as JSON, one object per bank.") var json = false
    @Flag(name: .customLong("no-progress"), help: "Do not show progress, even on a terminal.") var noProgress = false

    func validate() throws {
        if archive == nil && !noArchive { throw ValidationError("name the archive with --archive DIR (or pass --no-archive to delete without one)") }
        if archive != nil && noArchive { throw ValidationError("--archive and --no-archive exclude each other") }
        if batchEvents < 1 { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let policy = try retention.load(store, storePath: options.path)
            let asOf = retention.asOfMillis
            var dir: String?
            if let archive {
                try FileManager.default.createDirectory(atPath: archive, withIntermediateDirectories: true)
                dir = URL(fileURLWithPath: archive).standardizedFileURL.resolvingSymlinksInPath().path
            }
            let org = try store.org()
            var ous: [String: String] = [:]
            for b in org.banks { for a in b.accounts { ous[a.id] = a.ou } }
            let progress = !noProgress && !json && Terminal.stderrIsTTY
            let out = Output()
            for id in try selectedBanks(store, banks) {
                let started = Date()
                let bank = try store.bank(id)
                let cleaned = try dir.map { try Archive.removeUnrecorded(bank: bank, dir: $0) } ?? 0
                let lineage = try bank.lineage()
                let found = try bank.expiring(policy: policy, asOf: asOf)
                let expiring = found.filter { !$0.expiredRows.isEmpty }
                let held = found.reduce(0) { $0 + $1.held }
                let total = expiring.reduce(0) { $0 + $1.expiredRows.count }
                var done = RetentionResult(), files = 0, bytes = 0, maxSeq: UInt64 = 0
                var start = 0
                while start < expiring.count {
                    var end = start, n = 0
                    while end < expiring.count && (end == start || n + expiring[end].expiredRows.count <= batchEvents) {
                        n += expiring[end].expiredRows.count; end += 1
                    }
                    let batch = Array(expiring[start..<end])
                    let events = try batch.map { try bank.events(of: $0) }
                    var archived: [ArchiveFile] = []
                    if let dir {
                        var expired: [Event] = []
                        for (b, block) in batch.enumerated() { for r in block.expiredRows { expired.append(events[b][r]) } }
                        archived = try Archive.write(expired, bank: id, log: lineage, ous: ous, to: dir)
                    }
                    let r = try bank.deleteExpired(batch, events: events, archived: archived, archiveDir: dir ?? "",
                                                   now: Int64(Date().timeIntervalSince1970 * 1000))
                    if let dir { try Archive.writeManifest(bank: bank, dir: dir) }
                    done.blocksDeleted += r.blocksDeleted; done.blocksRewritten += r.blocksRewritten
                    done.eventsDeleted += r.eventsDeleted; done.eventsKept += r.eventsKept
                    files += archived.count; bytes += archived.reduce(0) { $0 + $1.bytes }
                    maxSeq = max(maxSeq, batch.map(\.lastSeq).max() ?? 0)
                    if progress {
                        let secs = max(Date().timeIntervalSince(started), 0.001)
                        FileHandle.standardError.write(Data(String(format: "\r%@: %d/%d events archived and deleted (%.0f events/s)",
                                                                   id, done.eventsDeleted, total, Double(done.eventsDeleted) / secs).utf8))
                    }
                    start = end
                }
                if progress && total > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
                // Also when nothing was left to do: a run killed between a batch's commit and
                // its manifest left the archive's copy of the manifest behind the store's.
                if let dir { try Archive.writeManifest(bank: bank, dir: dir) }
                let behind = maxSeq == 0 ? [] : try bank.subscribers().filter { $0.checkpoint < maxSeq }
                let secs = Date().timeIntervalSince(started)
                if json {
                    out.line(JSONLine.object([
                        ("bank", .string(id)), ("events_deleted", .int(Int64(done.eventsDeleted))),
                        ("blocks_deleted", .int(Int64(done.blocksDeleted))), ("blocks_rewritten", .int(Int64(done.blocksRewritten))),
                        ("events_moved", .int(Int64(done.eventsKept))), ("held", .int(Int64(held))),
                        ("archive_files", .int(Int64(files))), ("archive_bytes", .int(Int64(bytes))),
                        ("unrecorded_files_removed", .int(Int64(cleaned))),
                        ("subscribers_behind", .list(behind.map { .string("\($0.log)/\($0.name)@\($0.checkpoint)") })),
                        ("seconds", .double((secs * 1000).rounded() / 1000)),
                    ]))
                } else {
                    out.line("\(id): \(done.eventsDeleted) events deleted (\(done.blocksDeleted) blocks deleted, \(done.blocksRewritten) rewritten, "
                             + "\(done.eventsKept) events moved), \(held) held; archive \(files) files, \(Bytes.human(bytes))")
                    if cleaned > 0 { out.line("  removed \(cleaned) archive file(s) an interrupted run wrote but never recorded") }
                    for s in behind {
                        out.line("  subscriber '\(s.name)' (\(s.log)) is at seq \(s.checkpoint): events it had not read up to seq \(maxSeq) may be gone")
                    }
                }
            }
            out.flush()
        }
    }
}

struct ArchiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Check an archive written by 'secq retention apply'.",
        subcommands: [ArchiveVerifyCommand.self])
}

struct ArchiveVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every file of an archive against its manifests (SHA-256 and event count).",
        discussion: "Exits 1 naming each file that is missing, altered, of the wrong length, or not in any manifest.")

    @Argument(help: "The archive directory.") var dir: String

    func run() throws {
        try reportingErrors {
            let r = try Archive.verify(dir: dir)
            for p in r.problems { print("FAIL \(p)") }
            if !r.problems.isEmpty { throw ExitCode(1) }
            print("ok   \(dir): \(r.files) files, \(r.events) events")
        }
    }
}

struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Rewrite each bank's file without free pages (after retention) and report the bytes saved.",
        discussion: """
        Copies the bank's LMDB environment without its free pages (mdb_env_copy2 with \
        MDB_CP_COMPACT) and swaps the copy in with one rename, holding the bank's lock \
        from the copy to the rename (a process opening the bank meanwhile waits). Refuses \
        while another process (an ingest, a subscriber, a query) has the bank open, or \
        with --wait waits for it to close. Safe to interrupt: the bank keeps its old file \
        or gets the new one, whole.

        Examples:
          secq compact
          secq compact --bank acme-bank --wait 10m --format json
        """)

    @OptionGroup var options: StoreOptions
    @OptionGroup var listing: BankListingOptions
    @Option(help: ArgumentHelp("Wait up to this long for other processes to close a bank instead of refusing (30s, 10m).",
                               valueName: "span"))
    var wait: String?

    func validate() throws {
        if let wait, Span(wait) == nil { throw ValidationError("--wait: '\(wait)' is not a span (like 30s, 10m, 1h)") }
    }

    /// Compacts the bank, trying again every half second while another process has it
    /// open, until `--wait` has passed.
    func compact(_ store: Store, _ id: String) throws -> Store.CompactResult {
        let deadline = Date().addingTimeInterval(Double(wait.flatMap { Span($0) }?.millis ?? 0) / 1000)
        var told = false
        while true {
            do { return try store.compact(bank: id) } catch let e as StoreError where e.code == .busy && Date() < deadline {
                if !told { Terminal.err("\(id): \(e.message); waiting (--wait)"); told = true }
                usleep(500_000)
            }
        }
    }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let out = Output()
            var rows: [[String]] = []
            for id in try selectedBanks(store, listing.banks) {
                let started = Date()
                guard FileManager.default.fileExists(atPath: options.path + "/banks/\(id)/data.mdb") else { continue }
                let r = try compact(store, id)
                let secs = Date().timeIntervalSince(started)
                if listing.format == .json {
                    out.line(JSONLine.object([("bank", .string(id)), ("bytes_before", .int(Int64(r.bytesBefore))),
                                              ("bytes_after", .int(Int64(r.bytesAfter))),
                                              ("seconds", .double((secs * 1000).rounded() / 1000))]))
                } else {
                    rows.append([id, Bytes.human(r.bytesBefore), Bytes.human(r.bytesAfter), Bytes.human(r.bytesBefore - r.bytesAfter)])
                }
            }
            if listing.format != .json { out.write(TableRenderer.render(header: ["bank", "before", "after", "freed"], rows: rows)) }
            out.flush()
        }
    }
}
