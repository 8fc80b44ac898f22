import SecModel

/// A set of address prefixes matched by a binary trie over the 128-bit form of
/// addresses (IPv4 as `::ffff:a.b.c.d`): a look-up walks at most 128 nodes, whatever the
/// number of prefixes.
public struct PrefixTrie: Sendable {
    /// Children of node i at 2i (bit 0) and 2i+1 (bit 1); 0 means none (the root is 0
    /// and never a child).
    private var children: [UInt32] = [0, 0]
    /// Nodes that end a prefix.
    private var terminal: [Bool] = [false]
    public private(set) var count = 0

    public init() {}

    static func bit(_ ip: IPAddress, _ i: Int) -> Int {
        i < 64 ? Int(ip.hi >> UInt64(63 - i) & 1) : Int(ip.lo >> UInt64(127 - i) & 1)
    }

    public mutating func insert(_ c: CIDR) {
        var node = 0
        for i in 0..<c.bits {
            if terminal[node] { return } // a shorter prefix already covers it
            let slot = 2 * node + PrefixTrie.bit(c.network, i)
            if children[slot] == 0 {
                children[slot] = UInt32(terminal.count)
                terminal.append(false)
                children.append(0); children.append(0)
            }
            node = Int(children[slot])
        }
        if !terminal[node] { terminal[node] = true; count += 1 }
    }

    /// The length (over 128 bits) of the shortest prefix holding `ip`, or nil.
    public func match(_ ip: IPAddress) -> Int? {
        var node = 0
        if terminal[0] { return 0 }
        for i in 0..<128 {
            let next = Int(children[2 * node + PrefixTrie.bit(ip, i)])
            if next == 0 { return nil }
            node = next
            if terminal[node] { return i + 1 }
        }
        return nil
    }

    public func contains(_ ip: IPAddress) -> Bool { match(ip) != nil }
}

/// A set of domains matched by suffix, label by label: `evil.example` matches
/// `evil.example` and `a.b.evil.example`, not `notevil.example`.
public struct DomainSuffixSet: Sendable {
    public private(set) var names: Set<String> = []
    public init() {}

    public mutating func insert(_ domain: String) { names.insert(domain) }

    /// The listed domain `name` falls under, or nil; one set look-up per label.
    public func match(_ name: String) -> String? {
        var n = Substring(name.lowercased())
        if n.hasSuffix(".") { n = n.dropLast() }
        while true {
            if names.contains(String(n)) { return String(n) }
            guard let dot = n.firstIndex(of: ".") else { return nil }
            n = n[n.index(after: dot)...]
        }
    }
}

/// An error in a threat or trusted list, with the line shown and a caret under the entry.
public struct ThreatListError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    public var text: String
    /// How many characters the caret line marks.
    public var length: Int = 1

    public var description: String {
        let width = max(1, length)
        return "\(file):\(line):\(column): error: \(message)\n  \(text)\n  "
            + String(repeating: " ", count: column - 1) + "^" + String(repeating: "~", count: width - 1)
    }
}

/// A list of IPs, CIDRs and domains: plain text, one entry a line, or CSV (the first
/// column). `#` starts a comment (a whole line or the rest of one); blank lines are
/// skipped; quotes around a CSV field are removed; a CSV header (a first line whose
/// entry is not an address, prefix or domain) is skipped.
public struct IndicatorList: Sendable {
    public static let maxEntries = 250_000

    public private(set) var prefixes = PrefixTrie()
    public private(set) var domains = DomainSuffixSet()
    /// Entries that are addresses or prefixes not publicly routable: kept out of the
    /// list (they could never match) and counted here.
    public private(set) var nonPublic = 0
    public private(set) var entries = 0

    public init() {}

    /// Parses a list. Throws on an entry that is neither an address, a prefix nor a
    /// domain, and when the list holds more than ``maxEntries`` entries.
    public init(text: String, file: String) throws {
        try read(text, file: file)
    }

