#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecModel

/// Parses CloudTrail logs into events.
///
/// ## Inputs accepted
///
/// Any sequence of JSON texts separated by whitespace, each one of:
/// - a `{"Records":[...]}` document (other top-level keys allowed and ignored; each
///   element of `Records` is a record) — the files CloudTrail writes to S3;
/// - a JSON array of records;
/// - a single record object, so one record per line (NDJSON) works, as does a
///   pretty-printed record;
/// - an EventBridge envelope whose `detail-type` ends in "via CloudTrail": the event's
///   fields come from `detail`, its `raw` is the whole envelope.
///
/// Each event's `raw` is the record's exact bytes, sliced from the input (see
/// ``CloudTrailNormaliser`` for the field mapping). A UTF-8 byte order mark at the start
/// is skipped.
///
/// ## Bad input
///
/// Nothing stops the rest of the input. A record that is not valid JSON, or lacks what an
/// event needs, is quarantined with its offset, line and a short reason, and parsing
/// goes on:
/// - Inside an array (`Records` or top-level), after a malformed record the parser
///   resynchronises at the next `{` that follows a `,` or `[` and opens with a key that
///   starts records in this input: `eventVersion`, or the first key of any record seen
///   so far (`awsRegion` in key-sorted dumps). The bytes from the bad record's start to
///   there are quarantined as one piece; every well-formed record after it is
///   recovered. A record followed by something other than `,` or `]` is refused along
///   with what follows (its braces may be unbalanced, so it may be cut short). When no
///   later record start is found, the rest of the input is the quarantined piece.
/// - At the top level (NDJSON, concatenated documents) the parser resynchronises at the
///   next line that starts in column 0 with anything but whitespace, `}`, `]`, `,` or
///   `"`, so each bad NDJSON line is its own piece and pretty-printed documents are not
///   split.
/// - An input that ends inside an array (a truncated file) keeps every complete record
///   and quarantines the partial last one; a warning says the array was not terminated.
/// - A piece whose first 4 KiB hold a NUL byte or at least 10% control bytes is
///   refused as `binary data (non-text bytes)`.
public enum CloudTrailParser {
    /// Parses a whole input (or the first chunk of one).
    public static func parse(bytes: UnsafeRawBufferPointer, file: String) -> ParseOutput {
        parse(bytes: bytes, file: file, offset: 0, line: 1, scratch: nil)
    }

    public static func parse(bytes: [UInt8], file: String) -> ParseOutput {
        bytes.withUnsafeBytes { parse(bytes: $0, file: file, offset: 0, line: 1, scratch: nil) }
    }

    /// Parses a piece of an input that starts at `offset` (bytes) and `line` in it.
    ///
    /// - Parameters:
    ///   - scratch: buffers to reuse across calls on one thread; a fresh set when nil.
    public static func parse(bytes: UnsafeRawBufferPointer, file: String, offset: Int64, line: Int,
                             scratch: ParseScratch?) -> ParseOutput {
        parse(bytes: bytes, offset: offset, line: line, context: ParseContext(file: file, scratch: scratch))
    }

    /// Parses a piece of an input through the input's context.
    static func parse(bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext) -> ParseOutput {
        var walker = DocumentWalker(buf: bytes, context: context, baseOffset: offset, baseLine: line,
                                    norm: context.scratch.cloudTrail)
        return walker.run()
    }

    /// Parses one chunk from an ``InputReader``; the chunk's quarantined lines come first
    /// in the output.
    public static func parse(chunk: InputChunk, file: String, scratch: ParseScratch? = nil) -> ParseOutput {
        var out = ParseOutput()
        out.quarantined = chunk.quarantined
        out.records = chunk.quarantined.count
        let body = chunk.bytes.withUnsafeBytes {
            parse(bytes: $0, file: file, offset: chunk.offset, line: chunk.line, scratch: scratch)
        }
        out.append(body)
        return out
    }
}
