import Foundation
import SecModel

/// Which resource an item or an evaluation is about: account, region, type and id.
public struct ResourceKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var account: String
    public var region: String
    public var type: String
    public var id: String

    public init(account: String, region: String, type: String, id: String) {
        self.account = account
        self.region = region
        self.type = type
        self.id = id
    }

    /// `account|region|type|id`: the key of the stored state (ids hold no `|`).
    public var description: String { "\(account)|\(region)|\(type)|\(id)" }

    public init?(_ text: String) {
        let parts = text.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 else { return nil }
        self.init(account: parts[0], region: parts[1], type: parts[2], id: parts[3])
    }

    public static func < (a: ResourceKey, b: ResourceKey) -> Bool { a.description < b.description }
}

/// One AWS Config configuration item, read from the raw record of a `config_item` event
/// (an item alone, an element of a snapshot or history file, or the item of a change
/// notification in its SNS, EventBridge or rule-invocation envelope).
public struct ConfigItem: Sendable, Equatable {
    public var resourceType: String
    public var resourceId: String
    public var resourceName: String?
    public var arn: String?
    public var account: String
    public var region: String
    /// `configurationItemStatus`: `OK`, `ResourceDiscovered`, `ResourceDeleted`,
    /// `ResourceNotRecorded`, `ResourceDeletedNotRecorded`.
    public var status: String
    /// `configurationItemCaptureTime`, ms since the epoch.
    public var captureTime: Int64
    /// `configuration`, parsed when Config held it as a JSON string; nil when absent
    /// (an oversized notification's summary, a deleted resource).
    public var configuration: JSONValue?
    /// `supplementaryConfiguration`, each value parsed when it was a JSON string.
    public var supplementary: [String: JSONValue]
    public var tags: [String: String]

    public init(resourceType: String, resourceId: String, resourceName: String? = nil, arn: String? = nil,
                account: String, region: String, status: String = "OK", captureTime: Int64,
                configuration: JSONValue?, supplementary: [String: JSONValue] = [:], tags: [String: String] = [:]) {
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.resourceName = resourceName
        self.arn = arn
        self.account = account
        self.region = region
        self.status = status
        self.captureTime = captureTime
        self.configuration = configuration
        self.supplementary = supplementary
        self.tags = tags
    }

    public var key: ResourceKey { ResourceKey(account: account, region: region, type: resourceType, id: resourceId) }

    /// What reports name the resource by: its ARN, else its id.
    public var resource: String { arn ?? resourceId }

    /// Deleted (`ResourceDeleted`, `ResourceDeletedNotRecorded`): no rule applies any more.
    public var isDeleted: Bool { status.hasPrefix("ResourceDeleted") }
    /// No longer recorded (`ResourceNotRecorded`): its state is unknown from now on.
    public var isNotRecorded: Bool { status == "ResourceNotRecorded" }

    /// A supplementary configuration value by name, either case of the first letter.
    public func supplementary(_ name: String) -> JSONValue? {
        JSONValue.object(supplementary).member(name)
    }

    /// Reads the item from a `config_item` event's raw record.
    ///
    /// - Parameters:
    ///   - raw: the event's raw record.
    ///   - account, region, time: the event's, used when the item lacks them.
    /// - Returns: nil when the record holds no configuration item.
    public init?(raw: [UInt8], account: String, region: String?, time: Int64) {
        guard let doc = JSONValue(parsing: raw), let item = ConfigItem.locate(doc) else { return nil }
        self.init(item: item, account: account, region: region, time: time)
    }

    /// From an item's JSON object (API and notification spellings both).
    public init?(item: JSONValue, account: String? = nil, region: String? = nil, time: Int64? = nil) {
        guard let type = item.member("resourceType")?.string, let id = item.member("resourceId")?.string else { return nil }
        resourceType = type
        resourceId = id
        resourceName = item.member("resourceName")?.string
        arn = item["ARN"]?.string ?? item["arn"]?.string
        guard let acct = item.member("awsAccountId")?.string ?? item.member("accountId")?.string ?? account else { return nil }
        self.account = acct
        self.region = item.member("awsRegion")?.string ?? region ?? ""
        status = item.member("configurationItemStatus")?.string ?? "OK"
        var t: Int64? = nil
        switch item.member("configurationItemCaptureTime") {
        case .string(let s)?: t = Timestamp.parse(s)
        case .number(let n)?: t = Int64((n * 1000).rounded())
        default: break
        }
        guard let when = t ?? time else { return nil }
        captureTime = when
        let conf = item.member("configuration")?.unwrapped
        configuration = conf == .null ? nil : conf
        supplementary = (item.member("supplementaryConfiguration")?.unwrapped.object ?? [:]).mapValues(\.unwrapped)
        var tags: [String: String] = [:]
        for (k, v) in item.member("tags")?.object ?? [:] { if let s = v.string { tags[k] = s } }
        self.tags = tags
    }

    /// The configuration item inside a record: the record itself, or the
    /// `configurationItem` (or `configurationItemSummary`) of a notification, found in an
    /// EventBridge `detail`, an SNS `Message` (object or JSON string) or a rule's
    /// `invokingEvent`.
    static func locate(_ doc: JSONValue, depth: Int = 0) -> JSONValue? {
        guard depth < 4, doc.object != nil else { return nil }
        if let ci = doc["configurationItem"] {
            if case .array(let a) = ci { return a.first }
            return ci
        }
        if let s = doc["configurationItemSummary"] { return s }
        for k in ["detail", "Message", "invokingEvent"] {
            if let v = doc[k]?.unwrapped, v.object != nil, let found = locate(v, depth: depth + 1) { return found }
        }
        return doc["resourceType"] != nil ? doc : nil
    }
}
