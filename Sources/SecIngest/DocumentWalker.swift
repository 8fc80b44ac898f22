#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecModel

/// Where a JSON log format puts its records, for ``DocumentWalker``.
struct JSONLayout: Sendable {
    /// What a record is called in refusal reasons: `CloudTrail record`.
    let recordName: String
    /// Members of a document whose array holds records (`Records`); the first one
    /// names such documents in refusal reasons.
    let documentKeys: [StaticString]
    /// Keys that, first in an object, say it is a document rather than a record
    /// (`Records`, Config's `fileVersion`), so it is walked without being scanned whole
    /// first.
    let documentFirstKeys: [StaticString]
    /// Keys that open records, for resynchronising inside an array before a good record
    /// has shown how records start in this input.
    let recordStartKeys: [String]
    /// Keys of records that never occur in the document around the records array.
    let recordKeys: [String]
}

/// What a normaliser made of one record.
enum JSONRecordResult {
    /// Events (usually one) were appended to the caller's array.
    case events
    case refused(String)
    /// The object is a document holding records under one of the layout's
    /// `documentKeys`, not a record.
    case document
}

/// A JSON log format as ``DocumentWalker`` reads it: its layout, and how a scanned
/// record becomes events.
protocol JSONRecordNormaliser: AnyObject {
    static var layout: JSONLayout { get }
    /// The scanner records are scanned with; ``normalise(_:context:into:)`` reads its tape.
    var scanner: JSONScanner { get }
    /// Normalises the record the scanner has just scanned from `record` (the record's
    /// exact bytes), appending its events to `events`.
    func normalise(_ record: UnsafeRawBufferPointer, context: ParseContext, into events: inout [Event]) -> JSONRecordResult
}

/// Walks an input's JSON texts (documents holding arrays of records, arrays, single
/// records, one per line or pretty-printed), hands each record to the format's
/// normaliser and quarantines what cannot be read, resynchronising after it (see
/// ``CloudTrailParser`` for the rules; every JSON format follows them).
struct DocumentWalker<Normaliser: JSONRecordNormaliser> {
    let buf: UnsafeRawBufferPointer
    let p: UnsafePointer<UInt8>
    let n: Int
    let context: ParseContext
    let file: String
    let baseOffset: Int64
    let baseLine: Int
    let norm: Normaliser
    private let layout = Normaliser.layout
    var out = ParseOutput()
    /// Keys that open records in this input, for resynchronising.
    var signatures: [[UInt8]]
    var lastSignature: [UInt8] = []
    private var nestedDocuments = 0
    private var lineCursor = 0
    private var lineAtCursor: Int

    init(buf: UnsafeRawBufferPointer, context: ParseContext, baseOffset: Int64, baseLine: Int, norm: Normaliser) {
        self.buf = buf
        self.p = (buf.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!).assumingMemoryBound(to: UInt8.self)
        self.n = buf.count
        self.context = context
        self.file = context.file
        signatures = Normaliser.layout.recordStartKeys.map { Array($0.utf8) }
        self.baseOffset = baseOffset
        self.baseLine = baseLine
        self.norm = norm
        lineAtCursor = baseLine
    }

    mutating func run() -> ParseOutput {
        out.inputBytes = n
        // About one event per KiB of CloudTrail: saves most regrowth of a large array.
        out.events.reserveCapacity(n >> 10)
        var i = 0
        if n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { i = 3 }
        while true {
            i = skipSpace(i)
            if i >= n { break }
            switch p[i] {
            case 0x7B: i = topLevelObject(i)
            case 0x5B: i = array(i)
            case 0x7D, 0x5D, 0x2C:
                // Stray closing punctuation (left over after a resynchronisation): skipped.
                var k = i
                while k < n && (p[k] == 0x7D || p[k] == 0x5D || p[k] == 0x2C || JSONScanner.isSpace(p[k])) { k += 1 }
                out.warnings.append("\(file): skipped stray '\(Unicode.Scalar(p[i]))' at byte \(baseOffset + Int64(i))")
                i = k
            default:
                i = recover(i, i + 1, reason: "invalid JSON at byte 0 of record: expected '{' or '['")
            }
        }
        return out
    }

    // MARK: - Helpers

    @inline(__always) func skipSpace(_ from: Int) -> Int {
        var i = from
        while i < n && JSONScanner.isSpace(p[i]) { i += 1 }
        return i
    }

    /// The 1-based line of offset `o`.
    private mutating func line(at o: Int) -> Int {
        if o < lineCursor { lineCursor = 0; lineAtCursor = baseLine }
        lineAtCursor += Bytes.count(of: 0x0A, in: buf, from: lineCursor, to: o)
        lineCursor = o
        return lineAtCursor
    }

