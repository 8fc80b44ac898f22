/// The core fields of the normalised event, with their query names and types.
///
/// The raw value (`"src_ip"`) is the name queries, JSON output and the schema use. The
/// order of the cases is the column number in stored blocks: append, never reorder.
public enum Field: String, Sendable, CaseIterable, Codable {
    case time, seq, bank, account, ou, region, source
    case eventClass = "class"
    case action, outcome, principal
    case principalType = "principal_type"
    case accessKey = "access_key"
    case mfa
    case srcIP = "src_ip"
    case srcService = "src_service"
    case srcPort = "src_port"
    case dstIP = "dst_ip"
    case dstPort = "dst_port"
    case proto = "protocol"
    case bytes, packets, service, resource
    case resourceType = "resource_type"
    case userAgent = "user_agent"
    case errorCode = "error_code"
    case httpStatus = "http_status"
    case url
    case queryName = "query_name"
    case eventID = "event_id"
    case severity
    case findingType = "finding_type"
    case title

    /// What kind of value the field holds.
    public enum Kind: Sendable, Equatable {
        case time, int, double, bool, string, ip
    }

    public var kind: Kind {
        switch self {
        case .time: return .time
        case .seq, .srcPort, .dstPort, .proto, .bytes, .packets, .httpStatus: return .int
        case .severity: return .double
        case .mfa: return .bool
        case .srcIP, .dstIP: return .ip
        default: return .string
        }
    }

    /// The column number of the field in a stored block.
    public var columnID: UInt8 { UInt8(Field.allCases.firstIndex(of: self)!) }

    /// Fields with a block-level postings index (value -> blocks containing it).
    public var isIndexed: Bool {
        switch self {
        case .principal, .accessKey, .srcIP, .eventID: return true
        default: return false
        }
    }

    /// Looks a field up by its query name.
    public init?(name: String) { self.init(rawValue: name) }
}
