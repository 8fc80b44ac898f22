import SecModel
/// The log formats SecIngest reads.
public enum InputFormat: String, Sendable, CaseIterable {
    /// CloudTrail records: S3 log files, NDJSON, single records, EventBridge envelopes.
    case cloudtrail
    /// CloudTrail digest files (`AWSLogs/<account>/CloudTrail-Digest/...`): integrity
    /// proofs of the log files, not events. Callers skip them; parsing one yields nothing.
    case cloudtrailDigest = "cloudtrail-digest"
    /// VPC Flow Logs (and Transit Gateway flow logs): default or custom format.
    case vpcflow
    /// Elastic Load Balancing access logs. The three are told apart line by line, so
    /// any of them reads all three.
    case alb, elb, nlb
    /// S3 server access logs.
    case s3access
    /// CloudFront standard logs (W3C, `#Fields` header).
    case cloudfront
    /// Route 53 Resolver query logs (JSON lines).
    case route53
    /// RDS PostgreSQL logs as exported.
    case rdsPostgres = "rds-postgres"
    /// RDS MySQL / MariaDB audit logs (server_audit CSV).
    case rdsMySQL = "rds-mysql"
    /// GuardDuty findings: S3 export, EventBridge envelope, `{"findings":[...]}`.
    case guardduty
    /// AWS Config snapshot and history files, change notifications.
    case config
    /// secq's own archive (`secq retention apply --archive`): each line an event with
    /// its raw record, restored as it was (see `ArchiveParser`).
    case archive = "secq-archive"

    /// The source its records become; nil for inputs that are not one source's records
    /// (digest files, secq's archives).
    public var source: Source? {
        switch self {
        case .cloudtrail: return .cloudtrail
        case .vpcflow: return .vpcflow
        case .alb: return .alb
        case .elb: return .elb
        case .nlb: return .nlb
        case .s3access: return .s3access
        case .cloudfront: return .cloudfront
        case .route53: return .route53
        case .rdsPostgres, .rdsMySQL: return .rds
        case .guardduty: return .guardduty
        case .config: return .config
        case .cloudtrailDigest, .archive: return nil
        }
    }

    /// Whether a record's identity is its place in its file (a text log line without an
    /// id of its own), so the store remembers which byte ranges of a file it holds
    /// instead of indexing every record; see `BankStore.PartOrigin` and
    /// `Source.isPositional`.
    public var isPositional: Bool { source?.isPositional ?? false }

    /// The format a record of `source` is read with on its own (the raw record of a
    /// refused archive line, kept for `secq quarantine retry`); nil when its content
    /// must decide (RDS, findings and compliance events secq wrote).
    public init?(recordOf source: Source) {
        // RDS has two formats: the content tells them apart.
        guard source != .rds, let f = InputFormat.allCases.first(where: { $0.source == source }) else { return nil }
        self = f
    }

    /// Recognises an input's format by its S3 key layout, then by its content.
    ///
    /// The path decides when it has the AWS layout `AWSLogs/[o-org/]<account>/<service>/...`
    /// for a service whose logs have one format (CloudTrail, CloudTrail-Digest,
    /// vpcflowlogs, vpcdnsquerylogs, GuardDuty, Config); `elasticloadbalancing` leaves
    /// the choice among ALB, Classic and NLB to the content. Otherwise the content
    /// decides, from the first JSON object's keys or the first lines of text.
    ///
    /// - Parameters:
    ///   - prefix: the first bytes of the input, decompressed or not (a gzip prefix is
    ///     inflated here); only the first 64 KiB of content are looked at, so a whole
    ///     chunk can be passed.
    ///   - path: the input's path (`-` for standard input).
    /// - Returns: nil when neither says what the input is.
    public static func detect(prefix: UnsafeRawBufferPointer, path: String) -> InputFormat? {
        let byPath = detect(path: path)
        if let byPath, byPath != .alb { return byPath }
        let byContent: InputFormat?
        if prefix.count >= 2 && prefix[0] == 0x1f && prefix[1] == 0x8b {
            let inflated = inflatePrefix(prefix, limit: 64 << 10)
            byContent = inflated.withUnsafeBytes { detect(content: $0) }
        } else {
            byContent = detect(content: UnsafeRawBufferPointer(rebasing: prefix.prefix(64 << 10)))
        }
        if byPath == .alb { return [.alb, .elb, .nlb].contains(byContent) ? byContent : .alb }
        return byContent
    }