    /// Quarantines `buf[s..<e]` (trailing whitespace and a separating comma trimmed).
    private mutating func quarantine(_ s: Int, _ e: Int, reason: String) {
        var end = e
        while end > s && JSONScanner.isSpace(p[end - 1]) { end -= 1 }
        if end > s, p[end - 1] == 0x2C { end -= 1 }
        while end > s && JSONScanner.isSpace(p[end - 1]) { end -= 1 }
        guard end > s else { return }
        let piece = UnsafeRawBufferPointer(rebasing: buf[s ..< end])
        let why = Bytes.isBinary(piece) ? "binary data (non-text bytes)" : reason
        out.quarantined.append(QuarantinedRecord(file: file, offset: baseOffset + Int64(s), line: line(at: s),
                                                 reason: why, slice: piece))
        out.records += 1
    }

    private func invalid(_ offset: Int, _ message: StaticString, of what: String = "record") -> String {
        "invalid JSON at byte \(offset) of \(what): \(message)"
    }

    /// Next line start that can begin a new top-level text (see ``CloudTrailParser``).
    private func resyncTop(_ from: Int) -> Int {
        var k = from
        while let nl = Bytes.firstIndex(of: 0x0A, in: buf, from: k) {
            let m = nl + 1
            if m < n {
                switch p[m] {
                case 0x20, 0x09, 0x0D, 0x0A, 0x7D, 0x5D, 0x2C, 0x22: break
                default: return m
                }
            }
            k = m
        }
        return n
    }

    /// Next record start inside an array after `from` (see ``CloudTrailParser``), or nil.
    private func resyncArray(_ from: Int) -> Int? {
        var k = from
        while let b = Bytes.firstIndex(of: 0x7B, in: buf, from: k) {
            k = b + 1
            var j = b - 1
            while j >= 0 && JSONScanner.isSpace(p[j]) { j -= 1 }
            guard j >= 0, p[j] == 0x2C || p[j] == 0x5B else { continue }
            let q = skipSpace(b + 1)
            guard q < n, p[q] == 0x22 else { continue }
            for sig in signatures where q + sig.count + 1 < n && p[q + sig.count + 1] == 0x22 {
                if sig.withUnsafeBytes({ memcmp(p + q + 1, $0.baseAddress!, sig.count) == 0 }) { return b }
            }
        }
        return nil
    }

    /// Remembers the first key of a good record as a record start signature.
    private mutating func learnSignature() {
        let s = norm.scanner
        guard s.count > 1, s[0].kind == .object, s[1].keyStart >= 0, s[1].flags & JSONScanner.keyEscaped == 0 else { return }
        let k = UnsafeRawBufferPointer(start: s.base + Int(s[1].keyStart), count: Int(s[1].keyEnd - s[1].keyStart))
        if k.elementsEqual(lastSignature) { return }
        let key = Array(k)
        lastSignature = key
        if signatures.count < 16 && !signatures.contains(key) { signatures.append(key) }
    }

    /// Normalises the record `buf[s..<e]`, just scanned; false when it is a document.
    private mutating func emit(_ s: Int, _ e: Int) -> Bool {
        let record = UnsafeRawBufferPointer(rebasing: buf[s ..< e])
        let before = out.events.count
        switch norm.normalise(record, context: context, into: &out.events) {
        case .events:
            let made = out.events.count - before
            for _ in 0 ..< made { out.eventOffsets.append(baseOffset + Int64(s)) }
            out.records += made
        case .refused(let reason):
            out.quarantined.append(QuarantinedRecord(file: file, offset: baseOffset + Int64(s), line: line(at: s),
                                                     reason: reason, slice: record))
            out.records += 1
        case .document:
            return false
        }
        return true
    }

    // MARK: - Structure

    /// Quarantines from `s` to the next place parsing can resume, and resumes there:
    /// a record start inside an array (parsing the array's remaining elements), or the
    /// next top-level line start, whichever comes first.
    private mutating func recover(_ s: Int, _ from: Int, reason: String) -> Int {
        let top = resyncTop(from)
        if let q = resyncArray(from), q < top {
            quarantine(s, q, reason: reason)
            return elements(q, resumed: true)
        }
        quarantine(s, top, reason: reason)
        return top
    }

    /// Whether the object at `s` opens with a key that marks a document.
    private func opensDocument(_ s: Int) -> Bool {
        layout.documentFirstKeys.contains { JSONScanner.objectStartsWithKey(buf, at: s, key: $0) }
    }

