import SecModel

/// Severity labels of GuardDuty findings. GuardDuty's documented bands ("Severity
/// levels of GuardDuty findings", docs.aws.amazon.com/guardduty/latest/ug/
/// guardduty_findings-severity.html): Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9,
/// Critical 9.0-10.0 (Critical was reserved until attack-sequence findings used it).
public enum SeverityLabel: String, Sendable, Codable, CaseIterable, Comparable {
    case low, medium, high, critical

    /// The band of a severity value; values are clamped to 1.0...10.0 first.
    public init(severity: Double) {
        let s = Finding.clampSeverity(severity)
        switch s {
        case ..<4.0: self = .low
        case ..<7.0: self = .medium
        case ..<9.0: self = .high
        default: self = .critical
        }
    }

    /// The lowest severity value of the band (`--severity high` means `>= 7.0`).
    public var minimum: Double {
        switch self {
        case .low: return 1.0
        case .medium: return 4.0
        case .high: return 7.0
        case .critical: return 9.0
        }
    }

    public static func < (a: SeverityLabel, b: SeverityLabel) -> Bool { a.minimum < b.minimum }
}

/// A GuardDuty finding type, `ThreatPurpose:ResourceType/ThreatFamily.Variant`
/// (`Recon:EC2/Portscan`, `UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B`).
public struct FindingType: Sendable, Hashable, Codable, CustomStringConvertible {
    public var threatPurpose: String
    public var resourceType: String
    public var threatFamily: String
    /// What follows the first `.` of the family (`B`, `Custom`,
    /// `AnomalousBehavior.SuccessfulBruteForce` keeps `SuccessfulBruteForce`), or nil.
    public var variant: String?

    /// Parses the GuardDuty form. Nil unless there is a purpose, a `:`, a resource type,
    /// a `/` and a family, each non-empty and free of spaces.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"),
              let slash = text[colon...].firstIndex(of: "/") else { return nil }
        let purpose = String(text[..<colon])
        let resource = String(text[text.index(after: colon)..<slash])
        let rest = String(text[text.index(after: slash)...])
        guard !purpose.isEmpty, !resource.isEmpty, !rest.isEmpty,
              !text.contains(" "), !rest.contains(":"), !rest.contains("/") else { return nil }
        threatPurpose = purpose
        resourceType = resource
        if let dot = rest.lastIndex(of: "."), dot != rest.startIndex, rest.index(after: dot) != rest.endIndex {
            threatFamily = String(rest[..<dot])
            variant = String(rest[rest.index(after: dot)...])
        } else {
            threatFamily = rest
            variant = nil
        }
    }

    public var description: String {
        "\(threatPurpose):\(resourceType)/\(threatFamily)" + (variant.map { "." + $0 } ?? "")
    }
}

/// One event a finding rests on.
public struct EvidenceRef: Sendable, Hashable, Codable {
    public var seq: UInt64
    public var eventID: String?
    public var time: Int64

    public init(seq: UInt64, eventID: String?, time: Int64) {
        self.seq = seq; self.eventID = eventID; self.time = time
    }

    public init(_ e: Event) { self.init(seq: e.seq, eventID: e.eventID, time: e.time) }
}

/// What a detector emits for one occurrence of suspicious activity. The engine folds a
/// draft into the finding of the same type and aggregation key with ``Finding/merge(_:_:)``.
public struct FindingDraft: Sendable, Equatable {
    public var type: FindingType
    public var severity: Double
    public var title: String
    public var description: String
    public var detector: String
    /// The parts that identify "the same activity" for this type (documented per type
    /// in docs/detection.md); with type, bank and account they make the finding's id.
    public var aggregationKey: [String]
    public var bank: String
    public var account: String
    public var region: String?
    public var resource: String?
    public var principal: String?
    public var srcIP: IPAddress?
    /// Event time of the first and last evidence.
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var evidence: [EvidenceRef]
    /// Why the activity is unusual, for findings of the baselines (`api`, `network`,
    /// `user_agent`, `region`, `rate`, `objects`, `bytes`, `port`...); empty otherwise.
    public var reasons: [String] = []

    /// A draft from the event that completes the activity; `evidence` defaults to that
    /// event alone, and bank, account and region to the event's.
    public init(type: FindingType, severity: Double, title: String, description: String, detector: String,
                aggregationKey: [String], event e: Event, evidence: [EvidenceRef]? = nil,
                resource: String? = nil, principal: String? = nil, srcIP: IPAddress? = nil) {
        self.type = type
        self.severity = Finding.clampSeverity(severity)
        self.title = title
        self.description = description
        self.detector = detector
        self.aggregationKey = aggregationKey
        bank = e.bank
        account = e.account
        region = e.region
        self.resource = resource ?? e.resource
        self.principal = principal ?? e.principal
        self.srcIP = srcIP ?? e.srcIP
        let ev = Finding.bound(evidence ?? [EvidenceRef(e)])
        self.evidence = ev
        firstSeen = ev.map(\.time).min() ?? e.time
        lastSeen = max(ev.map(\.time).max() ?? e.time, e.time)
    }

