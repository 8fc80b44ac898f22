import Foundation
import SecModel

/// The behavioural detectors: findings of activity that is unusual for the entity doing
/// it, judged against the entity baselines (``BaselineView``) after the entity's
/// learning period, and against per-entity hourly rates the detectors keep themselves.
public enum BehaviouralDetectors {
    public static func all() -> [any Detector] {
        [AnomalousBehaviorDetector(), InstanceCredentialExfiltrationDetector(), S3AnomalousBehaviorDetector(),
         NetworkPortUnusualDetector(), TrafficVolumeUnusualDetector()]
    }
}

/// The network an address is profiled in, as the baselines keep it: IPv4 /24, IPv6 /48.
func baselineNetwork(_ ip: IPAddress) -> String {
    if ip.isV4 {
        let v = ip.v4
        return "\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).0/24"
    }
    return IPAddress(hi: ip.hi & 0xffff_ffff_ffff_0000, lo: 0).description + "/48"
}

/// `<Tactic>:IAMUser/AnomalousBehavior`: a principal past its learning period calls an
/// API of a tactic (``APITactic``) it has never called before, and the call is unusual
/// in more ways: at a burst rate, or from a network and with a user agent both unseen.
/// The features:
///
/// - `network`: from a network (IPv4 /24, IPv6 /48) the principal had not used before the
///   last hour (`contextWindow`): the first call from a new network makes it "seen", so a
///   session that started there within the hour stays unusual;
/// - `user_agent`, `region`: likewise for the user agent and the region;
/// - `rate`: at least `burstCount` (5) calls of never-called APIs within `burstWindow`
///   (10 minutes).
///
/// The finding's `reasons` list the features (`api` always); its description names them.
/// Key: principal (one finding per principal and tactic; repeats count up). Severity by
/// tactic (``APITactic/severity``). State: per principal, the never-called APIs of the
/// last burst window (at most `burstCount`, at most `maxKeys` principals).
public struct AnomalousBehaviorDetector: WindowedDetector, BaselineDetector {
    public let id = "cloudtrail.anomalous-behavior"
    public let sources: Set<Source> = [.cloudtrail]
    public var state = WindowStore()
    public static var emptyState: WindowStore { WindowStore() }
    public var contextWindow: Int64 = 3_600_000
    public var burstWindow: Int64 = 600_000
    public var burstCount = 5
    public var maxKeys = 100_000

    public init() {}

    public mutating func observe(_ e: Event, baselines view: (any BaselineView)?) -> [FindingDraft] {
        guard let view, let who = e.principal, let service = e.service, let action = e.action,
              let tactic = APITactic.of(service: service, action: action) else { return [] }
        let entity = BaselineEntity(.principal, account: e.account, who)
        guard !view.isLearning(entity, at: e.time),
              view.isUnseen(entity, .api(service: service, action: action), before: e.time) else { return [] }
        let api = "\(service.prefix { $0 != "." }):\(action)"
        let key = e.account + "|" + who
        state.add(key, WindowEntry(e, api), now: e.time, window: burstWindow, maxEntries: burstCount, maxKeys: maxKeys,
                  distinct: true)
        let burst = state.entries(key, now: e.time, window: burstWindow)

        func recent(_ item: BaselineItem) -> Bool {
            guard let f = view.firstSeen(entity, item) else { return true }
            return f >= e.time - contextWindow
        }
        var reasons = ["api"]
        var why: [String] = []
        if let ip = e.srcIP, recent(.network(ip)) { reasons.append("network"); why.append("network \(baselineNetwork(ip))") }
        if let ua = e.userAgent, recent(.userAgent(ua)) { reasons.append("user_agent"); why.append("user agent \(ua)") }
        if let r = e.region, recent(.region(r)) { reasons.append("region"); why.append("region \(r)") }
        if burst.count >= burstCount {
            reasons.append("rate")
            why.append("rate: \(burst.count) never-called APIs within \(Span(millis: burstWindow))")
        }
        // One unseen context feature alone is everyday (a new browser version, a trip, a
        // new region rolled out): a burst, or a new network and a new client together.
        guard reasons.contains("rate") || (reasons.contains("network") && reasons.contains("user_agent")) else { return [] }
        var d = FindingDraft(
            type: FindingType("\(tactic.rawValue):IAMUser/AnomalousBehavior")!, severity: tactic.severity,
            title: "\(shortName(who)) called \(api) (\(tactic.rawValue)), never called before; unusual: "
                + reasons.dropFirst().joined(separator: ", "),
            description: "\(who) called \(api) (\(tactic.rawValue)) for the first time after its learning period; "
                + "also unseen: " + why.joined(separator: ", ") + ".",
            detector: id, aggregationKey: [who], event: e,
            evidence: burst.count >= burstCount ? burst.map(\.ref) + [EvidenceRef(e)] : nil)
        d.reasons = reasons
        return [d]
    }
}

/// UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS: the credentials
/// of an EC2 instance's role (an assumed-role session named by the instance id,
/// `arn:aws:sts::<account>:assumed-role/<role>/i-0123...`) used from a publicly routable
/// address (not `AWS Internal` nor a service name, which carry no address) whose network
/// the session had not used before the last hour (`contextWindow`), after the session's
/// learning period. secq has no list of AWS's own ranges: the account's known egress is
/// what the instance's session used before. Key: principal. Severity 8.0 (High).
public struct InstanceCredentialExfiltrationDetector: BaselineDetector {
    public let id = "cloudtrail.instance-credential-exfiltration"
    public let sources: Set<Source> = [.cloudtrail]
    public var contextWindow: Int64 = 3_600_000

    public init() {}

    public func saveState() throws -> [UInt8] { [] }
    public mutating func loadState(_ bytes: [UInt8]) throws {}

    /// The role and instance id of an instance-role session ARN, nil for anything else.
    public static func instanceSession(_ arn: String) -> (role: String, instance: String)? {
        // Read on the bytes (every CloudTrail event's principal comes through here); most
        // principals fail the first test.
        let u = arn.utf8
        guard arn.hasPrefix("arn:aws"), let slash = u.lastIndex(of: UInt8(ascii: "/")),
              u[u.index(after: slash)...].starts(with: "i-".utf8) else { return nil }
        // arn:...:assumed-role/<role>/i-<8 or 17 lowercase hex>, exactly three parts.
        guard let first = u.firstIndex(of: UInt8(ascii: "/")), first < slash,
              u[u.index(after: first)..<slash].firstIndex(of: UInt8(ascii: "/")) == nil,
              u[..<first].reversed().starts(with: ":assumed-role".utf8.reversed()) else { return nil }
        let inst = u[u.index(after: slash)...]
        guard inst.count == 10 || inst.count == 19,
              inst.dropFirst(2).allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return nil }
        return (String(decoding: u[u.index(after: first)..<slash], as: UTF8.self), String(decoding: inst, as: UTF8.self))
    }

    public mutating func observe(_ e: Event, baselines view: (any BaselineView)?) -> [FindingDraft] {
        guard let view, let who = e.principal, let ip = e.srcIP, let session = Self.instanceSession(who),
              ThreatIntel.isPublic(ip) else { return [] }
        let entity = BaselineEntity(.principal, account: e.account, who)
        guard !view.isLearning(entity, at: e.time) else { return [] }
        if let f = view.firstSeen(entity, .network(ip)), f < e.time - contextWindow { return [] }
        var d = FindingDraft(
            type: FindingType("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS")!, severity: 8.0,
            title: "Credentials of instance \(session.instance) (role \(session.role)) used from \(ip)",
            description: "The instance-role session \(who) called \(e.action ?? "an API") from \(ip), a public address "
                + "in network \(baselineNetwork(ip)) the session never used before: its credentials are used outside the instance.",
            detector: id, aggregationKey: [who], event: e)
        d.reasons = ["network"]
        return [d]
    }
}

/// An entity's rate of something (objects read, bytes sent) per hour: the hours since
/// its first event up to the one before the last summarised (mean, variance, maximum,
/// empty hours counted as 0), and
/// the last hour in twelve 5-minute slots for a sliding sum. Two metrics: a count and
/// bytes. Deterministic: a function of the (time, count, bytes) fed in order.
public struct RateProfile: Sendable, Codable, Equatable {
    public static let slotMillis: Int64 = 300_000
    public static let slots = 12

    /// The open hour (event time / 1h).
    var hour: Int64
    /// The open hour's count and bytes.
    var open: [Double] = [0, 0]
    /// The last closed hour, not yet in the summary.
    var pending: [Double]? = nil
    /// Closed hours summarised (Welford): n, mean, m2, max, per metric.
    var n: Double = 0
    var mean: [Double] = [0, 0]
    var m2: [Double] = [0, 0]
    var max: [Double] = [0, 0]
    /// The newest 5-minute slot and the last twelve slots' sums (oldest first).
    var slot: Int64
    var ring: [[Double]] = Array(repeating: [0, 0], count: RateProfile.slots)
    /// Whether the current burst was reported (cleared when the sliding sum falls back).
    var alerted = false

