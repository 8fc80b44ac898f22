#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SecIngest
import SecModel
import SecStore

/// How an ingest runs.
package struct IngestOptions: Sendable {
    package var paths: [String]
    /// Only this bank's accounts are accepted; the rest is quarantined.
    package var bank: String?
    /// Forces a format instead of detecting it.
    package var format: InputFormat?
    /// Account for records that carry none and whose path names none.
    package var account: String?
    /// Parser threads (default: one per core).
    package var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Events per write transaction.
    package var batchSize = 4096
    /// Print progress on standard error.
    package var progress = false

    package init(paths: [String]) { self.paths = paths }
}

/// What an ingest did.
package struct IngestSummary: Sendable, Equatable {
    package var files = 0
    package var duplicateFiles = 0
    /// Records seen (stored, duplicate and quarantined).
    package var records = 0
    package var stored = 0
    package var duplicates = 0
    package var quarantined = 0
    /// Bytes read from disk (compressed size for gzip).
    package var inputBytes: Int64 = 0
    /// Bytes parsed (decompressed).
    package var parsedBytes: Int64 = 0
    package var seconds: Double = 0
    package var warnings: [String] = []
    /// Files whose input was cut (truncated gzip, read error).
    package var cutFiles = 0
}

/// Files in, events stored: parser threads read and normalise files and route each
/// event to its bank through the org registry; encoder threads turn full batches into
/// compressed blocks; one writer thread commits them (one write transaction per batch).
///
/// Memory is bounded by the batch and piece sizes: one accumulating batch per bank, two
/// waiting for an encoder, one being encoded per encoder thread, two waiting for the
/// writer and one committing, and one input piece per parser thread. Pages of the store the writer reads are handed
/// back to the OS after each commit, so the resident size does not grow with the store.
///
/// A file's digest is recorded once all its events are committed, so an interrupted
/// ingest run again skips the files that were complete and re-reads the others, whose
/// already-stored events the idempotency index drops.
package final class IngestPipeline: @unchecked Sendable {
    // `@unchecked Sendable`: every mutable field below is guarded by `cond`.
    private let store: Store
    private let options: IngestOptions
    private let owners: [String: (bank: String, ou: String)]
    private let cond = NSCondition()
    /// Signalled when the progress thread has stopped writing.
    private let progressDone = DispatchSemaphore(value: 0)

    private var accumulating: [String: Batch] = [:]
    /// Full batches waiting for an encoder thread.
    private var full: [Batch] = []
    private var parsingDone = false
    private var encodersRunning = 0
    /// Batches encoded and compressed, waiting for the writer.
    private var queue: [Prepared] = []
    private var writerDone = false
    private var inputDone = false
    private var failure: (any Error)?
    private var summary = IngestSummary()
    /// Per file: pieces still to commit (+1 while it is being parsed).
    private var pending: [Int: Int] = [:]
    private var digests: [Int: [UInt8]] = [:]
    private var completed: [[UInt8]] = []
    private var filesDone = 0
    private var nextFile = 0
    private var totalFiles = 0
    /// See `bankLogs()`.
    private var lineages: [String: String]?

    private struct Batch {
        var bank: String
        /// The events in the parts they arrived in (never copied into one array).
        var parts: [[Event]] = []
        /// Per part, the file range it covers when its events are positional.
        var origins: [BankStore.PartOrigin?] = []
        var count = 0
        var files = Set<Int>()
    }

    private struct Prepared {
        var bank: String
        var batch: BankStore.PreparedBatch
        var files: Set<Int>
    }

    package init(store: Store, options: IngestOptions) throws {
        self.store = store
        self.options = options
        var owners: [String: (String, String)] = [:]
        let org = try store.org()
        for b in org.banks { for a in b.accounts { owners[a.id] = (b.id, a.ou) } }
        self.owners = owners
        if let bank = options.bank, !org.banks.contains(where: { $0.id == bank }) {
            throw StoreError(.unknownBank, "unknown bank '\(bank)'")
        }
    }

    package func run() throws -> IngestSummary {
        let started = Date()
        let files = try IngestInput.files(under: options.paths)
        totalFiles = files.count
        let writer = Thread { [self] in writerLoop() }
        writer.stackSize = 8 << 20
        writer.start()
        var progressTimer: Thread?
        if options.progress {
            progressTimer = Thread { [self] in progressLoop(started: started) }
            progressTimer?.start()
        }

        // Encoder threads turn full batches into blocks (encode, compress) so that parsing,
        // encoding and committing overlap: one large file keeps both cores busy too.
        let encoders = max(1, options.jobs)
        encodersRunning = encoders
        for _ in 0..<encoders {
            let t = Thread { [self] in encoderLoop() }
            t.stackSize = 8 << 20
            t.start()
        }

        // Parser threads take files in order from a shared index.
        let group = DispatchGroup()
        for _ in 0..<max(1, min(options.jobs, files.count)) {
            group.enter()
            let t = Thread { [self] in
                let scratch = ParseScratch()
                while true {
                    cond.lock()
                    let i = nextFile
                    nextFile += 1
                    let stop = self.failure != nil
                    cond.unlock()
                    if i >= files.count || stop { break }
                    ingestFile(id: i, path: files[i], scratch: scratch)
                }
                group.leave()
            }
            t.stackSize = 8 << 20
            t.start()
        }
        group.wait()

        cond.lock()
        let rest = accumulating.values.filter { $0.count > 0 }
        accumulating.removeAll()
        cond.unlock()
        for b in rest { enqueue(b) }
        cond.lock()
        parsingDone = true
        cond.broadcast()
        while encodersRunning > 0 { cond.wait() }
        inputDone = true
        cond.broadcast()
        while !writerDone { cond.wait() }
        let firstError = self.failure
        var result = summary
        cond.unlock()
        progressTimer?.cancel()
        if options.progress {
            progressDone.wait() // the progress thread has printed its last line
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
        if let firstError { throw firstError }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// Batches that may wait for an encoder, and prepared batches that may wait for the
    /// writer: enough to keep the parser threads busy while the writer syncs the store
    /// to disk (every two seconds).
    static let queueDepth: Int = {
        if let v = ProcessInfo.processInfo.environment["SECQ_QUEUE_DEPTH"], let n = Int(v), n > 0 { return n }
        return 2
    }()

    private var stopped: Bool {
        cond.lock(); defer { cond.unlock() }
        return failure != nil
    }

    // MARK: - Parsing

    private func ingestFile(id: Int, path: String, scratch: ParseScratch) {
        var quarantine: [Store.QuarantineEntry] = []
        var digest: [UInt8] = []
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // The digest of a real file comes first, so a file ingested before is skipped
        // without parsing it. Standard input is hashed as it is read. A file of modest
        // size is read once, whole: hashed, then (when gzip) inflated with libdeflate.
        var inflated: [UInt8]? = nil
        var fileSize: Int64 = 0
        if path != "-" {
            let d: [UInt8]
            do {
                (d, inflated, fileSize) = try Self.readAndDigest(path)
            } catch {
                record(file: id, path: path, quarantine: [.init(file: path, offset: 0, reason: "cannot read file: \(error)", at: now, bytes: [])])
                return
            }
            digest = d
            if (try? store.fileSeen(digest: d)) == true {
                cond.lock()
                summary.files += 1
                summary.duplicateFiles += 1
                filesDone += 1
                cond.unlock()
                return
            }
        }
        if let inflated {
            // Whole in memory already: parse it in place, without the reader's copies.
            ingestWhole(id: id, path: path, bytes: inflated, fileSize: fileSize, digest: digest, now: now, scratch: scratch)
            return
        }
        let stdinDigest = path == "-" ? FileDigest() : nil
        // The bytes actually parsed are hashed too, to notice a file that changed since
        // its digest was taken.
        let readDigest = path == "-" ? nil : FileDigest()
        let reader: InputReader
        do {
            reader = try InputReader(path: path, chunkSize: Self.pieceSize,
                                     onRawBytes: { bytes in (stdinDigest ?? readDigest)?.update(bytes) })
        } catch {
            record(file: id, path: path, quarantine: [.init(file: path, offset: 0, reason: "cannot open: \(error)", at: now, bytes: [])])
            return
        }
        cond.lock()
        pending[id] = 1
        cond.unlock()

        var format = options.format
        let context = ParseContext(file: path, defaultAccount: options.account, scratch: scratch)
        // Offsets before this one are settled: their records are in the parts sent on.
        var settled: Int64 = 0
        var parsedBytes: Int64 = 0
        var records = 0
        var warnings: [String] = []
        while let chunk = reader.next() {
            if format == nil {
                format = detectFormat(chunk.bytes, offset: chunk.offset, path: path, digest: digest, now: now, quarantine: &quarantine)
                if format == nil { break }
            }
            if format == .archive && context.bankLogs.isEmpty { context.bankLogs = bankLogs() }
            var out = IngestParser.parse(chunk: chunk, format: format!, context: context)
            parsedBytes += Int64(out.inputBytes)
            records += out.records
            warnings += out.warnings
            let end = context.openRecordOffset ?? (chunk.offset + Int64(chunk.bytes.count))
            take(&out, file: id, path: path, digest: digest, now: now, format: format!, context: context,
                 range: settled ..< end, quarantine: &quarantine)
            settled = end
            if stopped { return }
        }
        if let format {
            var out = IngestParser.finish(format: format, context: context)
            records += out.records
            take(&out, file: id, path: path, digest: digest, now: now, format: format, context: context,
                 range: settled ..< max(settled, reader.byteCount), quarantine: &quarantine)
        }
        if let err = reader.error {
            quarantine.append(.init(file: path, offset: reader.byteCount, reason: err.description, at: now, bytes: [],
                                    dedupKey: Self.dedupKey(digest, reader.byteCount, "cut")))
        }
        if let stdinDigest { digest = stdinDigest.finish() }
        if let readDigest, reader.error == nil, readDigest.finish() != digest {
            // Ranges were recorded under the digest taken before reading; the file changed
            // in between, so a later ingest of it is a new file and stores its lines again.
            warnings.append("\(path): changed while it was read; its records are stored, but a later ingest of it is not recognised as a repeat")
        }
        cond.lock()
        summary.inputBytes += reader.rawByteCount
        summary.parsedBytes += parsedBytes
        summary.records += records
        if summary.warnings.count < 100 { summary.warnings += warnings.prefix(20) }
        if reader.error != nil { summary.cutFiles += 1 }
        cond.unlock()
        record(file: id, path: path, digest: path == "-" ? nil : digest, quarantine: quarantine, parsing: true)
    }

    /// Parses a file held whole in memory (an intact gzip file, inflated, or a small
    /// plain file).
    private func ingestWhole(id: Int, path: String, bytes: [UInt8], fileSize: Int64, digest: [UInt8], now: Int64,
                             scratch: ParseScratch) {
        cond.lock()
        pending[id] = 1
        cond.unlock()
        var quarantine: [Store.QuarantineEntry] = []
        var parsed: Int64 = 0, records = 0
        var warnings: [String] = []
        if let format = options.format ?? detectFormat(bytes, offset: 0, path: path, digest: digest, now: now, quarantine: &quarantine) {
            let context = ParseContext(file: path, defaultAccount: options.account, scratch: scratch)
            if format == .archive { context.bankLogs = bankLogs() }
            bytes.withUnsafeBytes { all in
                // Line-oriented input goes in pieces of whole lines, so the events in
                // flight stay bounded by the piece size, not the file's.
                let lines = InputReader.isLineOriented(UnsafeRawBufferPointer(rebasing: all.prefix(65536)))
                var start = 0, line = 1
                var settled: Int64 = 0
                while start < all.count && !stopped {
                    var end = all.count
                    if lines && all.count - start > Self.pieceSize,
                       let nl = all[start ..< start + Self.pieceSize].lastIndex(of: 0x0A) {
                        end = nl + 1
                    }
                    let piece = UnsafeRawBufferPointer(rebasing: all[start ..< end])
                    var out = IngestParser.parse(bytes: piece, format: format, offset: Int64(start), line: line, context: context)
                    if end == all.count { out.append(IngestParser.finish(format: format, context: context)) }
                    parsed += Int64(out.inputBytes)
                    records += out.records
                    warnings += out.warnings.prefix(20)
                    let upTo = end == all.count ? Int64(end) : context.openRecordOffset ?? Int64(end)
                    take(&out, file: id, path: path, digest: digest, now: now, format: format, context: context,
                         range: settled ..< upTo, quarantine: &quarantine)
                    settled = upTo
                    if end < all.count { line += SecIngest.Bytes.count(of: 0x0A, in: piece) }
                    start = end
                }
            }
        }
        cond.lock()
        summary.inputBytes += fileSize
        summary.parsedBytes += parsed
        summary.records += records
        if summary.warnings.count < 100 { summary.warnings += warnings.prefix(20) }
        cond.unlock()
        record(file: id, path: path, digest: digest, quarantine: quarantine, parsing: true)
    }

    /// Line-oriented input is parsed in pieces of about this many bytes: a piece's
    /// events travel together to the writer, so this (with the batch size) bounds the
    /// events in flight. 1 MiB is 8,000-10,000 flow log lines.
    static let pieceSize: Int = {
        if let v = ProcessInfo.processInfo.environment["SECQ_PIECE_SIZE"], let n = Int(v), n > 0 { return n }
        return 1 << 20
    }()

    /// The format of an input from its first bytes and path; nil (and the piece
    /// quarantined) when it is not one secq reads.
    private func detectFormat(_ bytes: [UInt8], offset: Int64, path: String, digest: [UInt8], now: Int64,
                              quarantine: inout [Store.QuarantineEntry]) -> InputFormat? {
        let format = bytes.withUnsafeBytes { b in
            InputFormat.detect(prefix: UnsafeRawBufferPointer(rebasing: b.prefix(65536)), path: path)
        }
        if format == nil {
            quarantine.append(.init(file: path, offset: offset, reason: "unrecognised format; use --format to name it",
                                    at: now, bytes: Array(bytes.prefix(QuarantinedRecord.maxBytes)), size: bytes.count,
                                    dedupKey: Self.dedupKey(digest, offset, "format")))
        }
        return format
    }

    /// Keeps a parse's refusals, flags events dated far in the future (kept, and listed
    /// in the quarantine so someone looks at the clock that wrote them) and sends the
    /// events on to their banks.
    ///
    /// - Parameter range: the bytes of the input this output settles; for a positional
    ///   format read from a file, the banks remember it (see `BankStore.PartOrigin`).
    private func take(_ out: inout ParseOutput, file id: Int, path: String, digest: [UInt8], now: Int64,
                      format: InputFormat, context: ParseContext, range: Range<Int64>,
                      quarantine: inout [Store.QuarantineEntry]) {
        let header = context.header.map { String(decoding: $0, as: UTF8.self) }
        for q in out.quarantined {
            var e = Store.QuarantineEntry(file: path, offset: q.offset, reason: q.reason, at: now, bytes: q.bytes, size: q.length,
                                          dedupKey: Self.dedupKey(digest, q.offset, q.reason))
            e.format = format.rawValue
            e.header = header
            quarantine.append(e)
        }
        let horizon = now + Self.futureTolerance
        for (i, e) in out.events.enumerated() where e.time > horizon {
            let offset = i < out.eventOffsets.count ? out.eventOffsets[i] : -1
            let days = Double(e.time - now) / 86_400_000
            let reason = "kept, flagged: event time \(Timestamp.rfc3339(millis: e.time)) is \(String(format: "%.1f", days)) days in the future"
            var q = Store.QuarantineEntry(file: path, offset: offset, reason: reason, account: e.account, at: now,
                                          bytes: e.raw, dedupKey: Self.dedupKey(digest, offset, "future"))
            q.kept = true
            quarantine.append(q)
        }
        // Taken out of `out` so route owns the only reference and edits it in place.
        let events = out.events
        out.events = []
        let positional = format.isPositional && path != "-" && !digest.isEmpty
        precondition(out.eventOffsets.count == events.count, "a parser gives one offset per event")
        if format == .archive {
            routeRestored(events, offsets: out.eventOffsets, file: id, path: path, digest: digest, now: now, quarantine: &quarantine)
            return
        }
        route(events, offsets: out.eventOffsets, origin: positional ? (digest, range) : nil, file: id, path: path,
              digest: digest, now: now, format: format, header: header, quarantine: &quarantine)
    }

    /// Per bank with data, the identity of its log (`BankStore.lineage`), read once, for
    /// archive inputs.
    private func bankLogs() -> [String: String] {
        cond.lock(); defer { cond.unlock() }
        if let logs = lineages { return logs }
        var logs: [String: String] = [:]
        for id in Set(owners.values.map(\.bank)) where FileManager.default.fileExists(atPath: store.path + "/banks/\(id)/data.mdb") {
            if let l = try? store.bank(id).lineage() { logs[id] = l }
        }
        lineages = logs
        return logs
    }

    /// Routes events restored from an archive so each keeps its identity: those with an
    /// idempotency key by it; text log lines of this store's log (with an old sequence
    /// number) by that number in their bank's sequence space (runs of consecutive
    /// numbers, each a part), so restoring the same events twice stores them once.
    /// Lines of another log, or refused, go as keyed events.
    private func routeRestored(_ events: [Event], offsets: [Int64], file: Int, path: String, digest: [UInt8], now: Int64,
                               quarantine: inout [Store.QuarantineEntry]) {
        func isPlaced(_ e: Event) -> Bool { e.originSeq != 0 && e.source.isPositional && owners[e.account]?.bank == e.bank }
        var start = 0
        while start < events.count {
            let first = events[start]
            let placed = isPlaced(first)
            var end = start + 1
            while end < events.count {
                let e = events[end]
                guard e.bank == first.bank, isPlaced(e) == placed, !placed || e.originSeq == events[end - 1].originSeq + 1 else { break }
                end += 1
            }
            let run = Array(events[start..<end])
            let origin = placed ? (BankStore.sequenceSpace(bank: first.bank),
                                   Int64(run[0].originSeq) ..< Int64(run[run.count - 1].originSeq) + 1) : nil
            route(run, offsets: Array(offsets[start..<end]), identities: placed ? run.map { Int64($0.originSeq) } : nil,
                  origin: origin, file: file, path: path, digest: digest, now: now, format: .archive, header: nil,
                  quarantine: &quarantine)
            start = end
        }
    }

    /// Events dated more than this after the ingest are flagged (milliseconds: 1 day).
    static let futureTolerance: Int64 = 86_400_000

    /// Finishes a file: keeps its refusals and releases its "being parsed" count.
    private func record(file id: Int, path: String, digest: [UInt8]? = nil, quarantine: [Store.QuarantineEntry], parsing: Bool = false) {
        if !quarantine.isEmpty {
            do { try store.addToQuarantine(quarantine) } catch { fail(error) }
        }
        cond.lock()
        summary.files += 1
        summary.quarantined += quarantine.count
        filesDone += 1
        if parsing {
            if let digest { digests[id] = digest }
            release(file: id)
        }
        cond.unlock()
    }

    /// Sends each event to its bank's batch, refusing accounts no bank (or another bank
    /// than `--bank`) owns. The usual input (one account, so one bank) is passed on as
    /// one part without copying an event.
    ///
    /// - Parameter identities: for a positional part, each event's place in `origin`'s
    ///   space when it is not its file offset (events restored from an archive).
    private func route(_ events: consuming [Event], offsets: [Int64], identities: [Int64]? = nil,
                       origin: ([UInt8], Range<Int64>)?, file: Int,
                       path: String, digest: [UInt8], now: Int64, format: InputFormat, header: String?,
                       quarantine: inout [Store.QuarantineEntry]) {
        var events = events
        // Refusals keep the format and header lines, so `secq quarantine retry` can read them
        // (an archive line's raw record as its source's, read on its own).
        func refuse(_ i: Int, _ reason: String, bank: String? = nil) {
            var e = Store.QuarantineEntry(file: path, offset: offsets[i], reason: reason, bank: bank,
                                          account: events[i].account, at: now, bytes: events[i].raw,
                                          dedupKey: Self.dedupKey(digest, offsets[i], reason))
            e.format = format == .archive ? InputFormat(recordOf: events[i].source)?.rawValue : format.rawValue
            e.header = header
            quarantine.append(e)
        }
        var bankOf = [String?](repeating: nil, count: events.count)
        var banks = Set<String>()
        // Files hold one account's records as a rule: look each account up once per run of it.
        var lastAccount = ""
        var lastOwner: (bank: String, ou: String)?
        for i in events.indices {
            if events[i].account != lastAccount {
                lastAccount = events[i].account
                lastOwner = owners[lastAccount]
            }
            guard let owner = lastOwner else {
                refuse(i, "account '\(events[i].account)' belongs to no registered bank")
                continue
            }
            if !events[i].bank.isEmpty && events[i].bank != owner.bank {
                refuse(i, "archived from bank '\(events[i].bank)', but account '\(events[i].account)' belongs to bank '\(owner.bank)' now")
                continue
            }
            if let only = options.bank, owner.bank != only {
                refuse(i, "account '\(events[i].account)' belongs to bank '\(owner.bank)', not '\(only)' named by --bank",
                       bank: owner.bank)
                continue
            }
            events[i].bank = owner.bank
            events[i].ou = owner.ou
            bankOf[i] = owner.bank
            banks.insert(owner.bank)
        }
        var byBank: [String: [Event]] = [:]
        var offsetsByBank: [String: [Int64]] = [:]
        if banks.count == 1, !bankOf.contains(nil) {
            byBank[banks.first!] = events
            offsetsByBank[banks.first!] = identities ?? offsets
        } else {
            for i in events.indices {
                guard let b = bankOf[i] else { continue }
                byBank[b, default: []].append(events[i])
                if origin != nil { offsetsByBank[b, default: []].append(identities?[i] ?? offsets[i]) }
            }
        }
        guard !byBank.isEmpty else { return }
        var full: [Batch] = []
        cond.lock()
        for (bank, list) in byBank {
            if accumulating[bank, default: Batch(bank: bank)].files.insert(file).inserted { pending[file, default: 0] += 1 }
            accumulating[bank]!.parts.append(list)
            accumulating[bank]!.origins.append(origin.map {
                BankStore.PartOrigin(file: $0.0, range: $0.1, offsets: offsetsByBank[bank] ?? [])
            })
            accumulating[bank]!.count += list.count
            if accumulating[bank]!.count >= options.batchSize, let b = accumulating.removeValue(forKey: bank) {
                full.append(b)
            }
        }
        cond.unlock()
        for b in full { enqueue(b) }
    }

    /// Hands a full batch to the encoder threads, waiting while enough already wait
    /// (back-pressure bounds memory).
    private func enqueue(_ b: Batch) {
        cond.lock()
        while full.count >= Self.queueDepth && failure == nil { cond.wait() }
        full.append(b)
        cond.broadcast()
        cond.unlock()
    }

    /// Encodes and compresses full batches, then hands them to the writer, waiting
    /// while enough prepared batches already wait; ends when parsing has ended and no
    /// batch is left (or on failure).
    private func encoderLoop() {
        while true {
            cond.lock()
            while full.isEmpty && !parsingDone && failure == nil { cond.wait() }
            if full.isEmpty || failure != nil {
                encodersRunning -= 1
                cond.broadcast()
                cond.unlock()
                return
            }
            let b = full.removeFirst()
            cond.broadcast()
            cond.unlock()
            let prepared: BankStore.PreparedBatch
            do { prepared = try store.bank(b.bank).prepare(parts: b.parts, origins: b.origins) } catch {
                fail(error)
                continue
            }
            cond.lock()
            while queue.count >= Self.queueDepth && failure == nil { cond.wait() }
            queue.append(Prepared(bank: b.bank, batch: prepared, files: b.files))
            cond.broadcast()
            cond.unlock()
        }
    }

    // MARK: - Writing

    private func writerLoop() {
        var lastSync = Date()
        var touched = Set<String>()
        var deferred = Set<String>()
        /// Makes the committed batches durable, then records the files they completed:
        /// a file counts as ingested only once its events are on disk.
        func syncAndRecord() throws {
            for bank in touched { try store.bank(bank).sync() }
            touched.removeAll()
            cond.lock()
            let done = completed
            completed = []
            cond.unlock()
            try store.recordFiles(done, at: Int64(Date().timeIntervalSince1970 * 1000))
            lastSync = Date()
        }
        while true {
            cond.lock()
            while queue.isEmpty && !inputDone && failure == nil { cond.wait() }
            if queue.isEmpty || failure != nil {
                cond.unlock()
                if stoppedWithoutError { do { try syncAndRecord() } catch { fail(error) } }
                // Later writers of this process (a retry, a projection) commit durably again.
                for bank in deferred { try? store.bank(bank).setDeferredSync(false) }
                cond.lock()
                writerDone = true
                cond.broadcast()
                cond.unlock()
                return
            }
            let item = queue.removeFirst()
            cond.broadcast()
            cond.unlock()

            do {
                let bank = try store.bank(item.bank)
                if deferred.insert(item.bank).inserted { try bank.setDeferredSync(true) }
                touched.insert(item.bank)
                let r = try bank.commit(item.batch)
                bank.releaseMappedPages()
                cond.lock()
                summary.stored += r.stored
                summary.duplicates += r.duplicates
                for f in item.files { release(file: f) }
                cond.unlock()
                if Date().timeIntervalSince(lastSync) > 2 { try syncAndRecord() }
            } catch {
                fail(error)
            }
        }
    }

    private var stoppedWithoutError: Bool {
        cond.lock(); defer { cond.unlock() }
        return failure == nil
    }

    /// Called with `cond` held: one piece of a file is committed (or parsed).
    private func release(file id: Int) {
        pending[id, default: 1] -= 1
        if pending[id] == 0 {
            pending[id] = nil
            if let d = digests.removeValue(forKey: id) {
                completed.append(d)
            }
        }
    }

    private func fail(_ error: any Error) {
        cond.lock()
        if failure == nil { failure = error }
        cond.broadcast()
        cond.unlock()
    }

    // MARK: - Progress

    private func progressLoop(started: Date) {
        defer { progressDone.signal() }
        var ticks = 0
        while !Thread.current.isCancelled {
            Thread.sleep(forTimeInterval: 0.1)
            ticks += 1
            if ticks % 5 != 0 { continue }
            cond.lock()
            let s = summary, done = filesDone, total = totalFiles
            cond.unlock()
            let secs = max(Date().timeIntervalSince(started), 0.001)
            let line = String(format: "\r\u{1B}[K files %d/%d  records %@  stored %@  %@ rec/s  %.1f MB/s",
                              done, total, Count.short(s.records), Count.short(s.stored),
                              Count.short(Int(Double(s.records) / secs)), Double(s.parsedBytes) / secs / 1e6)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    // MARK: - Helpers

    /// Files whose content is at most this big are read whole (gzip inflated with
    /// libdeflate, then parsed in place); larger ones stream through `InputReader`
    /// (ISA-L) in bounded chunks. `SECQ_WHOLE_FILE_LIMIT` (bytes) lowers it, so tests
    /// can drive the streaming path with small files.
    static let wholeLimit: Int = {
        if let v = ProcessInfo.processInfo.environment["SECQ_WHOLE_FILE_LIMIT"], let n = Int(v), n >= 0 { return n }
        return 32 << 20
    }()

    /// Reads a file whole when it is under 64 MiB: its SHA-256, and its content (inflated
    /// when gzip) when that is at most ``wholeLimit`` and intact; nil content otherwise,
    /// and the streaming reader takes over. Per parser thread this holds at most the
    /// file (64 MiB) and its content (32 MiB) at once.
    static func readAndDigest(_ path: String) throws -> (digest: [UInt8], inflated: [UInt8]?, size: Int64) {
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        guard size < 64 << 20, let bytes = readWhole(path, size: Int(size)) else {
            return (try digest(of: path), nil, size)
        }
        let d = FileDigest()
        bytes.withUnsafeBytes { d.update($0) }
        let isGzip = bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
        guard isGzip else { return (d.finish(), bytes.count <= wholeLimit ? bytes : nil, Int64(bytes.count)) }
        // ISIZE (the last member's size mod 2^32) says whether the content fits the limit
        // before anything is inflated; a file over it streams instead.
        let n = bytes.count
        let isize = n >= 18 ? Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24 : 0
        let inflated = isize <= wholeLimit ? WholeGzip.inflate(bytes, limit: wholeLimit) : nil
        return (d.finish(), inflated, Int64(bytes.count))
    }

    /// The file's bytes, read straight into an array; nil when it changed size or failed.
    static func readWhole(_ path: String, size: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, n in
            n = 0
            while n < size {
                let r = read(fd, buf.baseAddress! + n, size - n)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { failed = r < 0; break }
                n += r
            }
        }
        return failed || bytes.count != size ? nil : bytes
    }

    static func digest(of path: String) throws -> [UInt8] {
        guard let fh = FileHandle(forReadingAtPath: path) else { throw StoreError(.io, "cannot open '\(path)'") }
        defer { try? fh.close() }
        let d = FileDigest()
        while let chunk = try fh.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { d.update($0) }
        }
        return d.finish()
    }

    static func dedupKey(_ digest: [UInt8], _ offset: Int64, _ reason: String) -> [UInt8] {
        guard !digest.isEmpty else { return [] }
        let d = FileDigest()
        digest.withUnsafeBytes { d.update($0) }
        withUnsafeBytes(of: offset.littleEndian) { d.update($0) }
        Array(reason.utf8).withUnsafeBytes { d.update($0) }
        return Array(d.finish().prefix(16))
    }
}

enum Count {
    static func short(_ n: Int) -> String {
        if n >= 1_000_000 { return String(format: "%.2fM", Double(n) / 1e6) }
        if n >= 10_000 { return String(format: "%.1fk", Double(n) / 1e3) }
        return String(n)
    }
}
