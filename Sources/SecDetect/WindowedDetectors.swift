import Foundation
import SecModel

/// UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B: two successful console log-ins of
/// one principal from distant networks within an hour. "Distant" is a different IPv4
/// /16 or a different IPv6 /32 (or one of each family). Key: account + principal.
/// Severity 5.0 (GuardDuty: Medium). Window 1h; at most 20 log-ins kept per principal.
public struct ConsoleLoginSuccessBDetector: WindowedDetector {
    public let id = "cloudtrail.console-login-success-b"
    public let sources: Set<Source> = [.cloudtrail]
    public var state = WindowStore()
    public static var emptyState: WindowStore { WindowStore() }
    public let settings: WindowSettings

    public init(settings: WindowSettings = WindowSettings(window: Span(millis: 3_600_000), threshold: 2)) {
        self.settings = settings
    }

    /// The network an address is counted in: its /16 (IPv4) or /32 (IPv6).
    public static func network(_ ip: IPAddress) -> String {
        ip.isV4 ? CIDR("\(ip)/16")!.description : CIDR("\(ip)/32")!.description
    }

    public mutating func observe(_ e: Event) -> [FindingDraft] {
        guard succeeded(e), e.action == "ConsoleLogin", let ip = e.srcIP, let who = e.principal else { return [] }
        let key = e.account + "|" + who
        let net = Self.network(ip)
        let recent = state.entries(key, now: e.time, window: settings.window)
        state.add(key, WindowEntry(e, net), now: e.time, window: settings.window, maxEntries: 20, maxKeys: settings.maxKeys)
        let others = recent.filter { $0.v != net }
        guard let other = others.last else { return [] }
        return [FindingDraft(
            type: Types.consoleLoginSuccessB, severity: 5.0,
            title: "\(shortName(who)) signed in to the console from distant networks",
            description: "Successful console log-ins from \(other.v) and \(net) within \(Span(millis: settings.window)).",
            detector: id, aggregationKey: [who], event: e, evidence: others.map(\.ref) + [EvidenceRef(e)])]
    }
}

/// The shared logic of "failures, then a success, from one client": at least
/// `threshold` failures within the window, then a success, fire once and forget the
/// key; a success after fewer failures forgets them too.
struct FailuresThenSuccess: Sendable, Codable, Equatable {
    var store = WindowStore()

    /// Returns the failures that preceded a success, when they reach the threshold.
    mutating func observe(_ e: Event, key: String, failed: Bool, settings: WindowSettings) -> [WindowEntry]? {
        if failed {
            store.add(key, WindowEntry(e, ""), now: e.time, window: settings.window,
                      maxEntries: settings.threshold, maxKeys: settings.maxKeys)
            return nil
        }
        let fails = store.entries(key, now: e.time, window: settings.window)
        store.clear(key)
        return fails.count >= settings.threshold ? fails : nil
    }
}

/// Console brute force (secq-defined type): at least 5 failed `ConsoleLogin`s from one
/// address within 30 minutes, then a successful one from the same address. Key: account
/// + source address. Severity 8.0 (High).
public struct ConsoleLoginBruteForceDetector: WindowedDetector {
    public let id = "cloudtrail.console-brute-force"
    public let sources: Set<Source> = [.cloudtrail]
    public var state = FailuresThenSuccessState()
    public static var emptyState: FailuresThenSuccessState { FailuresThenSuccessState() }
    public let settings: WindowSettings

    public init(settings: WindowSettings = WindowSettings(window: Span(millis: 1_800_000), threshold: 5)) {
        self.settings = settings
    }

    public mutating func observe(_ e: Event) -> [FindingDraft] {
        guard e.source == .cloudtrail, e.action == "ConsoleLogin", let ip = e.srcIP,
              e.outcome != .unknown else { return [] }
        let key = e.account + "|" + ip.description
        guard let fails = state.inner.observe(e, key: key, failed: e.outcome == .failure, settings: settings) else { return [] }
        return [FindingDraft(
            type: Types.consoleBruteForce, severity: 8.0,
            title: "Console log-in succeeded from \(ip) after \(fails.count) failures",
            description: "\(fails.count) failed console log-ins from \(ip) within \(Span(millis: settings.window)), then \(shortName(e.principal)) signed in.",
            detector: id, aggregationKey: [ip.description], event: e, evidence: fails.map(\.ref) + [EvidenceRef(e)])]
    }
}

/// The state of a failures-then-success detector.
public struct FailuresThenSuccessState: Sendable, Codable, Equatable {
    var inner = FailuresThenSuccess()
    public init() {}
}

/// CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce: at least 10 failed
/// database log-ins (`auth_failed`) from one client address to one instance within an
/// hour, then a successful connection (`connect`) from that address. Key: account +
/// instance + client address. Severity 8.0 (GuardDuty: High).
public struct RDSBruteForceDetector: WindowedDetector {
    public let id = "rds.successful-brute-force"
    public let sources: Set<Source> = [.rds]
    public var state = FailuresThenSuccessState()
    public static var emptyState: FailuresThenSuccessState { FailuresThenSuccessState() }
    public let settings: WindowSettings
    static let type = Types.t("CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce")

    /// The window of the RDS log-in detectors (this and ``RDSFailedLogin``).
    public static let window = Span(millis: 3_600_000)

    public init(settings: WindowSettings = WindowSettings(window: RDSBruteForceDetector.window, threshold: 10)) {
        self.settings = settings
    }

    public mutating func observe(_ e: Event) -> [FindingDraft] {
        guard e.source == .rds, e.eventClass == .authentication, let ip = e.srcIP else { return [] }
        let failed: Bool
        switch (e.action, e.outcome) {
        case ("auth_failed", _): failed = true
        case ("connect", let o) where o != .failure: failed = false
        default: return []
        }
        let db = e.resource ?? ""
        guard let fails = state.inner.observe(e, key: e.account + "|" + db + "|" + ip.description,
                                              failed: failed, settings: settings) else { return [] }
        return [FindingDraft(
            type: Self.type, severity: 8.0,
            title: "Database log-in succeeded from \(ip) after \(fails.count) failures",
            description: "\(fails.count) failed log-ins to \(db.isEmpty ? "the database" : db) from \(ip), then \(e.principal ?? "a user") connected.",
            detector: id, aggregationKey: [db, ip.description], event: e, evidence: fails.map(\.ref) + [EvidenceRef(e)])]
    }
}

/// Whether an address is on the Internet side (see ``ThreatIntel/isPublic(_:)``).
func isExternal(_ ip: IPAddress) -> Bool { ThreatIntel.isPublic(ip) }

/// Recon:EC2/Portscan: one source reaches at least 50 distinct destination ports of one
/// target within 5 minutes (accepted or rejected flows). Key: account + source + target.
/// Severity 5.0 (GuardDuty: Medium). Fires once per threshold reached, then starts over.
public typealias PortscanDetector = WindowCountDetector<Portscan>

public struct Portscan: WindowCountRule {
    public static let id = "vpcflow.portscan"
    public static let sources: Set<Source> = [.vpcflow]
    public static let defaultSettings = WindowSettings(window: Span(millis: 300_000), threshold: 50)
    static let type = Types.t("Recon:EC2/Portscan")
    public init() {}

    public func step(_ e: Event) -> WindowStep? {
        guard let src = e.srcIP, let dst = e.dstIP, let port = e.dstPort else { return nil }
        return .add(key: e.account + "|" + src.description + "|" + dst.description, value: String(port))
    }

    public func draft(_ e: Event, _ l: [WindowEntry], settings: WindowSettings) -> FindingDraft {
        let src = e.srcIP!.description, dst = e.dstIP!.description
        return FindingDraft(
            type: Self.type, severity: 5.0,
            title: "\(src) scanned \(l.count) ports of \(dst)",
            description: "\(l.count) distinct destination ports of \(dst) from \(src) within \(Span(millis: settings.window)).",
            detector: Self.id, aggregationKey: [src, dst], event: e, evidence: l.map(\.ref))
    }
}

/// Recon:EC2/PortProbeUnprotectedPort: a public address probes at least 20 distinct
/// ports of one instance within 30 minutes, and at least one probe was accepted (the
/// instance has an open port the prober found). Key: account + source + target. Slower
/// than a port scan (which is 50 ports in 5 minutes) and only with an open port among
/// them; internet noise (one or two ports per scanner) stays below it. Severity 2.0
/// (GuardDuty: Low). Fires once per threshold reached, then starts over.
public typealias PortProbeDetector = WindowCountDetector<PortProbe>

public struct PortProbe: WindowCountRule {
    public static let id = "vpcflow.port-probe"
    public static let sources: Set<Source> = [.vpcflow]
    public static let defaultSettings = WindowSettings(window: Span(millis: 1_800_000), threshold: 20)
    static let type = Types.t("Recon:EC2/PortProbeUnprotectedPort")
    public init() {}