    init(t: Int64) {
        hour = Self.floorDiv(t, 3_600_000)
        slot = Self.floorDiv(t, Self.slotMillis)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Closed hours summarised.
    public var hours: Int { Int(n) }
    /// The largest hourly count (0) or bytes (1) of the closed hours.
    public func hourlyMax(_ m: Int) -> Double { max[m] }
    public func hourlyMean(_ m: Int) -> Double { mean[m] }
    /// The sums of the last hour (sliding, in 5-minute slots).
    public var lastHour: [Double] { [ring.reduce(0) { $0 + $1[0] }, ring.reduce(0) { $0 + $1[1] }] }

    mutating func add(t: Int64, count: Double, bytes: Double) {
        let h = Self.floorDiv(t, 3_600_000)
        if h > hour {
            // The hour just closed waits one more hour before it joins the profile: the
            // sliding last hour spans it, and a burst must not become its own baseline.
            // Empty hours between count as 0 (capped: a year of them says "idle").
            let closed = [open] + Array(repeating: [0, 0], count: Int(Swift.min(h - hour - 1, 8760)))
            for v in closed {
                if let p = pending { close(p) }
                pending = v
            }
            hour = h; open = [0, 0]
        }
        open[0] += count; open[1] += bytes // a late event counts in the open hour
        let s = Self.floorDiv(t, Self.slotMillis)
        if s > slot {
            let shift = Int(Swift.min(s - slot, Int64(Self.slots)))
            ring.removeFirst(shift)
            ring += Array(repeating: [0, 0], count: shift)
            slot = s
        }
        let back = slot - s
        if back < Int64(Self.slots) {
            let i = Self.slots - 1 - Int(back)
            ring[i][0] += count; ring[i][1] += bytes
        }
    }

    private mutating func close(_ v: [Double]) {
        n += 1
        for m in 0..<2 {
            let d = v[m] - mean[m]
            mean[m] += d / n
            m2[m] += d * (v[m] - mean[m])
            if n == 1 || v[m] > max[m] { max[m] = v[m] }
        }
    }
}

/// Per-key rate profiles, at most `maxKeys` keys (a new key past that is not profiled:
/// drop-newest, so an established profile is never evicted by a spray of new keys).
public struct RateProfiles: Sendable, Codable, Equatable {
    /// Changed only through the methods below, which record the keys they change.
    public private(set) var keys: [String: RateProfile] = [:]
    /// Keys changed since ``takeChanges()``: not part of the state (not coded, not compared).
    private var changed = Set<String>()

    public init() {}

    enum CodingKeys: String, CodingKey { case keys }

    public static func == (a: RateProfiles, b: RateProfiles) -> Bool { a.keys == b.keys }

    /// Feeds one event's count and bytes; returns the key's profile, nil when not kept.
    mutating func add(_ key: String, t: Int64, count: Double, bytes: Double, maxKeys: Int) -> RateProfile? {
        if keys[key] == nil {
            guard keys.count < maxKeys else { return nil }
            keys[key] = RateProfile(t: t)
        }
        keys[key]!.add(t: t, count: count, bytes: bytes)
        changed.insert(key)
        return keys[key]
    }

    /// Marks whether the key's current burst was reported.
    mutating func setAlerted(_ key: String, _ alerted: Bool) {
        guard keys[key] != nil, keys[key]!.alerted != alerted else { return }
        keys[key]!.alerted = alerted
        changed.insert(key)
    }
}

extension RateProfiles: KeyedState {
    /// An entry: the key's ``RateProfile`` as JSON with sorted keys.
    public init(entries: [(key: String, value: [UInt8])]) throws {
        self.init()
        for (key, value) in entries { keys[key] = try StateCoding.decode(RateProfile.self, value) }
    }

    public mutating func takeChanges() throws -> [(key: String, value: [UInt8]?)] {
        let which = changed
        changed = []
        return try which.sorted().map { k in (k, try keys[k].map { try StateCoding.encode($0) }) }
    }
}

/// Thresholds of a rate detector: the last hour's sum must reach `minimum` and `factor`
/// times the entity's largest closed hour.
public struct RateThreshold: Sendable, Equatable {
    public var minimum: Double
    public var factor: Double

