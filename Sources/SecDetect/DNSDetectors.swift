import Foundation
import SecModel

/// The domain-generation-algorithm score of a domain name: how machine-made its
/// registrable label (the label left of the base domain's suffix: `kqvlbslthnvd` in
/// `www.kqvlbslthnvd.net`) looks. Points, summed:
///
/// | feature | points |
/// |---|---|
/// | 12 or more characters | 1 |
/// | Shannon entropy at least 3.0 bits per character | 1 |
/// | a run of 4 or more consonants (`y` counts as a vowel) | 1 |
/// | vowels under 20% of the letters | 1 |
/// | at least 2 digits and a digit followed later by a letter (`a3f9k2`, not `web01`) | 1 |
/// | at least 3 switches between digits and letters | 1 |
/// | letter pairs outside ``commonBigrams`` (the 130 most frequent English bigrams): at least half | 2 |
/// | the same, at least 70% | 1 |
/// | a hyphen | -1 |
///
/// A label under 7 characters, one starting `xn--` (an internationalised name) and any
/// name under ``serviceSuffixes`` scores nil (not judged). ``threshold`` (5) and above
/// is DGA-looking: generated names (Conficker's `qwlmhqdk`, CryptoLocker's
/// `kqvlbslthnvd`, Ramnit's `bdelmjakrusjhm`) score 5 to 8; real names that reach 4
/// (`tiktokcdn`, `wellsfargo`, `splunkcloud`) stay under it, and the detector also needs
/// several of them, unanswered, from one instance.
public enum DGAScore {
    public static let threshold = 5

    /// Suffixes of names never judged: AWS service and internal names, reverse look-ups,
    /// local and search-domain names (an `ec2.internal` suffix added by the resolver).
    public static let serviceSuffixes: DomainSuffixSet = {
        var s = DomainSuffixSet()
        for d in ["amazonaws.com", "amazonaws.com.cn", "amazonaws.org", "aws", "aws.dev", "awsdns.com", "cloudfront.net",
                  "in-addr.arpa", "ip6.arpa", "arpa", "local", "localdomain", "internal", "intranet", "lan", "home", "corp",
                  "akamaiedge.net", "akamai.net", "akadns.net", "edgekey.net", "edgesuite.net", "azureedge.net",
                  "trafficmanager.net", "windows.net", "googleusercontent.com", "1e100.net"] { s.insert(d) }
        return s
    }()

    /// The 130 most frequent letter pairs of English text.
    public static let commonBigrams: Set<String> = Set("""
    th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve co me de hi ri ro ic \
    ne ea ra ce li ch ll be ma si om ur ca el ta la ns di fo ho pe ec pr no ct us ac ot il tr ly nc et ut ss so rs un \
    lo wa ge ie wh ee wi em ad ol rt po we na ul ni ts mo ow pa im mi ai sh ir su id os iv ia am fi ci vi pl ig tu ev \
    ld ry mp fe bl ab gh ty op wo sa ay ex ke fr oo av ag if ap gr od bo sp rd do uc bu ei ov
    """.split(separator: " ").map { String($0) })

    static let vowels: Set<Character> = ["a", "e", "i", "o", "u", "y"]

    /// The registrable label of a name, or nil when the name is not judged.
    public static func label(_ name: String) -> Substring? {
        let labels = name.lowercased().split(separator: ".")
        guard labels.count >= 2, serviceSuffixes.match(name) == nil else { return nil }
        let l = labels[labels.count - DomainName.baseLabelCount(labels)]
        guard l.count >= 7, !l.hasPrefix("xn--"),
              l.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return nil }
        return l
    }

    /// The score of a name's registrable label, or nil when it is not judged.
    public static func score(_ name: String) -> Int? {
        guard let l = label(name) else { return nil }
        let chars = Array(l)
        let letters = chars.filter(\.isLetter)
        let digits = chars.count - letters.count - chars.filter { $0 == "-" }.count
        var s = 0
        if chars.count >= 12 { s += 1 }
        if DNSExfiltration.entropy(l) >= 3.0 { s += 1 }
        var run = 0, longest = 0
        for c in chars {
            if c.isLetter && !vowels.contains(c) { run += 1; longest = max(longest, run) } else { run = 0 }
        }
        if longest >= 4 { s += 1 }
        if !letters.isEmpty && Double(letters.filter(vowels.contains).count) < 0.2 * Double(letters.count) { s += 1 }
        var switches = 0, digitThenLetter = false, seenDigit = false
        for i in chars.indices {
            if chars[i].isNumber { seenDigit = true } else if chars[i].isLetter && seenDigit { digitThenLetter = true }
            if i > 0 && chars[i - 1].isNumber != chars[i].isNumber && chars[i - 1] != "-" && chars[i] != "-" { switches += 1 }
        }
        if digits >= 2 && digitThenLetter && letters.count >= 2 { s += 1 }
        if switches >= 3 { s += 1 }
        var pairs = 0, rare = 0
        for i in chars.indices.dropFirst() where chars[i - 1].isLetter && chars[i].isLetter {
            pairs += 1
            if !commonBigrams.contains(String([chars[i - 1], chars[i]])) { rare += 1 }
        }
        if pairs > 0 && 2 * rare >= pairs { s += 2 }
        if pairs > 0 && 10 * rare >= 7 * pairs { s += 1 }
        if l.contains("-") { s -= 1 }
        return s
    }

    public static func looksGenerated(_ name: String) -> Bool { (score(name) ?? 0) >= threshold }
}

