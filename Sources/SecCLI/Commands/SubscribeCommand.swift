#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import SecModel
import SecQuery
import SecStore

struct SubscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Stream a named subscriber's events as NDJSON, from its checkpoint in each bank.",
        discussion: """
        A subscriber has a checkpoint per bank: the last sequence number it was given. \
        Each line is one event as 'secq query --format json' prints it (every non-null \
        field, 'bank' and 'seq' included). Banks are read in turn, a batch at a time; \
        within a bank, events come in sequence (arrival) order.

        First use creates the subscriber in each bank at --from (default: beginning, the \
        bank's first event; 'end' starts after the current head; a number N makes N the \
        first event given). On a subscriber that exists, --from is refused unless --reset \
        is given, which moves it there.

        Delivery is at least once: a batch is written (and standard output flushed) before \
        the checkpoint moves past it. A reader that goes away (a closed pipe) or an \
        interrupt (Ctrl-C, SIGTERM) leaves the checkpoint at the last batch written in \
        full, and the command exits with status 0; the next run starts after it, so only \
        the batch being written when it stopped can be given twice. Events --where filters \
        out are not printed, but the checkpoint moves past them.

        --feed baselines gives the baselines projection's change feed instead: one line \
        per new thing an entity was seen doing (feed_seq, kind such as new_api, \
        new_network, new_remote_port or new_domain, bank, account, entity_type, entity, \
        key, time, seq of the event, learning: whether the entity was in its learning \
        period). The feed's positions are its own numbers; its checkpoints are apart \
        from the events' (the same name may follow both).

        Without --follow the command stops at each bank's current head. With --follow it \
        then waits for appends: a commit ('secq ingest') rewrites the bank's 'appended' \
        file, which followers watch with inotify (at most a second's wait otherwise; no \
        busy polling).

        Examples:
          secq subscribe --name detector --from beginning
          secq subscribe --name logins --where 'action == "ConsoleLogin"' --follow
          secq subscribe --name detector --reset --from end
          secq subscribe --name novelty --feed baselines --follow
          secq subscribe --name detector --delete
          secq subscribers
        """)

    @OptionGroup var options: StoreOptions
    @Option(help: ArgumentHelp("The subscriber (letters, digits, '-', '_', '.').", valueName: "name")) var name: String
    @Option(name: .customLong("bank"), help: "Only this bank (repeatable; default: every bank).") var banks: [String] = []
    @Option(help: ArgumentHelp("Where a new subscriber starts: beginning, end, or a sequence number (the first given).",
                               valueName: "beginning|end|seq"))
    var from: String?
    @Flag(help: "Move an existing subscriber to --from (default beginning).") var reset = false
    @Option(name: .customLong("where"), help: ArgumentHelp("Only events matching this query expression.", valueName: "expr"))
    var filter: String?
    @Flag(help: "After catching up, wait for new events.") var follow = false
    @Option(help: ArgumentHelp("Events per batch (per checkpoint write).", valueName: "n")) var batch: Int = 1000
    @Flag(help: "Remove the subscriber (from the banks named, or every bank).") var delete = false
    @Option(help: ArgumentHelp("Follow a projection's change feed instead of the events: baselines.", valueName: "projection"))
    var feed: String?

    func validate() throws {
        if let feed, feed != Baselines.name {
            throw ValidationError("--feed: unknown feed '\(feed)' (feeds: \(Baselines.name))")
        }
        if feed != nil && filter != nil {
            throw ValidationError("--where filters events; a feed's entries are not events (filter them with jq)")
        }
        guard BankStore.isValidSubscriberName(name) else {
            throw ValidationError("--name '\(name)' is not a subscriber name (letters, digits, '-', '_', '.'; at most 100)")
        }
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        if let from, Self.start(from) == nil {
            throw ValidationError("--from '\(from)' is not beginning, end or a sequence number")
        }
        if delete && (from != nil || reset || filter != nil || follow) {
            throw ValidationError("--delete takes only --name and --bank")
        }
    }

    static func start(_ s: String) -> SubscriptionStart? {
        switch s {
        case "beginning": return .beginning
        case "end": return .end
        default: return UInt64(s).map { .at(max($0, 1)) }
        }
    }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            let ids = try selectedBanks(store, banks)
            let bankStores = try ids.map { try store.bank($0) }
            if delete {
                var found = 0
                for b in bankStores where try b.deleteSubscriber(name, log: feed ?? "events") { found += 1 }
                if found == 0 { throw CLIError(message: "no subscriber '\(name)' in \(banks.isEmpty ? "any bank" : "the banks named")") }
                Terminal.err("deleted subscriber '\(name)' in \(found) bank\(found == 1 ? "" : "s")")
                return
            }
            var eventFilter: EventFilter? = nil
            if let filter {
                do throws(QueryError) {
                    eventFilter = try EventFilter(filter, now: Int64(Date().timeIntervalSince1970 * 1000))
                } catch {
                    let text = error.render(query: filter, name: "--where")
                    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
                    throw ExitCode(2)
                }
            }
            // --from on an existing subscriber needs --reset; checked in every bank first.
            if from != nil && !reset {
                for b in bankStores {
                    if let cp = try b.subscriberCheckpoint(name, log: feed ?? "events") {
                        throw CLIError(message: "subscriber '\(name)' exists (bank '\(b.id)' at \(cp)); it resumes from its checkpoint: drop --from, or add --reset to move it", code: 2)
                    }
                }
            }
            let start = from.flatMap(Self.start) ?? .beginning
            if feed != nil {
                try stream(FeedLog(), bankStores, start: start) { Self.feedLine($0) }
            } else {
                // Raw records: for --where's raw. paths and for CloudTrail's event_id, which
                // is not a stored column (a query reads it from the record too).
                try stream(EventLog(raw: true), bankStores, start: start) { item in
                    var e = item
                    e.fillEventIDFromRaw()
                    guard eventFilter?.matches(e) ?? true else { return nil }
                    return EventJSON.line(e)
                }
            }
        }
    }

    /// Streams the subscriber's items of `log` from each bank (see the discussion):
    /// `line` gives an item's NDJSON line, nil to leave it out.
    func stream<L: SubscribableLog>(_ log: L, _ bankStores: [BankStore], start: SubscriptionStart,
                                    line: (L.Item) -> String?) throws {
        for b in bankStores { try b.openSubscriber(name, log: log, start: start, reset: reset) }

        // SIGPIPE: a closed pipe is an EPIPE write error, handled below. SIGINT and
        // SIGTERM: written to a pipe, seen between batches.
        let interrupts = try Interrupts.install(ignoringSIGPIPE: true)
        func interrupted() -> Bool { interrupts.happened() }

        let watcher = follow ? AppendWatcher(banks: bankStores, wake: interrupts.fd) : nil
        var turn = 0
        var done = Set<String>()
        while true {
            if interrupted() { return }
            var progressed = false
            for k in 0..<bankStores.count {
                let b = bankStores[(turn + k) % bankStores.count]
                if !follow && done.contains(b.id) { continue }
                let p = try b.pending(name, log: log, limit: batch)
                if p.next - 1 <= p.checkpoint {
                    done.insert(b.id)
                    continue
                }
                var text: [UInt8] = []
                for (_, item) in p.items {
                    guard let l = line(item) else { continue }
                    text.append(contentsOf: l.utf8)
                    text.append(10)
                }
                guard Self.writeAll(text, signals: interrupts.fd) else { return } // the reader went away
                try b.acknowledge(name, log: log.name, upTo: p.next - 1)
                // Without --follow, a bank is done once a batch reached the head read.
                if !follow && p.next - 1 >= p.head { done.insert(b.id) }
                progressed = true
                turn = (turn + k + 1) % bankStores.count
                break
            }
            if progressed { continue }
            guard let watcher else { return }
            if watcher.wait(timeout: 1) { return }
        }
    }

    /// Writes everything to standard output; false when the reader went away (or, on a
    /// pipe, a signal came before the reader took the batch).
    ///
    /// On a pipe, a write only means the kernel holds the bytes: a reader that exits
    /// leaves what it did not read in the pipe, lost. So on a pipe this also waits until
    /// the reader has taken every byte (FIONREAD is 0) before the batch counts as written.
    static func writeAll(_ bytes: [UInt8], signals: Int32) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            off += n
        }
        var st = stat()
        guard fstat(1, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO else { return true }
        var waitMillis: Int32 = 1
        while true {
            var unread: Int32 = 0
            guard ioctl(1, UInt(FIONREAD), &unread) == 0 else { return true }
            if unread == 0 { return true }
            // POLLERR on the write end: the reader closed the pipe.
            var fds = [pollfd(fd: 1, events: 0, revents: 0), pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 2, waitMillis) > 0 { return false }
            waitMillis = min(waitMillis * 2, 20)
        }
    }
}