    public init(minimum: Double, factor: Double) { self.minimum = minimum; self.factor = factor }

    public func exceeded(_ value: Double, hourlyMax: Double) -> Bool {
        value >= minimum && value >= factor * hourlyMax
    }
}

/// Exfiltration:S3/AnomalousBehavior: a principal past its learning period reads (S3
/// `GetObject` and other object reads: CloudTrail data events, or server access log
/// lines, each log profiled apart) far more objects or bytes within an
/// hour (sliding, 5-minute slots) than in any hour of its profile: at least 100 objects
/// and 5 times its largest hourly count, or at least 1 GiB and 5 times its largest
/// hourly bytes. Reported once per burst (again after the hourly sum falls back under
/// the threshold). Key: principal. Severity 8.0 (High). State: one ``RateProfile`` per
/// principal that read objects, at most 20,000 principals.
public struct S3AnomalousBehaviorDetector: WindowedDetector, BaselineDetector {
    public let id = "cloudtrail.s3-anomalous-behavior"
    public let sources: Set<Source> = [.cloudtrail, .s3access]
    public var state = RateProfiles()
    public static var emptyState: RateProfiles { RateProfiles() }
    public var objects = RateThreshold(minimum: 100, factor: 5)
    public var bytes = RateThreshold(minimum: 1_073_741_824, factor: 5)
    public var maxKeys = 20_000

    static let reads: Set<String> = ["GetObject", "GetObjectVersion", "SelectObjectContent", "GetObjectTorrent"]
    /// The same reads as S3 server access logs name them.
    static let accessLogReads: Set<String> = ["REST.GET.OBJECT", "REST.POST.SELECT", "REST.GET.TORRENT"]

    public init() {}

    /// Whether the event is a successful object read: a CloudTrail data event or a line
    /// of a bucket's server access log.
    static func isRead(_ e: Event) -> Bool {
        guard let a = e.action, e.outcome != .failure else { return false }
        switch e.source {
        case .cloudtrail: return e.service == "s3.amazonaws.com" && reads.contains(a)
        case .s3access: return accessLogReads.contains(a)
        default: return false
        }
    }

    public mutating func observe(_ e: Event, baselines view: (any BaselineView)?) -> [FindingDraft] {
        guard let view, Self.isRead(e), let who = e.principal else { return [] }
        // One profile per log: a bucket with both data events and access logs would
        // otherwise count each read twice.
        let key = e.account + "|" + who + (e.source == .s3access ? "|s3access" : "")
        guard let p = state.add(key, t: e.time, count: 1, bytes: Double(max(0, e.bytes ?? 0)), maxKeys: maxKeys) else { return [] }
        let last = p.lastHour
        let overObjects = objects.exceeded(last[0], hourlyMax: p.hourlyMax(0))
        let overBytes = bytes.exceeded(last[1], hourlyMax: p.hourlyMax(1))
        guard overObjects || overBytes else {
            state.setAlerted(key, false)
            return []
        }
        guard !p.alerted, !view.isLearning(BaselineEntity(.principal, account: e.account, who), at: e.time) else { return [] }
        state.setAlerted(key, true)
        var reasons: [String] = []
        if overObjects { reasons.append("objects") }
        if overBytes { reasons.append("bytes") }
        var d = FindingDraft(
            type: FindingType("Exfiltration:S3/AnomalousBehavior")!, severity: 8.0,
            title: "\(shortName(who)) read \(Int(last[0])) S3 objects within an hour, far above its usual rate",
            description: "\(who) read \(Int(last[0])) objects (\(Int(last[1])) bytes) within the last hour; its largest hour "
                + "before held \(Int(p.hourlyMax(0))) objects (\(Int(p.hourlyMax(1))) bytes) over \(p.hours) hours profiled.",
            detector: id, aggregationKey: [who], event: e)
        d.reasons = reasons
        return [d]
    }
}

/// The interface side and remote side of a flow record, as the baselines read it: the
/// destination is the remote side unless its port is ephemeral (32768 and up) and the
/// source's is lower (a reply from a service). Nil for a reply (inbound to the
/// interface's service) or a record without addresses.
func outboundRemote(_ e: Event) -> (remote: IPAddress, port: Int64)? {
    guard let dst = e.dstIP, let dp = e.dstPort else { return nil }
    if let sp = e.srcPort, dp >= 32768, sp < dp { return nil }
    return (dst, dp)
}

/// Behavior:EC2/NetworkPortUnusual: an interface past its learning period opens an
/// accepted connection from a private address to a publicly routable one on a remote
/// port it had never used before this flow, other than the web, DNS and NTP ports
/// (53, 80, 123, 443). Key: interface + port. Severity 5.0
/// (GuardDuty: Medium).
public struct NetworkPortUnusualDetector: BaselineDetector {
    public let id = "vpcflow.network-port-unusual"
    public let sources: Set<Source> = [.vpcflow]
    /// Ports every instance may start using any day (web, DNS, NTP): never unusual.
    public static let commonPorts: Set<Int64> = [53, 80, 123, 443]