    /// Whether a document's member key (unescaped) names its records array.
    private func isDocumentKey(_ key: UnsafeRawBufferPointer) -> Bool {
        layout.documentKeys.contains { key.equals($0) }
    }

    /// A top-level object: a document holding records, or one record (or envelope).
    private mutating func topLevelObject(_ s: Int) -> Int {
        if opensDocument(s) { return recordsDocument(s) }
        let e = norm.scanner.scan(UnsafeRawBufferPointer(rebasing: buf[s...]))
        if e < 0 {
            return recover(s, s + 1, reason: invalid(norm.scanner.failureOffset, norm.scanner.failureMessage))
        }
        if !emit(s, s + e) { return recordsDocument(s) }
        return s + e
    }

    /// A document at `s` (`{"Records":[...]}`): walks its members, parsing the records
    /// array under a document key.
    private mutating func recordsDocument(_ s: Int) -> Int {
        var i = skipSpace(s + 1)
        if i < n && p[i] == 0x7D { return i + 1 }
        while true {
            guard i < n else { return truncatedDocument() }
            guard p[i] == 0x22 else { return documentError(s, i, "expected '\"' to start a key") }
            let keyStart = i + 1
            var k = keyStart
            var escaped = false
            while k < n && p[k] != 0x22 {
                if p[k] == 0x5C { escaped = true; k += 1 }
                k += 1
            }
            guard k < n else { return truncatedDocument() }
            let key = UnsafeRawBufferPointer(rebasing: buf[keyStart ..< k])
            var isRecords = !escaped && isDocumentKey(key)
            if escaped {
                var out: [UInt8] = []
                JSONScanner.unescape(key, into: &out)
                isRecords = out.withUnsafeBytes { isDocumentKey($0) }
            }
            i = skipSpace(k + 1)
            guard i < n else { return truncatedDocument() }
            guard p[i] == 0x3A else { return documentError(s, i, "expected ':'") }
            i = skipSpace(i + 1)
            guard i < n else { return truncatedDocument() }
            if isRecords && p[i] == 0x5B {
                i = array(i)
                if i >= n { return n }
            } else {
                let e = norm.scanner.scan(UnsafeRawBufferPointer(rebasing: buf[i...]))
                if e < 0 {
                    if i + norm.scanner.failureOffset >= n { return truncatedDocument() }
                    return documentError(s, i + norm.scanner.failureOffset, norm.scanner.failureMessage)
                }
                if isRecords {
                    let name = String(decoding: buf[keyStart ..< k], as: UTF8.self)
                    out.warnings.append("\(file): '\(name)' at byte \(baseOffset + Int64(i)) is not an array")
                }
                i += e
            }
            i = skipSpace(i)
            guard i < n else { return truncatedDocument() }
            if p[i] == 0x2C {
                i = skipSpace(i + 1)
                continue
            }
            if p[i] == 0x7D { return i + 1 }
            return documentError(s, i, "expected ',' or '}'")
        }
    }

    private mutating func truncatedDocument() -> Int {
        out.warnings.append("\(file): input ends inside a JSON document at byte \(baseOffset + Int64(n))")
        return n
    }

    /// A structural error in a document outside any record (often right after a record
    /// that closed too early): quarantines from the error to where parsing can resume.
    private mutating func documentError(_ docStart: Int, _ at: Int, _ message: StaticString) -> Int {
        recover(at, at, reason: invalid(at - docStart, message, of: "document"))
    }

    /// An array of records at `s` (the `[`). Returns the offset after its `]`, or `n`.
    private mutating func array(_ s: Int) -> Int {
        let i = skipSpace(s + 1)
        if i < n && p[i] == 0x5D { return i + 1 }
        return elements(i, resumed: false)
    }

