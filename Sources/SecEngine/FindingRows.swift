import SecDetect
import SecModel

/// The `findings` table: one row per finding, in these columns.
public enum FindingRows {
    public static let columns: [(name: String, kind: Field.Kind)] = [
        ("id", .string), ("finding_type", .string), ("severity", .double), ("severity_label", .string), ("title", .string),
        ("bank", .string), ("account", .string), ("region", .string), ("principal", .string), ("resource", .string),
        ("src_ip", .ip), ("count", .int), ("first_seen", .time), ("last_seen", .time), ("status", .string),
        ("detector", .string), ("suppressed_by", .string),
    ]

    /// A finding's values in ``columns`` order.
    public static func row(_ f: Finding) -> [Value] {
        func opt(_ s: String?) -> Value { s.map(Value.string) ?? .null }
        return [.string(f.id), .string(f.type.description), .double(f.severity), .string(f.label.rawValue),
                .string(f.title), .string(f.bank), .string(f.account), opt(f.region), opt(f.principal), opt(f.resource),
                f.srcIP.flatMap(IPAddress.init).map(Value.ip) ?? .null, .int(Int64(f.count)), .time(f.firstSeen),
                .time(f.lastSeen), .string(f.status.rawValue), .string(f.detector), opt(f.suppressedBy)]
    }
}