    public init() {}

    public func saveState() throws -> [UInt8] { [] }
    public mutating func loadState(_ bytes: [UInt8]) throws {}

    public mutating func observe(_ e: Event, baselines view: (any BaselineView)?) -> [FindingDraft] {
        guard let view, let iface = e.resource, e.action == "ACCEPT", let src = e.srcIP, !ThreatIntel.isPublic(src),
              let (remote, port) = outboundRemote(e), ThreatIntel.isPublic(remote) else { return [] }
        guard !Self.commonPorts.contains(port) else { return [] }
        let entity = BaselineEntity(.interface, account: e.account, iface)
        guard !view.isLearning(entity, at: e.time), view.isUnseen(entity, .remotePort(port), before: e.time) else { return [] }
        var d = FindingDraft(
            type: FindingType("Behavior:EC2/NetworkPortUnusual")!, severity: 5.0,
            title: "\(iface) connected to \(remote) on port \(port), a port it never used",
            description: "Interface \(iface) (\(src)) opened an accepted connection to \(remote):\(port); it had never used "
                + "remote port \(port) before, after its learning period.",
            detector: id, aggregationKey: [iface, "\(port)"], event: e, resource: iface)
        d.reasons = ["port"]
        return [d]
    }
}

/// Behavior:EC2/TrafficVolumeUnusual: an interface past its learning period sends far
/// more bytes to publicly routable addresses within an hour (sliding, 5-minute slots)
/// than in any hour of its profile: at least 1 GiB and 10 times its largest hourly
/// bytes. Reported once per burst. Key: interface. Severity 5.0 (GuardDuty: Medium).
/// State: one ``RateProfile`` per interface with outbound public traffic, at most 50,000.
public struct TrafficVolumeUnusualDetector: WindowedDetector, BaselineDetector {
    public let id = "vpcflow.traffic-volume-unusual"
    public let sources: Set<Source> = [.vpcflow]
    public var state = RateProfiles()
    public static var emptyState: RateProfiles { RateProfiles() }
    public var threshold = RateThreshold(minimum: 1_073_741_824, factor: 10)
    public var maxKeys = 50_000

    public init() {}

    public mutating func observe(_ e: Event, baselines view: (any BaselineView)?) -> [FindingDraft] {
        guard let view, let iface = e.resource, e.action == "ACCEPT", let src = e.srcIP, !ThreatIntel.isPublic(src),
              let (remote, _) = outboundRemote(e), ThreatIntel.isPublic(remote), let b = e.bytes, b > 0 else { return [] }
        let key = e.account + "|" + iface
        guard let p = state.add(key, t: e.time, count: 1, bytes: Double(b), maxKeys: maxKeys) else { return [] }
        let last = p.lastHour[1]
        guard threshold.exceeded(last, hourlyMax: p.hourlyMax(1)) else {
            state.setAlerted(key, false)
            return []
        }
        guard !p.alerted, !view.isLearning(BaselineEntity(.interface, account: e.account, iface), at: e.time) else { return [] }
        state.setAlerted(key, true)
        var d = FindingDraft(
            type: FindingType("Behavior:EC2/TrafficVolumeUnusual")!, severity: 5.0,
            title: "\(iface) sent \(Int(last)) bytes out within an hour, far above its usual volume",
            description: "Interface \(iface) sent \(Int(last)) bytes to public addresses within the last hour; its largest "
                + "hour before was \(Int(p.hourlyMax(1))) bytes over \(p.hours) hours profiled.",
            detector: id, aggregationKey: [iface], event: e, resource: iface)
        d.reasons = ["bytes"]
        return [d]
    }
}