extension SubscribeCommand {
    /// A feed entry as one JSON object (times in RFC 3339, as events print them).
    static func feedLine(_ f: FeedEntry) -> String {
        JSONLine.object([
            ("feed_seq", .int(Int64(f.feedSeq))), ("kind", .string(f.kind)), ("bank", .string(f.bank)),
            ("account", .string(f.account)), ("region", f.region.isEmpty ? .null : .string(f.region)),
            ("entity_type", .string(f.entityType)), ("entity", .string(f.entity)), ("key", .string(f.key)),
            ("time", .time(f.time)), ("seq", .int(Int64(f.seq))), ("learning", .bool(f.learning)),
        ])
    }
}

/// An event as `secq query --format json` writes a whole event: every non-null field in
/// field order.
enum EventJSON {
    static func line(_ e: Event) -> String {
        var fields: [(String, JSONLine.Scalar)] = []
        for f in Field.allCases {
            let v = e.value(of: f)
            if v.isNull { continue }
            fields.append((f.rawValue, JSONLine.scalar(v)))
        }
        return JSONLine.object(fields)
    }
}

struct SubscribersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribers",
        abstract: "List subscribers: per bank, checkpoint, head and lag.",
        discussion: """
        name        the subscriber ('secq subscribe --name')
        checkpoint  the last sequence number it was given (0: none yet)
        head        the bank's last sequence number (of a feed: its last entry)
        lag         events not given yet

        Examples:
          secq subscribers
          secq subscribers --bank acme-bank --format json
        """)

    @OptionGroup var options: StoreOptions
    @OptionGroup var listing: BankListingOptions
    var banks: [String] { listing.banks }
    var format: OutputFormat { listing.format }

    func run() throws {
        try reportingErrors {
            let store = try Store(path: options.path)
            var rows: [(name: String, log: String, bank: String, checkpoint: UInt64, head: UInt64)] = []
            for id in try selectedBanks(store, banks) {
                let b = try store.bank(id)
                let (head, feedHead) = try b.read { (try $0.state().nextSeq - 1, try $0.feedHead()) }
                for s in try b.subscribers() { rows.append((s.name, s.log, id, s.checkpoint, s.log == "events" ? head : feedHead)) }
            }
            rows.sort { ($0.name, $0.log, $0.bank) < ($1.name, $1.log, $1.bank) }
            let out = Output()
            if format == .json {
                for r in rows {
                    out.line(JSONLine.object([
                        ("name", .string(r.name)), ("log", .string(r.log)), ("bank", .string(r.bank)),
                        ("checkpoint", .int(Int64(r.checkpoint))), ("head", .int(Int64(r.head))),
                        ("lag", .int(Int64(r.head > r.checkpoint ? r.head - r.checkpoint : 0))),
                    ]))
                }
            } else {
                out.write(TableRenderer.render(header: ["name", "log", "bank", "checkpoint", "head", "lag"], rows: rows.map {
                    [$0.name, $0.log, $0.bank, String($0.checkpoint), String($0.head), String($0.head > $0.checkpoint ? $0.head - $0.checkpoint : 0)]
                }))
                if rows.isEmpty { out.line("(no subscribers)") }
            }
            out.flush()
        }
    }
}