/// Trojan:EC2/DGADomainRequest.B: at least 5 distinct DGA-looking base domains
/// (``DGAScore``) answered `NXDOMAIN` to one client within 10 minutes (malware trying
/// generated names until one resolves). Key: account + client (instance, else
/// address). Severity 8.0 (GuardDuty: High).
public typealias DGADomainRequestDetector = WindowCountDetector<DGADomainRequest>

public struct DGADomainRequest: WindowCountRule {
    public static let id = "route53.dga-domain-request"
    public static let sources: Set<Source> = [.route53]
    public static let defaultSettings = WindowSettings(window: Span(millis: 600_000), threshold: 5)
    static let type = Types.t("Trojan:EC2/DGADomainRequest.B")
    public init() {}

    public func step(_ e: Event) -> WindowStep? {
        guard e.errorCode == "NXDOMAIN", let name = e.queryName, DGAScore.looksGenerated(name) else { return nil }
        return .add(key: e.account + "|" + dnsClient(e), value: DomainName.base(name))
    }

    public func draft(_ e: Event, _ l: [WindowEntry], settings: WindowSettings) -> FindingDraft {
        let client = dnsClient(e)
        let sample = l.suffix(3).map(\.v).joined(separator: ", ")
        return FindingDraft(
            type: Self.type, severity: 8.0,
            title: "\(client) queried \(l.count) generated-looking domains",
            description: "\(l.count) distinct DGA-looking domains without an answer (NXDOMAIN) within \(Span(millis: settings.window)), such as \(sample).",
            detector: Self.id, aggregationKey: [client], event: e, evidence: l.map(\.ref))
    }
}

/// UnauthorizedAccess:EC2/MetadataDNSRebind: a query from an instance answered with the
/// instance metadata service's address (`169.254.169.254` or `fd00:ec2::254`) for a
/// name that is not the service's own (`instance-data`, `instance-data.ec2.internal`,
/// `instance-data.<region>.compute.internal`): a name an attacker can point at the
/// metadata service to reach it through the instance. Key: account + client (instance,
/// else address) + base domain of the name. Severity 8.0 (GuardDuty: High).
public struct MetadataDNSRebindRule: EventRule {
    public let id = "route53.metadata-dns-rebind"
    public let sources: Set<Source> = [.route53]
    static let type = Types.t("UnauthorizedAccess:EC2/MetadataDNSRebind")
    static let metadata = [IPAddress("169.254.169.254")!, IPAddress("fd00:ec2::254")!]
    public init() {}

    /// The metadata service's own names.
    public static func isServiceName(_ name: String) -> Bool {
        name == "instance-data" || (name.hasPrefix("instance-data.") && name.hasSuffix(".internal"))
    }

    public func evaluate(_ e: Event) -> [FindingDraft] {
        guard e.source == .route53, let name = e.queryName, !Self.isServiceName(name),
              Self.mentionsMetadata(e.raw),
              let answers = Raw(e).json("answers") as? [[String: Any]] else { return [] }
        guard let hit = answers.lazy.compactMap({ ($0["Rdata"] as? String).flatMap(IPAddress.init) })
            .first(where: Self.metadata.contains) else { return [] }
        let client = dnsClient(e)
        return [FindingDraft(
            type: Self.type, severity: 8.0,
            title: "\(name) resolved to the instance metadata service for \(client)",
            description: "The answer to \(client)'s query for \(name) is \(hit), the instance metadata service's address.",
            detector: id, aggregationKey: [client, DomainName.base(name)], event: e)]
    }

    /// A cheap look at the record's bytes before parsing its answers: `169.254.169.254`
    /// or `fd00:ec2` (any case).
    static func mentionsMetadata(_ raw: [UInt8]) -> Bool {
        contains(raw, Array("169.254.169.254".utf8), caseless: false) || contains(raw, Array("fd00:ec2".utf8), caseless: true)
    }

    static func contains(_ hay: [UInt8], _ needle: [UInt8], caseless: Bool) -> Bool {
        guard hay.count >= needle.count, let first = needle.first else { return false }
        func lower(_ b: UInt8) -> UInt8 { caseless && b >= 65 && b <= 90 ? b + 32 : b }
        var i = 0
        while i <= hay.count - needle.count {
            if lower(hay[i]) == first {
                var j = 1
                while j < needle.count && lower(hay[i + j]) == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}
