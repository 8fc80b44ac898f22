#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecModel

/// A piece of an input that can be parsed on its own: whole lines, or the whole input.
public struct InputChunk: Sendable {
    /// The bytes: complete lines (the last one may lack its newline at the end of the
    /// input), or the whole input when ``isWholeInput`` is set.
    public var bytes: [UInt8]
    /// Offset of `bytes[0]` in the decompressed input.
    public var offset: Int64
    /// 1-based line number of `bytes[0]`.
    public var line: Int
    /// Lines longer than the reader's cap met since the previous chunk: skipped, not in
    /// `bytes`, quarantined here.
    public var quarantined: [QuarantinedRecord]
    /// Whether the input was not line-oriented and `bytes` holds all of it.
    public var isWholeInput: Bool
}

/// Reads an input in chunks of complete lines with bounded memory, inflating gzip.
///
/// Line-oriented input (NDJSON) comes in chunks of about `chunkSize` bytes that end at
/// a line end, so each can be parsed separately and in parallel. A line longer than
/// `maxLineLength` is never held whole: its first ``QuarantinedRecord/maxBytes`` bytes
/// are kept in a quarantine entry (`line longer than N bytes`) and the rest is skipped.
/// Lines up to the cap work whatever their size.
///
/// Input that is not line-oriented (a `{"Records":[...]}` document, a JSON array, a
/// pretty-printed object, judged from its first bytes) is returned whole in one chunk,
/// because its records cannot be split at line ends; memory is then its size.
///
/// After the last chunk, ``error`` tells whether the input was cut (truncated gzip,
/// read error); the chunks returned hold everything before the cut.
///
/// Not thread-safe: use one reader per input. Chunks are `Sendable` and can be handed
/// to other tasks.
public final class InputReader {
    /// The input's name (path, or `-`).
    public let name: String
    public let chunkSize: Int
    public let maxLineLength: Int

    private let stream: DecodingStream
    private let file: OpenFile?
    private var buf: [UInt8] = []
    private var len = 0
    private var bufOffset: Int64 = 0
    private var bufLine = 1
    private var eof = false
    private var started = false
    private var wholeInput = false
    private var pendingQuarantine: [QuarantinedRecord] = []

    /// Why the input ended early, once the reader has reached its end.
    public var error: InputError? { stream.error }
    /// Raw bytes read so far (compressed size for gzip).
    public var rawByteCount: Int64 { stream.rawByteCount }
    /// Decompressed bytes read so far.
    public var byteCount: Int64 { stream.outByteCount }
    /// Whether the input is gzip (known after the first chunk).
    public var isCompressed: Bool { stream.isCompressed }
    /// Problems that lost no data.
    public var warnings: [String] { stream.warnings }

    /// Opens a file (or standard input for `-`).
    /// - Parameters:
    ///   - chunkSize: target chunk size; chunks end at the last line end within it.
    ///   - maxLineLength: longest line accepted, in bytes (default 16 MiB).
    ///   - standardInput: where `-` reads from; the process's standard input by default.
    ///   - onRawBytes: called with every raw (compressed) byte, for the file digest.
    /// - Throws: ``InputError`` when the file cannot be opened.
    public convenience init(path: String, chunkSize: Int = 8 << 20, maxLineLength: Int = 16 << 20,
                            standardInput: (any ByteSource)? = nil,
                            onRawBytes: ((UnsafeRawBufferPointer) -> Void)? = nil) throws {
        if path == "-" {
            self.init(source: standardInput ?? FileDescriptorSource.standardInput, name: "-", file: nil,
                      chunkSize: chunkSize, maxLineLength: maxLineLength, onRawBytes: onRawBytes)
        } else {
            let f = try OpenFile(path: path)
            self.init(source: f.source, name: path, file: f,
                      chunkSize: chunkSize, maxLineLength: maxLineLength, onRawBytes: onRawBytes)
        }
    }

    /// Reads from any byte source (standard input, memory).
    public convenience init(source: any ByteSource, name: String, chunkSize: Int = 8 << 20,
                            maxLineLength: Int = 16 << 20,
                            onRawBytes: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.init(source: source, name: name, file: nil, chunkSize: chunkSize, maxLineLength: maxLineLength,
                  onRawBytes: onRawBytes)
    }

    private init(source: any ByteSource, name: String, file: OpenFile?, chunkSize: Int, maxLineLength: Int,
                 onRawBytes: ((UnsafeRawBufferPointer) -> Void)?) {
        self.name = name
        self.file = file
        self.chunkSize = max(chunkSize, 1)
        self.maxLineLength = max(maxLineLength, 1)
        stream = DecodingStream(source: source, name: name, onRawBytes: onRawBytes)
    }

