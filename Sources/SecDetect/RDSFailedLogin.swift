import SecModel

/// CredentialAccess:RDS/AnomalousBehavior.FailedLogin: at least 20 failed database
/// log-ins (`auth_failed`) from one client address to one database within an hour (the
/// window of ``RDSBruteForceDetector``) with no successful connection from that address
/// in between: a connection that did not fail forgets the failures before it. Failures
/// that a success then follows also give SuccessfulBruteForce. Key: account + database
/// + client address, as SuccessfulBruteForce. Severity 2.0 (GuardDuty: Low).
public typealias RDSFailedLoginDetector = WindowCountDetector<RDSFailedLogin>

public struct RDSFailedLogin: WindowCountRule {
    public static let id = "rds.failed-login"
    public static let sources: Set<Source> = [.rds]
    public static let defaultSettings = WindowSettings(window: RDSBruteForceDetector.window, threshold: 20)
    public static let distinct = false
    static let type = Types.t("CredentialAccess:RDS/AnomalousBehavior.FailedLogin")
    public init() {}

    public func step(_ e: Event) -> WindowStep? {
        guard e.eventClass == .authentication, let ip = e.srcIP else { return nil }
        let key = e.account + "|" + (e.resource ?? "") + "|" + ip.description
        switch (e.action, e.outcome) {
        case ("auth_failed", _): return .add(key: key, value: "")
        case ("connect", let o) where o != .failure: return .reset(key: key)
        default: return nil
        }
    }

    public func draft(_ e: Event, _ l: [WindowEntry], settings: WindowSettings) -> FindingDraft {
        let db = e.resource ?? "", ip = e.srcIP!
        return FindingDraft(
            type: Self.type, severity: 2.0,
            title: "\(l.count) failed database log-ins from \(ip)",
            description: "\(l.count) failed log-ins to \(db.isEmpty ? "the database" : db) from \(ip) within \(Span(millis: settings.window)), none succeeding.",
            detector: Self.id, aggregationKey: [db, ip.description], event: e, evidence: l.map(\.ref))
    }
}