    /// The elements of an array of records from `start` (an element's first byte) to the
    /// array's end. Returns the offset after its `]`, or where parsing goes on.
    ///
    /// `resumed`: parsing resumed here inside an array whose start was lost (after a
    /// top-level error). The array may then be one that never ends (a broken line of
    /// NDJSON), so a top-level line start is as good a place to resume as a record start,
    /// and a good record followed by a new line that opens an object ends the array.
    private mutating func elements(_ start: Int, resumed: Bool) -> Int {
        var i = start
        /// Quarantines from `r` to where parsing resumes; returns where, and whether
        /// that is still inside this array.
        func skipBad(_ r: Int, from: Int, reason: String) -> (Int, inArray: Bool) {
            let q = resyncArray(from)
            if resumed {
                let t = resyncTop(from)
                if q == nil || t < q! { quarantine(r, t, reason: reason); return (t, false) }
            }
            guard let q else { quarantine(r, n, reason: reason); return (n, false) }
            quarantine(r, q, reason: reason)
            return (q, true)
        }
        while true {
            i = skipSpace(i)
            guard i < n else {
                out.warnings.append("\(file): JSON array not terminated (input ends at byte \(baseOffset + Int64(n)))")
                return n
            }
            let r = i
            let e = norm.scanner.scan(UnsafeRawBufferPointer(rebasing: buf[r...]))
            if e < 0 {
                let (q, inArray) = skipBad(r, from: r + 1, reason: invalid(norm.scanner.failureOffset, norm.scanner.failureMessage))
                if !inArray { return q }
                i = q
                continue
            }
            // What follows must be ',' and another element, or ']'. `, "key":` means the
            // record closed too early (a stray '}'): refuse it with what follows.
            let j = skipSpace(r + e)
            var errorAt: Int? = nil
            var message: StaticString = "expected ',' or ']'"
            if j < n && p[j] == 0x2C {
                let k = skipSpace(j + 1)
                if k < n && p[k] == 0x22, let m = stringEnd(k).map(skipSpace), m < n, p[m] == 0x3A { errorAt = m }
            } else if j < n && p[j] == 0x5D {
                if closesInsideRecord(j) { errorAt = j; message = "unbalanced ']'" }
            } else if j < n {
                if resumed && p[j] == 0x7B && j > 0 && p[j - 1] == 0x0A {
                    record(r, r + e)
                    out.warnings.append("\(file): JSON array not terminated (a new line starts at byte \(baseOffset + Int64(j)))")
                    return j
                }
                errorAt = j
            }
            if let bad = errorAt {
                let (q, inArray) = skipBad(r, from: bad, reason: invalid(bad - r, message))
                if !inArray { return q }
                i = q
                continue
            }
            record(r, r + e)
            guard j < n else {
                out.warnings.append("\(file): JSON array not terminated (input ends at byte \(baseOffset + Int64(n)))")
                return n
            }
            if p[j] == 0x5D { return j + 1 }
            i = skipSpace(j + 1)
            if i < n && p[i] == 0x5D {
                out.warnings.append("\(file): trailing ',' in JSON array at byte \(baseOffset + Int64(j))")
                return i + 1
            }
        }
    }

    /// Whether the `]` at `j` is followed (after any more closing brackets) by
    /// `, "<record key>":`, so it ended the array inside a record (which then closed too
    /// early) rather than after the last one.
    private func closesInsideRecord(_ j: Int) -> Bool {
        var k = j + 1
        while k < n && (p[k] == 0x7D || p[k] == 0x5D || JSONScanner.isSpace(p[k])) { k += 1 }
        guard k < n, p[k] == 0x2C else { return false }
        let q = skipSpace(k + 1)
        guard q < n, p[q] == 0x22, let e = stringEnd(q), e - q <= 40 else { return false }
        let key = UnsafeRawBufferPointer(rebasing: buf[(q + 1) ..< (e - 1)])
        let colon = skipSpace(e)
        guard colon < n, p[colon] == 0x3A else { return false }
        return layout.recordKeys.contains { key.elementsEqual($0.utf8) }
    }

    /// From an opening quote at `k`: the offset after the closing quote, or nil.
    private func stringEnd(_ k: Int) -> Int? {
        var m = k + 1
        while m < n {
            if p[m] == 0x22 { return m + 1 }
            m += p[m] == 0x5C ? 2 : 1
        }
        return nil
    }

    /// An element of an array, just scanned.
    private mutating func record(_ s: Int, _ e: Int) {
        if norm.scanner[0].kind != .object {
            out.quarantined.append(QuarantinedRecord(file: file, offset: baseOffset + Int64(s), line: line(at: s),
                                                     reason: "not a \(layout.recordName) (array element is not an object)",
                                                     slice: UnsafeRawBufferPointer(rebasing: buf[s ..< e])))
            out.records += 1
            return
        }
        learnSignature()
        if !emit(s, e) {
            // A document inside an array: walk it, a few levels at most (each level
            // rescans its subtree).
            guard nestedDocuments < 4 else {
                out.quarantined.append(QuarantinedRecord(file: file, offset: baseOffset + Int64(s), line: line(at: s),
                                                         reason: "not a \(layout.recordName) (\(layout.documentKeys.first.map { "\($0)" } ?? "record") documents nested too deep)",
                                                         slice: UnsafeRawBufferPointer(rebasing: buf[s ..< e])))
                out.records += 1
                return
            }
            nestedDocuments += 1
            _ = recordsDocument(s)
            nestedDocuments -= 1
        }
    }
}
