import SecModel

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

/// What one call of a parser produced from a piece of input.
///
/// Every record candidate ends up in exactly one of `events` and `quarantined`, so
/// `records == events.count + quarantined.count`.
public struct ParseOutput: Sendable {
    /// Normalised events, in input order.
    public var events: [Event] = []
    /// Byte offset in the decompressed input of each event's record (parallel to
    /// `events`), so a record refused later (by the org registry) is quarantined with it.
    public var eventOffsets: [Int64] = []
    /// Records and pieces of input that were refused, in input order.
    public var quarantined: [QuarantinedRecord] = []
    /// Record candidates seen (good and bad).
    public var records: Int = 0
    /// Bytes of (decompressed) input parsed.
    public var inputBytes: Int = 0
    /// Problems that lost no record, e.g. `Records array not terminated`.
    public var warnings: [String] = []

    public init() {}

    /// Appends another output (the next chunk of the same input) to this one.
    public mutating func append(_ other: ParseOutput) {
        events.append(contentsOf: other.events)
        eventOffsets.append(contentsOf: other.eventOffsets)
        quarantined.append(contentsOf: other.quarantined)
        records += other.records
        inputBytes += other.inputBytes
        warnings.append(contentsOf: other.warnings)
    }
}
