/// Where a record came from: one value per log source secq ingests.
public enum Source: String, Sendable, CaseIterable, Codable {
    case cloudtrail, vpcflow, alb, elb, nlb, s3access, cloudfront, route53, rds, guardduty, config
    case finding, compliance

    /// A stable small number, used in block headers and keys.
    public var code: UInt8 { UInt8(Source.allCases.firstIndex(of: self)!) }
    public init?(code: UInt8) {
        guard Int(code) < Source.allCases.count else { return nil }
        self = Source.allCases[Int(code)]
    }

    /// Whether an event of this source is known by its place rather than by an id of its
    /// own: a text log line, identified by its offset in its file (or, once moved within
    /// or restored to its bank's log, by its sequence number there), not by an
    /// idempotency key.
    public var isPositional: Bool {
        switch self {
        case .vpcflow, .alb, .elb, .nlb, .s3access, .cloudfront, .route53, .rds: return true
        case .cloudtrail, .guardduty, .config, .finding, .compliance: return false
        }
    }
}

/// OCSF-aligned event class.
public enum EventClass: String, Sendable, CaseIterable, Codable {
    case apiActivity = "api_activity"
    case authentication
    case accountChange = "account_change"
    case networkActivity = "network_activity"
    case httpActivity = "http_activity"
    case dnsActivity = "dns_activity"
    case datastoreActivity = "datastore_activity"
    case detectionFinding = "detection_finding"
    case complianceFinding = "compliance_finding"
    case configItem = "config_item"
}

/// Whether the action succeeded.
public enum Outcome: String, Sendable, CaseIterable, Codable {
    case success, failure, unknown
}

/// A normalised event: the core fields every source shares (DESIGN.md), plus the
/// original record verbatim in `raw`.
///
/// Optional fields are `nil` when the source does not carry them. `seq` is assigned by
/// the store when the event is appended; parsers leave it 0.
public struct Event: Sendable, Equatable {
    /// Event time in milliseconds since the Unix epoch (UTC).
    public var time: Int64
    public var seq: UInt64 = 0
    /// For an event appended again to its bank's log (moved out of a block retention
    /// rewrote, or restored from an archive): its sequence number before, so
    /// subscribers that had read it there do not read it twice. 0 otherwise.
    public var originSeq: UInt64 = 0
    public var bank: String = ""
    public var account: String
    public var ou: String? = nil
    public var region: String? = nil
    public var source: Source
    public var eventClass: EventClass
    public var action: String? = nil
    public var outcome: Outcome = .unknown
    public var principal: String? = nil
    public var principalType: String? = nil
    public var accessKey: String? = nil
    public var mfa: Bool? = nil
    public var srcIP: IPAddress? = nil
    /// A service name given where an address would be (CloudTrail `sourceIPAddress`
    /// of `ec2.amazonaws.com`, for example).
    public var srcService: String? = nil
    public var srcPort: Int64? = nil
    public var dstIP: IPAddress? = nil
    public var dstPort: Int64? = nil
    public var proto: Int64? = nil
    public var bytes: Int64? = nil
    public var packets: Int64? = nil
    public var service: String? = nil
    public var resource: String? = nil
    public var resourceType: String? = nil
    public var userAgent: String? = nil
    public var errorCode: String? = nil
    public var httpStatus: Int64? = nil
    public var url: String? = nil
    public var queryName: String? = nil
    public var eventID: String? = nil
    public var severity: Double? = nil
    public var findingType: String? = nil
    public var title: String? = nil
    /// The original record, byte for byte.
    public var raw: [UInt8]

    public init(time: Int64, account: String, source: Source, eventClass: EventClass, raw: [UInt8]) {
        self.time = time
        self.account = account
        self.source = source
        self.eventClass = eventClass
        self.raw = raw
    }
}

extension Event {
    /// The value of a core field, `.null` when absent.
    public func value(of field: Field) -> Value {
        withUnsafePointer(to: self) { Event.reader(for: field)($0) }
    }
}

extension Event {
    /// A function reading one field of an event in place (through a pointer), so that
    /// column encoders touch only that field instead of copying the whole event.
    public static func reader(for field: Field) -> @Sendable (UnsafePointer<Event>) -> Value {
        switch field {
        case .time: return { .time($0.pointee.time) }
        case .seq: return { .int(Int64(bitPattern: $0.pointee.seq)) }
        case .bank: return { .string($0.pointee.bank) }
        case .account: return { .string($0.pointee.account) }
        case .ou: return { $0.pointee.ou.map(Value.string) ?? .null }
        case .region: return { $0.pointee.region.map(Value.string) ?? .null }
        case .source: return { .string($0.pointee.source.rawValue) }
        case .eventClass: return { .string($0.pointee.eventClass.rawValue) }
        case .action: return { $0.pointee.action.map(Value.string) ?? .null }
        case .outcome: return { .string($0.pointee.outcome.rawValue) }
        case .principal: return { $0.pointee.principal.map(Value.string) ?? .null }
        case .principalType: return { $0.pointee.principalType.map(Value.string) ?? .null }
        case .accessKey: return { $0.pointee.accessKey.map(Value.string) ?? .null }
        case .mfa: return { $0.pointee.mfa.map(Value.bool) ?? .null }
        case .srcIP: return { $0.pointee.srcIP.map(Value.ip) ?? .null }
        case .srcService: return { $0.pointee.srcService.map(Value.string) ?? .null }
        case .srcPort: return { $0.pointee.srcPort.map(Value.int) ?? .null }
        case .dstIP: return { $0.pointee.dstIP.map(Value.ip) ?? .null }
        case .dstPort: return { $0.pointee.dstPort.map(Value.int) ?? .null }
        case .proto: return { $0.pointee.proto.map(Value.int) ?? .null }
        case .bytes: return { $0.pointee.bytes.map(Value.int) ?? .null }
        case .packets: return { $0.pointee.packets.map(Value.int) ?? .null }
        case .service: return { $0.pointee.service.map(Value.string) ?? .null }
        case .resource: return { $0.pointee.resource.map(Value.string) ?? .null }
        case .resourceType: return { $0.pointee.resourceType.map(Value.string) ?? .null }
        case .userAgent: return { $0.pointee.userAgent.map(Value.string) ?? .null }
        case .errorCode: return { $0.pointee.errorCode.map(Value.string) ?? .null }
        case .httpStatus: return { $0.pointee.httpStatus.map(Value.int) ?? .null }
        case .url: return { $0.pointee.url.map(Value.string) ?? .null }
        case .queryName: return { $0.pointee.queryName.map(Value.string) ?? .null }
        case .eventID: return { $0.pointee.eventID.map(Value.string) ?? .null }
        case .severity: return { $0.pointee.severity.map(Value.double) ?? .null }
        case .findingType: return { $0.pointee.findingType.map(Value.string) ?? .null }
        case .title: return { $0.pointee.title.map(Value.string) ?? .null }
        }
    }
}