    /// The id of the finding this draft belongs to.
    public var findingID: String { Finding.id(type: type, bank: bank, account: account, key: aggregationKey) }
}

public enum FindingStatus: String, Sendable, Codable {
    case active, archived
}

/// A finding: one per type and aggregation key in a bank and account; repeats update it.
public struct Finding: Sendable, Equatable, Codable {
    public var id: String
    public var type: FindingType
    public var severity: Double
    public var title: String
    public var description: String
    public var detector: String
    public var aggregationKey: [String]
    public var bank: String
    public var account: String
    public var region: String?
    public var resource: String?
    public var principal: String?
    public var srcIP: String?
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// How many drafts (occurrences) were folded into the finding.
    public var count: Int
    /// At most ``evidenceLimit`` events: the earliest few and the latest.
    public var evidence: [EvidenceRef]
    public var status: FindingStatus
    /// The suppression rule that archived the finding when it was created, if one did.
    public var suppressedBy: String? = nil
    /// The union of the drafts' ``FindingDraft/reasons``, sorted; nil (absent from the
    /// stored JSON) when none gave any.
    public var reasons: [String]? = nil

    public var label: SeverityLabel { SeverityLabel(severity: severity) }

    /// The most evidence a finding or draft keeps.
    public static let evidenceLimit = 20
    /// Of the kept evidence, how many are the earliest events (the rest are the latest).
    public static let evidenceHead = 5

    public static func clampSeverity(_ s: Double) -> Double {
        s.isNaN ? 1.0 : min(10.0, max(1.0, s))
    }

    /// Keeps the earliest ``evidenceHead`` and the latest references, at most
    /// ``evidenceLimit`` in all, without repeats, in sequence order.
    public static func bound(_ refs: [EvidenceRef]) -> [EvidenceRef] {
        var seen = Set<UInt64>()
        var uniq: [EvidenceRef] = []
        for r in refs.sorted(by: { ($0.seq, $0.time) < ($1.seq, $1.time) }) where seen.insert(r.seq).inserted {
            uniq.append(r)
        }
        guard uniq.count > evidenceLimit else { return uniq }
        return Array(uniq.prefix(evidenceHead)) + Array(uniq.suffix(evidenceLimit - evidenceHead))
    }

    /// A stable id: 32 hex digits of two FNV-1a 64 hashes over type, bank, account and
    /// the key parts (each part length-prefixed, so `["a,b"]` and `["a","b"]` differ).
    public static func id(type: FindingType, bank: String, account: String, key: [String]) -> String {
        var h1: UInt64 = 0xcbf2_9ce4_8422_2325
        var h2: UInt64 = 0x6c62_272e_07bb_0142
        func feed(_ s: String) {
            let bytes = Array(s.utf8)
            for b in withUnsafeBytes(of: UInt32(bytes.count).littleEndian, Array.init) + bytes {
                h1 = (h1 ^ UInt64(b)) &* 0x0000_0100_0000_01b3
                h2 = (h2 ^ UInt64(b)) &* 0x0000_0100_0000_01b3
                h2 = h2 ^ (h2 >> 29)
            }
        }
        feed(type.description); feed(bank); feed(account)
        for k in key { feed(k) }
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(h1) + hex(h2)
    }

    /// Folds a draft into the finding it belongs to, or starts one when `existing` is nil.
    ///
    /// Pure. The count grows by one, first and last seen widen, severity keeps the
    /// highest seen, evidence is merged and bounded, title and description follow the
    /// latest draft, and the status (active or archived) is kept. A draft of another
    /// finding (different id) is a programming error.
    public static func merge(_ existing: Finding?, _ d: FindingDraft) -> Finding {
        let id = d.findingID
        guard var f = existing else {
            return Finding(id: id, type: d.type, severity: d.severity, title: d.title, description: d.description,
                           detector: d.detector, aggregationKey: d.aggregationKey, bank: d.bank, account: d.account,
                           region: d.region, resource: d.resource, principal: d.principal,
                           srcIP: d.srcIP?.description, firstSeen: d.firstSeen, lastSeen: d.lastSeen, count: 1,
                           evidence: d.evidence, status: .active, reasons: d.reasons.isEmpty ? nil : Array(Set(d.reasons)).sorted())
        }
        precondition(f.id == id, "merging a draft of finding \(id) into finding \(f.id)")
        f.count += 1
        f.firstSeen = min(f.firstSeen, d.firstSeen)
        if d.lastSeen >= f.lastSeen {
            f.title = d.title
            f.description = d.description
            f.region = d.region ?? f.region
            f.resource = d.resource ?? f.resource
            f.principal = d.principal ?? f.principal
            f.srcIP = d.srcIP?.description ?? f.srcIP
        }
        f.lastSeen = max(f.lastSeen, d.lastSeen)
        f.severity = max(f.severity, d.severity)
        f.evidence = bound(f.evidence + d.evidence)
        if !d.reasons.isEmpty { f.reasons = Array(Set((f.reasons ?? []) + d.reasons)).sorted() }
        return f
    }
}
