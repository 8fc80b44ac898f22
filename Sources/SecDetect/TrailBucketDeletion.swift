import SecModel

/// Stealth:IAMUser/CloudTrailLoggingDisabled by the trail's bucket: a successful
/// `DeleteBucket` of a bucket a trail delivers to, or `DeleteBucketPolicy` on it (without
/// its policy CloudTrail may not write there, and delivery fails). A bucket is a trail's
/// destination when an earlier successful `CreateTrail` or `UpdateTrail` in the stream
/// named it (`requestParameters.s3BucketName`, else `responseElements.s3BucketName`); an
/// `UpdateTrail` to another bucket or a `DeleteTrail` forgets the trail's buckets. Key:
/// account + trail, as the other CloudTrailLoggingDisabled causes. Severity 2.0.
///
/// State: at most ``maxBuckets`` remembered buckets; beyond that the least recently
/// named go first (ties by key), so the state depends only on the events fed.
public struct TrailBucketDeletionDetector: WindowedDetector {
    public let id = "cloudtrail.trail-bucket-deleted"
    public let sources: Set<Source> = [.cloudtrail]
    public var state = TrailBuckets()
    public static var emptyState: TrailBuckets { TrailBuckets() }
    public let maxBuckets: Int

    public init(maxBuckets: Int = 10_000) { self.maxBuckets = maxBuckets }

    public mutating func observe(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), let name = e.action else { return [] }
        let raw = Raw(e)
        switch (e.service, name) {
        case ("cloudtrail.amazonaws.com", "CreateTrail"), ("cloudtrail.amazonaws.com", "UpdateTrail"):
            guard let trail = raw.string("requestParameters.name"),
                  let bucket = raw.string("requestParameters.s3BucketName") ?? raw.string("responseElements.s3BucketName")
            else { return [] }
            state.forget(account: e.account, trail: trail)
            state.buckets[e.account + "|" + bucket] = TrailBuckets.Entry(trail: trail, t: e.time)
            if state.buckets.count > maxBuckets { state.evict(to: maxBuckets) }
            return []
        case ("cloudtrail.amazonaws.com", "DeleteTrail"):
            if let trail = raw.string("requestParameters.name") { state.forget(account: e.account, trail: trail) }
            return []
        case ("s3.amazonaws.com", "DeleteBucket"), ("s3.amazonaws.com", "DeleteBucketPolicy"):
            guard let bucket = raw.string("requestParameters.bucketName"),
                  let known = state.buckets[e.account + "|" + bucket] else { return [] }
            let what = name == "DeleteBucket" ? "its bucket \(bucket) was deleted"
                : "the policy letting CloudTrail write to its bucket \(bucket) was deleted"
            return [FindingDraft(
                type: Types.cloudTrailLoggingDisabled, severity: 2.0,
                title: "CloudTrail trail \(shortName(known.trail)) lost its log bucket",
                description: "\(name) by \(shortName(e.principal)): \(what).",
                detector: id, aggregationKey: [known.trail], event: e, resource: known.trail)]
        default: return []
        }
    }
}

/// The trail destinations a ``TrailBucketDeletionDetector`` knows: `account|bucket` to
/// the trail and the event time it was last named.
public struct TrailBuckets: Sendable, Codable, Equatable {
    public struct Entry: Sendable, Codable, Equatable {
        public var trail: String
        public var t: Int64
    }

    public var buckets: [String: Entry] = [:]
    public init() {}

    mutating func forget(account: String, trail: String) {
        buckets = buckets.filter { !($0.key.hasPrefix(account + "|") && $0.value.trail == trail) }
    }

    /// Keeps the `n` most recently named buckets (ties broken by key).
    mutating func evict(to n: Int) {
        let order = buckets.map { ($0.value.t, $0.key) }.sorted { $0 < $1 }
        for (_, k) in order.prefix(buckets.count - n) { buckets[k] = nil }
    }
}