    /// Reads into `buf[len...]` until it holds `target` bytes or the input ends.
    ///
    /// The buffer grows geometrically as data arrives (from 64 KiB), so a small file
    /// costs a small buffer, not `target` bytes.
    private func fill(to target: Int) {
        while len < target && !eof {
            if len == buf.count {
                let grow = min(max(buf.count, 64 << 10), target - buf.count)
                buf.append(contentsOf: [UInt8](repeating: 0, count: grow))
            }
            let end = min(buf.count, target)
            let n = buf.withUnsafeMutableBytes { stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[len ..< end])) }
            if n == 0 { eof = true } else { len += n }
        }
    }

    /// The next chunk, or nil at the end of the input.
    public func next() -> InputChunk? {
        if !started {
            started = true
            fill(to: chunkSize)
            wholeInput = !InputReader.isLineOriented(buf.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[..<len]) })
        }
        if wholeInput {
            guard len > 0 || !eof else { return nil }
            var target = max(buf.count, chunkSize)
            while !eof {
                if len == target { target *= 2 }
                fill(to: target)
            }
            var bytes = buf
            bytes.removeSubrange(len...)
            buf = []
            len = 0
            return InputChunk(bytes: bytes, offset: 0, line: 1, quarantined: [], isWholeInput: true)
        }
        while true {
            if len < chunkSize { fill(to: chunkSize) }
            if len == 0 {
                guard !pendingQuarantine.isEmpty else { return nil }
                defer { pendingQuarantine = [] }
                return InputChunk(bytes: [], offset: bufOffset, line: bufLine, quarantined: pendingQuarantine,
                                  isWholeInput: false)
            }
            if firstLineIsOverCap() { skipLongLine(); continue }
            let lastNL = buf.withUnsafeBytes { Bytes.lastIndex(of: 0x0A, in: $0, to: len) }
            if let k = lastNL {
                // A chunk longer than the cap may hold a line over it: end the chunk before.
                if k + 1 > maxLineLength, let long = firstLineOverCap(before: k + 1), long > 0 { return take(long) }
                return take(k + 1)
            }
            if eof { return take(len) }
            // One line fills the buffer but is under the cap: grow and read on.
            fill(to: min(max(buf.count * 2, chunkSize), maxLineLength + 1))
        }
    }

    /// Whether the first line in the buffer is longer than the cap.
    private func firstLineIsOverCap() -> Bool {
        guard len > maxLineLength else { return false }
        return buf.withUnsafeBytes { Bytes.firstIndex(of: 0x0A, in: $0, to: maxLineLength + 1) == nil }
    }

    /// The start of the first line in `buf[..<end]` longer than the cap, if any.
    private func firstLineOverCap(before end: Int) -> Int? {
        buf.withUnsafeBytes { b in
            var start = 0
            while start < end {
                let nl = Bytes.firstIndex(of: 0x0A, in: b, from: start, to: end) ?? end
                if nl - start > maxLineLength { return start }
                start = nl + 1
            }
            return nil
        }
    }

    /// Hands out `buf[..<n]` and keeps the rest for the next chunk.
    private func take(_ n: Int) -> InputChunk {
        var bytes = buf
        let rest = Array(buf[n ..< len])
        bytes.removeSubrange(n...)
        buf = rest
        len = rest.count
        let lines = bytes.withUnsafeBytes { Bytes.count(of: 0x0A, in: $0) }
        let chunk = InputChunk(bytes: bytes, offset: bufOffset, line: bufLine, quarantined: pendingQuarantine,
                               isWholeInput: false)
        pendingQuarantine = []
        bufOffset += Int64(n)
        bufLine += lines
        return chunk
    }

    /// Quarantines the first line of the buffer, which is over the cap, reading and
    /// dropping input up to its end without holding it.
    private func skipLongLine() {
        var keep: [UInt8] = []
        var length = 0
        var consumed = 0
        while true {
            let nl = buf.withUnsafeBytes { Bytes.firstIndex(of: 0x0A, in: $0, to: len) }
            let end = nl ?? len
            if keep.count < QuarantinedRecord.maxBytes {
                keep.append(contentsOf: buf[..<min(end, QuarantinedRecord.maxBytes - keep.count)])
            }
            length += end
            if let nl {
                consumed = length + 1
                let rest = Array(buf[(nl + 1) ..< len])
                buf.replaceSubrange(0 ..< rest.count, with: rest)
                len = rest.count
                break
            }
            len = 0
            if eof { consumed = length; break }
            fill(to: chunkSize)
        }
        pendingQuarantine.append(QuarantinedRecord(file: name, offset: bufOffset, line: bufLine,
                                                   reason: "line longer than \(maxLineLength) bytes",
                                                   bytes: keep, length: length))
        bufOffset += Int64(consumed)
        bufLine += 1
    }

    /// First keys of the JSON documents that hold arrays of records: CloudTrail's
    /// `Records`, Config's snapshot and history files (`fileVersion`), GuardDuty's
    /// `findings`. Such documents are one line however large, so they are read whole.
    static let documentFirstKeys = [CloudTrailNormaliser.layout, GuardDutyNormaliser.layout, ConfigNormaliser.layout]
        .flatMap(\.documentFirstKeys)

    /// Whether an input whose first bytes are `prefix` can be split at line ends: it is
    /// not a JSON array, not a document holding records (``documentFirstKeys``), and its
    /// first line is a complete object (not the `{` of a pretty-printed one).
    public static func isLineOriented(_ prefix: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = prefix.count
        if n >= 3 && prefix[0] == 0xEF && prefix[1] == 0xBB && prefix[2] == 0xBF { i = 3 }
        while i < n && JSONScanner.isSpace(prefix[i]) { i += 1 }
        guard i < n else { return true }
        switch prefix[i] {
        case UInt8(ascii: "["): return false
        case UInt8(ascii: "{"):
            if documentFirstKeys.contains(where: { JSONScanner.objectStartsWithKey(prefix, at: i, key: $0) }) {
                return false
            }
            guard let nl = prefix[i...].firstIndex(of: 0x0A) else { return true }
            var e = nl
            while e > i && JSONScanner.isSpace(prefix[e - 1]) { e -= 1 }
            return e > i + 1 && prefix[e - 1] == UInt8(ascii: "}")
        default: return true
        }
    }
}
