/// A record (or a piece of input) that could not be turned into an event, kept with
/// where it was and why, so nothing bad disappears silently (DESIGN.md, "done").
///
/// The `reason` is short, exact and never quotes payload contents: it ends up in
/// tickets. The offending bytes themselves are in `bytes`, capped at
/// ``QuarantinedRecord/maxBytes``; `length` is the size of the whole piece.
public struct QuarantinedRecord: Sendable, Equatable {
    /// The input the piece came from (a path, or `-` for standard input).
    public var file: String
    /// Byte offset of the piece's first byte in the decompressed input.
    public var offset: Int64
    /// 1-based line number of the piece's first byte in the decompressed input.
    public var line: Int
    /// Why the piece was refused, e.g. `record has no eventTime`.
    public var reason: String
    /// The original bytes of the piece, verbatim, cut at ``maxBytes``.
    public var bytes: [UInt8]
    /// Size of the whole piece; larger than `bytes.count` when it was cut.
    public var length: Int

    /// At most this many bytes of a piece are kept (1 MiB).
    public static let maxBytes = 1 << 20

    /// Whether `bytes` holds only the first ``maxBytes`` of the piece.
    public var isTruncated: Bool { length > bytes.count }

    public init(file: String, offset: Int64, line: Int, reason: String, bytes: [UInt8], length: Int? = nil) {
        self.file = file
        self.offset = offset
        self.line = line
        self.reason = reason
        self.length = length ?? bytes.count
        self.bytes = bytes.count > QuarantinedRecord.maxBytes ? Array(bytes.prefix(QuarantinedRecord.maxBytes)) : bytes
    }

    /// Builds an entry from a slice of input, copying at most ``maxBytes``.
    init(file: String, offset: Int64, line: Int, reason: String, slice: UnsafeRawBufferPointer) {
        self.file = file
        self.offset = offset
        self.line = line
        self.reason = reason
        self.length = slice.count
        self.bytes = Array(UnsafeRawBufferPointer(rebasing: slice.prefix(QuarantinedRecord.maxBytes)))
    }
}