    /// Adds a list's entries to this one (several files make one list); the limit of
    /// ``maxEntries`` holds for them all together.
    public mutating func read(_ text: String, file: String) throws {
        let before = entries
        var lineNo = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNo += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let display = String(line)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            if let comma = line.firstIndex(of: ",") { line = line[..<comma] }
            let lead = line.prefix { $0 == " " || $0 == "\t" }.count
            var entry = line.trimmingSpaces()
            if entry.count >= 2, entry.first == "\"", entry.last == "\"" { entry = String(entry.dropFirst().dropLast()) }
            if entry.isEmpty { continue }
            do {
                try add(entry)
            } catch let message as Message {
                if entries == before && lineNo == firstContentLine(text) && rawLine.contains(",") { continue } // CSV header
                throw ThreatListError(file: file, line: lineNo, column: lead + 1, message: message.text, text: display,
                                      length: entry.count)
            }
            if entries > IndicatorList.maxEntries {
                throw ThreatListError(file: file, line: lineNo, column: lead + 1,
                                      message: "more than \(IndicatorList.maxEntries) entries", text: display,
                                      length: entry.count)
            }
        }
    }

    private func firstContentLine(_ text: String) -> Int {
        var n = 0
        for l in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            n += 1
            let t = (l.firstIndex(of: "#").map { l[..<$0] } ?? l).trimmingSpaces()
            if !t.isEmpty { return n }
        }
        return n
    }

    struct Message: Error { var text: String }

    /// Adds one entry: an address, a prefix (`a.b.c.d/n`, `x::/n`) or a domain.
    mutating func add(_ entry: String) throws {
        let u = entry.utf8
        // Addresses and prefixes: IPv6 holds a colon, IPv4 is digits, dots and a slash.
        if u.contains(UInt8(ascii: ":")) || u.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 47 }) {
            guard let c = CIDR(entry) else { throw Message(text: "'\(entry)' is not an IP address or CIDR prefix") }
            entries += 1
            if !ThreatIntel.isPublicPrefix(c) { nonPublic += 1; return }
            prefixes.insert(c)
            return
        }
        var d = entry.lowercased()
        if d.hasPrefix("*.") { d = String(d.dropFirst(2)) }
        if d.hasSuffix(".") { d = String(d.dropLast()) }
        // Labels of letters, digits, '-' and '_', 1 to 63 bytes, at least two, the last not all digits.
        var labels = 0, len = 0, allDigits = true, ok = true
        for b in d.utf8 {
            if b == 46 {
                if len == 0 || len > 63 { ok = false; break }
                labels += 1; len = 0; allDigits = true
            } else if (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 45 || b == 95 {
                len += 1
                if b < 48 || b > 57 { allDigits = false }
            } else { ok = false; break }
        }
        ok = ok && len > 0 && len <= 63 && labels >= 1 && !allDigits
        guard ok else { throw Message(text: "'\(entry)' is not an IP address, CIDR prefix or domain") }
        entries += 1
        domains.insert(d)
    }

    public func contains(_ ip: IPAddress) -> Bool { prefixes.contains(ip) }
    public func match(domain: String) -> String? { domains.match(domain) }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// Threat intelligence: a threat list and a trusted list. Only publicly routable
/// addresses match; a trusted address or domain never does.
public struct ThreatIntel: Sendable {
    public var threats: IndicatorList
    public var trusted: IndicatorList

    public init(threats: IndicatorList, trusted: IndicatorList = IndicatorList()) {
        self.threats = threats; self.trusted = trusted
    }

    public func isThreat(_ ip: IPAddress) -> Bool {
        ThreatIntel.isPublic(ip) && threats.contains(ip) && !trusted.contains(ip)
    }

    /// The listed domain a query name falls under, unless a trusted domain covers it.
    public func threatDomain(_ name: String) -> String? {
        guard trusted.match(domain: name) == nil else { return nil }
        return threats.match(domain: name)
    }

    /// Address blocks that are not publicly routable (RFC 6890 special-purpose and
    /// RFC 5737/3849/9637 documentation ranges).
    public static let nonPublicV4: [CIDR] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    ].map { CIDR($0)! }
    public static let nonPublicV6: [CIDR] = [
        "2001::/23", "2001:db8::/32", "3fff::/20", "64:ff9b:1::/48",
    ].map { CIDR($0)! }
    static let globalUnicastV6 = CIDR("2000::/3")!

    /// True for an address routable on the Internet: IPv4 outside the private,
    /// loopback, link-local, CGNAT, multicast, reserved and documentation blocks; IPv6
    /// in global unicast `2000::/3` outside the documentation and protocol blocks (so
    /// not loopback, link-local `fe80::/10`, ULA `fc00::/7` or multicast `ff00::/8`).
    public static func isPublic(_ ip: IPAddress) -> Bool {
        if ip.isV4 { return !nonPublicV4.contains { $0.contains(ip) } }
        return globalUnicastV6.contains(ip) && !nonPublicV6.contains { $0.contains(ip) }
    }

    /// True when a prefix holds at least one public address: it lies neither wholly
    /// inside a non-public block nor (IPv6) wholly outside global unicast.
    static func isPublicPrefix(_ c: CIDR) -> Bool {
        func inside(_ block: CIDR) -> Bool { block.bits <= c.bits && block.contains(c.network) }
        if c.isV4 { return !nonPublicV4.contains(where: inside) }
        if c.bits >= 3 && !globalUnicastV6.contains(c.network) { return false }
        return !nonPublicV6.contains(where: inside)
    }
}

