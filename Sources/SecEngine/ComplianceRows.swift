import SecCompliance
import SecModel
import SecStore

/// The `compliance` table of `secq query`: the current state the `compliance`
/// subscriber keeps, one row per evaluated (rule, resource).
public enum ComplianceRows {
    public static let columns: [(name: String, kind: Field.Kind)] = [
        ("bank", .string), ("account", .string), ("region", .string), ("rule", .string), ("resource_type", .string),
        ("resource", .string), ("resource_id", .string), ("status", .string), ("reason", .string), ("evaluated_at", .time),
        ("cis", .string),
    ]

    /// An evaluation's values in ``columns`` order.
    public static func row(_ e: Evaluation, bank: String) -> [Value] {
        [.string(bank), .string(e.account), .string(e.region), .string(e.rule), .string(e.resourceType),
         .string(e.resource), .string(e.resourceId), .string(e.status.rawValue), .string(e.reason), .time(e.evaluatedAt),
         ManagedRules.named(e.rule)?.cis.map(Value.string) ?? .null]
    }

    public static func rows(_ bank: BankStore) throws -> [[Value]] {
        try bank.complianceState().map { row($0, bank: bank.id) }
    }
}