    public func step(_ e: Event) -> WindowStep? {
        guard let src = e.srcIP, isExternal(src), let dst = e.dstIP, !isExternal(dst), let port = e.dstPort,
              let action = e.action, action == "ACCEPT" || action == "REJECT" else { return nil }
        // An accepted probe is the same port as a rejected one: counted once, kept as accepted.
        return .add(key: e.account + "|" + src.description + "|" + dst.description,
                    value: action == "ACCEPT" ? "\(port)+" : String(port))
    }

    public func fires(_ entries: [WindowEntry]) -> Bool { entries.contains { $0.v.hasSuffix("+") } }

    public func draft(_ e: Event, _ l: [WindowEntry], settings: WindowSettings) -> FindingDraft {
        let src = e.srcIP!.description, dst = e.dstIP!.description
        let open = l.filter { $0.v.hasSuffix("+") }.map { String($0.v.dropLast()) }
        return FindingDraft(
            type: Self.type, severity: 2.0,
            title: "\(src) probed \(l.count) ports of \(dst); open: \(open.joined(separator: ", "))",
            description: "\(l.count) distinct ports of \(dst) probed from \(src) within \(Span(millis: settings.window)); accepted on \(open.joined(separator: ", ")).",
            detector: Self.id, aggregationKey: [src, dst], event: e, evidence: l.map(\.ref))
    }
}

/// Impact:EC2/PortSweep: one source reaches one port on at least 25 distinct targets
/// within 10 minutes. Key: account + source + port. Severity 8.0 (GuardDuty: High).
public typealias PortSweepDetector = WindowCountDetector<PortSweep>

public struct PortSweep: WindowCountRule {
    public static let id = "vpcflow.port-sweep"
    public static let sources: Set<Source> = [.vpcflow]
    public static let defaultSettings = WindowSettings(window: Span(millis: 600_000), threshold: 25)
    static let type = Types.t("Impact:EC2/PortSweep")
    public init() {}

    public func step(_ e: Event) -> WindowStep? {
        guard let src = e.srcIP, let dst = e.dstIP, let port = e.dstPort else { return nil }
        return .add(key: e.account + "|" + src.description + "|" + String(port), value: dst.description)
    }

    public func draft(_ e: Event, _ l: [WindowEntry], settings: WindowSettings) -> FindingDraft {
        let src = e.srcIP!, port = e.dstPort!
        return FindingDraft(
            type: Self.type, severity: 8.0,
            title: "\(src) probed port \(port) on \(l.count) addresses",
            description: "Port \(port) of \(l.count) distinct addresses from \(src) within \(Span(millis: settings.window)).",
            detector: Self.id, aggregationKey: [src.description, String(port)], event: e, evidence: l.map(\.ref))
    }
}

/// UnauthorizedAccess:EC2/SSHBruteForce and RDPBruteForce: at least 20 short TCP
/// connections (at most 30 packets each) from one source to port 22 (SSH) or 3389 (RDP)
/// of one destination within 10 minutes. When the source is a private (non-public)
/// address and the destination public, the instance is the actor: severity 8.0;
/// otherwise it is the target: severity 2.0 (GuardDuty: High and Low). Key: account +
/// source + destination.
public typealias RemoteBruteForceDetector = WindowCountDetector<RemoteBruteForce>

extension WindowCountDetector where Rule == RemoteBruteForce {
    public init(settings: WindowSettings = RemoteBruteForce.defaultSettings, maxPackets: Int64) {
        self.init(settings: settings, rule: RemoteBruteForce(maxPackets: maxPackets))
    }
}

public struct RemoteBruteForce: WindowCountRule {
    public static let id = "vpcflow.remote-brute-force"
    public static let sources: Set<Source> = [.vpcflow]
    public static let defaultSettings = WindowSettings(window: Span(millis: 600_000), threshold: 20)
    public static let distinct = false
    public let maxPackets: Int64
    public init() { maxPackets = 30 }
    public init(maxPackets: Int64) { self.maxPackets = maxPackets }

    public func step(_ e: Event) -> WindowStep? {
        guard e.proto == 6, let src = e.srcIP, let dst = e.dstIP, let port = e.dstPort,
              port == 22 || port == 3389, (e.packets ?? 0) <= maxPackets else { return nil }
        return .add(key: e.account + "|" + src.description + "|" + dst.description + "|" + String(port), value: "")
    }