/// Recon:IAMUser/MaliciousIPCaller.Custom: a CloudTrail call from an address on the
/// threat list. Key: account + principal + address. Severity 5.0 (GuardDuty: Medium).
public struct MaliciousIPCallerCloudTrailRule: EventRule {
    public let id = "cloudtrail.malicious-ip-caller"
    public let sources: Set<Source> = [.cloudtrail]
    public let intel: ThreatIntel
    static let type = Types.t("Recon:IAMUser/MaliciousIPCaller.Custom")
    public init(intel: ThreatIntel) { self.intel = intel }

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard e.source == .cloudtrail, let ip = e.srcIP, intel.isThreat(ip) else { return [] }
        return [FindingDraft(
            type: Self.type, severity: 5.0,
            title: "\(e.action ?? "An API") was called from listed address \(ip)",
            description: "\(shortName(e.principal)) called \(e.action ?? "an API") from \(ip), on the threat list.",
            detector: id, aggregationKey: [e.principal ?? "unknown", ip.description], event: e)]
    }
}

/// UnauthorizedAccess:EC2/MaliciousIPCaller.Custom: VPC flow traffic to or from an
/// address on the threat list (the listed side is the remote one). Key: account +
/// interface + remote address. Severity 5.0 (GuardDuty: Medium).
public struct MaliciousIPCallerFlowRule: EventRule {
    public let id = "vpcflow.malicious-ip-caller"
    public let sources: Set<Source> = [.vpcflow]
    public let intel: ThreatIntel
    static let type = Types.t("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom")
    public init(intel: ThreatIntel) { self.intel = intel }

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard e.source == .vpcflow else { return [] }
        let remote: IPAddress, inbound: Bool
        if let s = e.srcIP, intel.isThreat(s) { remote = s; inbound = true }
        else if let d = e.dstIP, intel.isThreat(d) { remote = d; inbound = false }
        else { return [] }
        let resource = e.resource ?? "unknown"
        return [FindingDraft(
            type: Self.type, severity: 5.0,
            title: "\(resource) \(inbound ? "received traffic from" : "sent traffic to") listed address \(remote)",
            description: "\(e.action ?? "Flow") \(inbound ? "from" : "to") \(remote), on the threat list.",
            detector: id, aggregationKey: [resource, remote.description], event: e, srcIP: remote)]
    }
}

/// Impact:EC2/MaliciousDomainRequest.Custom: a Route 53 query for a name under a listed
/// domain. Key: account + client (instance, else address) + listed domain. Severity 5.0.
public struct MaliciousDomainRequestRule: EventRule {
    public let id = "route53.malicious-domain"
    public let sources: Set<Source> = [.route53]
    public let intel: ThreatIntel
    static let type = Types.t("Impact:EC2/MaliciousDomainRequest.Custom")
    public init(intel: ThreatIntel) { self.intel = intel }

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard e.source == .route53, let name = e.queryName, let listed = intel.threatDomain(name) else { return [] }
        let client = e.resource ?? e.srcIP?.description ?? "unknown"
        return [FindingDraft(
            type: Self.type, severity: 5.0,
            title: "\(client) queried \(name), under listed domain \(listed)",
            description: "DNS query for \(name); \(listed) is on the threat list.",
            detector: id, aggregationKey: [client, listed], event: e)]
    }
}

/// The built-in detectors, in the order docs/detection.md lists them; the threat-list
/// detectors only when threat intelligence is given. Password-policy change and the
/// PenTest user agents are rule files (SecRules' BuiltInRules), which the CLI adds.
public enum BuiltInDetectors {
    public static func all(intel: ThreatIntel? = nil) -> [any Detector] {
        var out: [any Detector] = [
            RootCredentialUsageRule(), CloudTrailLoggingDisabledRule(),
            ConsoleLoginSuccessBDetector(), PrivilegedConsoleLoginWithoutMFARule(), ConsoleLoginBruteForceDetector(),
            S3PolicyRules(), SecurityGroupOpenRule(), AccessKeyForOtherUserRule(), AdminPolicyAttachedRule(),
            PortscanDetector(), PortProbeDetector(), RemoteBruteForceDetector(), PortSweepDetector(),
            DNSExfiltrationDetector(), RDSBruteForceDetector(),
        ]
        out += [DGADomainRequestDetector(), MetadataDNSRebindRule(), RDSFailedLoginDetector(), TrailBucketDeletionDetector()]
        out += [LoginProfileForOtherUserRule(), RoleTrustExternalRule(), FederationTokenAdminRule()]
        out += BehaviouralDetectors.all()
        if let intel {
            out += [MaliciousIPCallerCloudTrailRule(intel: intel), MaliciousIPCallerFlowRule(intel: intel),
                    MaliciousDomainRequestRule(intel: intel)]
            out += [S3MaliciousIPCallerRule(intel: intel)]
        }
        return out
    }
}
