import SecModel

/// Reusable buffers and caches for parsing (the JSON tape, the string interner, the
/// address cache), so a worker parsing many chunks allocates them once and repeated
/// strings are shared across chunks.
///
/// Not `Sendable`: use one per task or thread, never from two at once.
public final class ParseScratch {
    let cloudTrail = CloudTrailNormaliser()

    public init() {}
}

/// Parsing any supported log format: the entry point a pipeline calls.
///
/// A pipeline reads inputs with ``InputReader`` (bounded memory, gzip, digest callback),
/// detects each input's format once from its first chunk, and hands chunks to workers,
/// each with its own ``ParseScratch``:
///
/// ```swift
/// for path in try IngestInput.files(under: paths) {
///     let reader = try InputReader(path: path, onRawBytes: { digest.update($0) })
///     var format: InputFormat?
///     while let chunk = reader.next() {
///         format = format ?? InputFormat.detect(prefix: chunk.bytes, path: path)
///         guard let format else { /* unknown format: report the file */ break }
///         let out = IngestParser.parse(chunk: chunk, file: path, format: format, scratch: scratch)
///         // out.events -> store; out.quarantined -> quarantine; out.warnings -> log
///     }
///     if let error = reader.error { /* the input was cut: report it; what came before is in */ }
/// }
/// ```
///
/// Chunks of one input can be parsed in parallel; their outputs are in input order
/// within each chunk, and chunks carry their offset and first line number.
public enum IngestParser {
    /// Parses a piece of input of a known format.
    ///
    /// - Parameters:
    ///   - offset, line: where `bytes` starts in the decompressed input (for quarantine
    ///     entries), 0 and 1 for a whole input.
    ///   - scratch: reusable buffers for this thread; fresh ones when nil.
    public static func parse(bytes: UnsafeRawBufferPointer, file: String, format: InputFormat,
                             offset: Int64 = 0, line: Int = 1, scratch: ParseScratch? = nil) -> ParseOutput {
        switch format {
        case .cloudtrail:
            return CloudTrailParser.parse(bytes: bytes, file: file, offset: offset, line: line, scratch: scratch)
        case .cloudtrailDigest:
            var out = ParseOutput()
            out.inputBytes = bytes.count
            out.warnings.append("\(file): CloudTrail digest file, not events; skipped")
            return out
        }
    }

    /// Parses one chunk from an ``InputReader``; its quarantined lines come first.
    public static func parse(chunk: InputChunk, file: String, format: InputFormat,
                             scratch: ParseScratch? = nil) -> ParseOutput {
        var out = ParseOutput()
        out.quarantined = chunk.quarantined
        out.records = chunk.quarantined.count
        out.append(chunk.bytes.withUnsafeBytes {
            parse(bytes: $0, file: file, format: format, offset: chunk.offset, line: chunk.line, scratch: scratch)
        })
        return out
    }
}
