import SecModel

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
    ///
    /// When this one has no events yet it takes the other's arrays as they are: copying
    /// events one by one retains and releases every field of each.
    public mutating func append(_ other: ParseOutput) {
        if events.isEmpty {
            events = other.events
            eventOffsets = other.eventOffsets
        } else {
            events.append(contentsOf: other.events)
            eventOffsets.append(contentsOf: other.eventOffsets)
        }
        quarantined.append(contentsOf: other.quarantined)
        records += other.records
        inputBytes += other.inputBytes
        warnings.append(contentsOf: other.warnings)
    }
}