    public static func detect(prefix: [UInt8], path: String) -> InputFormat? {
        prefix.withUnsafeBytes { detect(prefix: $0, path: path) }
    }

    /// The format an S3 key layout implies, if any (`.alb` standing for the load
    /// balancer family).
    static func detect(path: String) -> InputFormat? {
        if ArchiveParser.recognises(path: path) { return .archive }
        let hints = PathHints(path: path)
        guard let service = hints.service else { return nil }
        switch service {
        case "CloudTrail", "CloudTrail-Insight": return .cloudtrail
        case "CloudTrail-Digest": return .cloudtrailDigest
        case "vpcflowlogs": return .vpcflow
        case "vpcdnsquerylogs": return .route53
        case "elasticloadbalancing": return .alb
        case "GuardDuty": return .guardduty
        case "Config": return .config
        default: return nil
        }
    }

    static func detect(content b: UnsafeRawBufferPointer) -> InputFormat? {
        var i = 0
        if b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { i = 3 }
        while i < b.count && JSONScanner.isSpace(b[i]) { i += 1 }
        guard i < b.count else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: b[i...])
        if b[i] == UInt8(ascii: "{") || b[i] == UInt8(ascii: "[") {
            // A finding or a configuration item may hold CloudTrail's key names deep
            // inside (a finding about an API call). These two look only at the first
            // object's own keys, which no CloudTrail record has, so they go first.
            // An archive line holds any of them in its raw record: first of all.
            if ArchiveParser.recognises(body) { return .archive }
            if GuardDutyParser.recognises(body) { return .guardduty }
            if ConfigParser.recognises(body) { return .config }
            if isCloudTrail(body) { return .cloudtrail }
            if Route53Parser.recognises(body) { return .route53 }
            return nil
        }
        if CloudFrontParser.recognises(body) { return .cloudfront }
        if VPCFlowParser.recognises(body) { return .vpcflow }
        if let variant = ELBParser.variant(body) { return variant }
        if S3AccessParser.recognises(body) { return .s3access }
        if RDSParser.recognisesPostgres(body) { return .rdsPostgres }
        if RDSParser.recognisesMySQL(body) { return .rdsMySQL }
        return nil
    }

    /// CloudTrail when the first JSON object opens a `Records` document, or a record
    /// holding `eventVersion`, `eventSource` or `eventName`, or an EventBridge envelope
    /// whose `detail-type` ends in "via CloudTrail".
    private static func isCloudTrail(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < b.count && (b[i] == UInt8(ascii: "[") || JSONScanner.isSpace(b[i])) { i += 1 }
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return false }
        if JSONScanner.objectStartsWithKey(b, at: i, key: "Records") { return true }
        let window = UnsafeRawBufferPointer(rebasing: b[i ..< min(b.count, i + 65536)])
        for key: StaticString in ["\"eventVersion\"", "\"eventSource\"", "\"eventName\""] where contains(window, key) {
            return true
        }
        return contains(window, "\"detail-type\"") && contains(window, "via CloudTrail\"")
    }

    static func contains(_ hay: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        Text.firstIndex(of: needle, in: hay) != nil
    }

    /// Inflates at most `limit` bytes of a gzip prefix (a cut stream is fine here).
    private static func inflatePrefix(_ prefix: UnsafeRawBufferPointer, limit: Int) -> [UInt8] {
        let stream = DecodingStream(source: BytesSource(Array(prefix.prefix(2 * limit))), name: "prefix")
        var out = [UInt8](repeating: 0, count: limit)
        var len = 0
        while len < limit {
            let n = out.withUnsafeMutableBytes { stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[len...])) }
            if n == 0 { break }
            len += n
        }
        out.removeSubrange(len...)
        return out
    }
}
