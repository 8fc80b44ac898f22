import SecModel

/// Discovery:S3/MaliciousIPCaller.Custom, Exfiltration:S3/MaliciousIPCaller.Custom and
/// Impact:S3/MaliciousIPCaller.Custom: an S3 request from an address on the threat list
/// (``ThreatIntel/isThreat(_:)``, as the IAMUser detector matches), from CloudTrail
/// (management and data events of `s3.amazonaws.com`) or S3 server access logs,
/// successful or not. The purpose follows the API (``S3CallPurpose``). Key: account +
/// bucket + address. Severity 5.0 (GuardDuty: Medium).
public struct S3MaliciousIPCallerRule: EventRule {
    public let id = "s3.malicious-ip-caller"
    public let sources: Set<Source> = [.cloudtrail, .s3access]
    public let intel: ThreatIntel
    public init(intel: ThreatIntel) { self.intel = intel }

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard let ip = e.srcIP, let call = e.action else { return [] }
        let purpose: S3CallPurpose?, bucket: String
        switch e.source {
        case .cloudtrail:
            guard e.service == "s3.amazonaws.com" else { return [] }
            purpose = S3CallPurpose(api: call)
            bucket = Raw(e).string("requestParameters.bucketName") ?? e.resource.map(Self.bucketOf) ?? "unknown"
        case .s3access:
            purpose = S3CallPurpose(operation: call)
            bucket = e.resource.map(Self.bucketOf) ?? "unknown"
        default: return []
        }
        guard let purpose, intel.isThreat(ip) else { return [] }
        return [FindingDraft(
            type: purpose.findingType, severity: 5.0,
            title: "\(call) on bucket \(bucket) from listed address \(ip)",
            description: "\(shortName(e.principal)) called \(call) on \(bucket) from \(ip), on the threat list.",
            detector: id, aggregationKey: [bucket, ip.description], event: e, resource: bucket)]
    }

    /// The bucket of `bucket` or `bucket/key` (an access log's resource) or of an S3 ARN.
    static func bucketOf(_ resource: String) -> String {
        var r = Substring(resource)
        if r.hasPrefix("arn:aws:s3:::") { r = r.dropFirst("arn:aws:s3:::".count) }
        return String(r.prefix { $0 != "/" })
    }
}

/// What an S3 call is for, in GuardDuty's threat purposes: reading what exists
/// (Discovery), taking the data (Exfiltration) or changing or destroying it (Impact).
public enum S3CallPurpose: String, Sendable {
    case discovery = "Discovery", exfiltration = "Exfiltration", impact = "Impact"

    var findingType: FindingType { Types.t("\(rawValue):S3/MaliciousIPCaller.Custom") }

    /// Object reads and copies.
    static let exfiltrationAPIs: Set<String> = [
        "GetObject", "GetObjectVersion", "GetObjectTorrent", "CopyObject", "UploadPartCopy", "SelectObjectContent",
    ]

    /// From a CloudTrail event name: the object reads above are Exfiltration; `Put*`,
    /// `Delete*`, `Create*`, `Restore*`, `Upload*`, `CompleteMultipartUpload`,
    /// `AbortMultipartUpload` and `Replicate*` are Impact; other `Get*`, `List*` and
    /// `Head*` are Discovery; anything else is not counted.
    public init?(api: String) {
        if Self.exfiltrationAPIs.contains(api) { self = .exfiltration; return }
        for p in ["Put", "Delete", "Create", "Restore", "Upload", "Replicate"] where api.hasPrefix(p) { self = .impact; return }
        if api == "CompleteMultipartUpload" || api == "AbortMultipartUpload" { self = .impact; return }
        for p in ["Get", "List", "Head"] where api.hasPrefix(p) { self = .discovery; return }
        return nil
    }

    /// From an access log operation (`REST.GET.OBJECT`, `REST.HEAD.BUCKET`,
    /// `REST.COPY.OBJECT`, `WEBSITE.GET.OBJECT`): GET of an object (not of its ACL,
    /// tagging or other sub-resources) and COPY are Exfiltration; PUT, DELETE and POST
    /// are Impact; other GETs and HEAD are Discovery. Operations S3 itself runs
    /// (`S3.EXPIRE.OBJECT`, `BATCH.DELETE.OBJECT`) are not counted.
    public init?(operation: String) {
        let parts = operation.split(separator: ".")
        guard parts.count >= 3, parts[0] == "REST" || parts[0] == "WEBSITE" else { return nil }
        let what = parts.dropFirst(2).joined(separator: ".")
        switch parts[1] {
        case "COPY": self = .exfiltration
        case "GET" where what == "OBJECT": self = .exfiltration
        case "GET", "HEAD": self = .discovery
        case "PUT", "DELETE", "POST": self = .impact
        default: return nil
        }
    }
}