    public func draft(_ e: Event, _ l: [WindowEntry], settings: WindowSettings) -> FindingDraft {
        let src = e.srcIP!, dst = e.dstIP!, port = e.dstPort!
        let actor = !isExternal(src) && isExternal(dst)
        let type = Types.t(port == 22 ? "UnauthorizedAccess:EC2/SSHBruteForce" : "UnauthorizedAccess:EC2/RDPBruteForce")
        let proto = port == 22 ? "SSH" : "RDP"
        return FindingDraft(
            type: type, severity: actor ? 8.0 : 2.0,
            title: actor ? "Instance \(src) is brute-forcing \(proto) on \(dst)" : "\(src) is brute-forcing \(proto) on \(dst)",
            description: "\(l.count) short \(proto) connections from \(src) to \(dst) within \(Span(millis: settings.window)); the instance is the \(actor ? "actor" : "target").",
            detector: Self.id, aggregationKey: [src.description, dst.description, String(port)], event: e, evidence: l.map(\.ref))
    }
}

/// Trojan:EC2/DNSDataExfiltration: at least 20 distinct query names under one base
/// domain from one client within 10 minutes, each carrying an encoded-looking label: at
/// least 24 characters, at least 3 digits, Shannon entropy at least 3.2 bits per
/// character (random hex of 40 characters scores 3.4-3.9, base32 4.2-4.5; readable
/// names score as high but carry no digits). Key: account + client (instance, else address) + base domain. Severity
/// 8.0 (GuardDuty: High).
public typealias DNSExfiltrationDetector = WindowCountDetector<DNSExfiltration>

extension WindowCountDetector where Rule == DNSExfiltration {
    public static func entropy(_ s: Substring) -> Double { DNSExfiltration.entropy(s) }
    public static func hasEncodedLabel(_ name: String) -> Bool { DNSExfiltration.hasEncodedLabel(name) }
}

public struct DNSExfiltration: WindowCountRule {
    public static let id = "route53.dns-exfiltration"
    public static let sources: Set<Source> = [.route53]
    public static let defaultSettings = WindowSettings(window: Span(millis: 3_600_000), threshold: 20)
    static let type = Types.t("Trojan:EC2/DNSDataExfiltration")
    public init() {}

    /// Bits per character of a string's character distribution.
    public static func entropy(_ s: Substring) -> Double {
        var counts: [Character: Int] = [:]
        for c in s { counts[c, default: 0] += 1 }
        let n = Double(s.count)
        return counts.values.reduce(0) { acc, c in let p = Double(c) / n; return acc - p * log2(p) }
    }

    /// True when some label of the name (other than the base domain's) looks encoded.
    public static func hasEncodedLabel(_ name: String) -> Bool {
        let labels = name.split(separator: ".")
        let base = DomainName.baseLabelCount(labels)
        guard labels.count > base else { return false }
        return labels.dropLast(base).contains { l in
            l.count >= 24 && l.filter(\.isNumber).count >= 3 && entropy(l) >= 3.2
        }
    }

    public func step(_ e: Event) -> WindowStep? {
        guard let name = e.queryName, Self.hasEncodedLabel(name) else { return nil }
        return .add(key: e.account + "|" + dnsClient(e) + "|" + DomainName.base(name), value: name)
    }

    public func draft(_ e: Event, _ l: [WindowEntry], settings: WindowSettings) -> FindingDraft {
        let client = dnsClient(e), domain = DomainName.base(e.queryName!)
        return FindingDraft(
            type: Self.type, severity: 8.0,
            title: "\(client) may be exfiltrating data through DNS queries to \(domain)",
            description: "\(l.count) distinct encoded-looking names under \(domain) within \(Span(millis: settings.window)).",
            detector: Self.id, aggregationKey: [client, domain], event: e, evidence: l.map(\.ref))
    }
}

/// The client of a Route 53 query: its instance, else its address.
func dnsClient(_ e: Event) -> String { e.resource ?? e.srcIP?.description ?? "unknown" }

/// Base ("registered") domains without a public suffix list: the last two labels, or
/// three when the second-level label is a common country second level (`co.uk`,
/// `com.au`, ...).
public enum DomainName {
    static let secondLevels: Set<Substring> = ["co", "com", "net", "org", "gov", "ac", "edu"]

    static func baseLabelCount(_ labels: [Substring]) -> Int {
        guard labels.count >= 3 else { return min(2, labels.count) }
        let tld = labels[labels.count - 1], sld = labels[labels.count - 2]
        return tld.count == 2 && secondLevels.contains(sld) ? 3 : 2
    }

    public static func base(_ name: String) -> String {
        let labels = name.lowercased().split(separator: ".")
        return labels.suffix(baseLabelCount(labels)).joined(separator: ".")
    }
}
