import Foundation

/// A rule's answer for one resource, as AWS Config names it.
public enum ComplianceStatus: String, Sendable, Codable, CaseIterable, Comparable {
    case compliant = "COMPLIANT"
    case nonCompliant = "NON_COMPLIANT"
    case notApplicable = "NOT_APPLICABLE"
    case insufficientData = "INSUFFICIENT_DATA"

    private var order: Int { [.nonCompliant: 0, .insufficientData: 1, .compliant: 2, .notApplicable: 3][self]! }
    public static func < (a: ComplianceStatus, b: ComplianceStatus) -> Bool { a.order < b.order }
}

/// A status and the reason for it (naming the setting that decided).
public struct Verdict: Sendable, Equatable {
    public var status: ComplianceStatus
    public var reason: String

    public init(_ status: ComplianceStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public static func compliant(_ reason: String) -> Verdict { Verdict(.compliant, reason) }
    public static func nonCompliant(_ reason: String) -> Verdict { Verdict(.nonCompliant, reason) }
    public static func notApplicable(_ reason: String) -> Verdict { Verdict(.notApplicable, reason) }
    public static func insufficient(_ reason: String) -> Verdict { Verdict(.insufficientData, reason) }
}

/// One evaluation of one rule for one resource.
public struct Evaluation: Sendable, Equatable, Codable {
    public var rule: String
    public var account: String
    public var region: String
    public var resourceType: String
    public var resourceId: String
    /// The resource's ARN, else its id (what reports show).
    public var resource: String
    public var status: ComplianceStatus
    public var reason: String
    /// The capture time of the item that caused the evaluation (ms): the evaluation is
    /// the state as of then, whenever it was computed.
    public var evaluatedAt: Int64

    public init(rule: String, key: ResourceKey, resource: String, verdict: Verdict, at: Int64) {
        self.rule = rule
        account = key.account
        region = key.region
        resourceType = key.type
        resourceId = key.id
        self.resource = resource
        status = verdict.status
        reason = verdict.reason
        evaluatedAt = at
    }

    public var key: ResourceKey { ResourceKey(account: account, region: region, type: resourceType, id: resourceId) }

    /// `rule|account|region|type|id`: one (rule, resource) pair.
    public var pairKey: String { "\(rule)|\(key)" }

    enum CodingKeys: String, CodingKey {
        case rule, account, region, resourceType = "resource_type", resourceId = "resource_id", resource, status, reason
        case evaluatedAt = "evaluated_at"
    }
}
