import Foundation
import SecModel

/// How long each bank keeps each source, and the legal holds that stop deletion.
///
/// Read from `STORE/retention.json` (or a file named on the command line):
///
/// ```json
/// {"default": {"cloudtrail": "400d", "vpcflow": "90d", "finding": "7y", "*": "365d"},
///  "banks": {"acme-bank": {"vpcflow": "30d",
///                          "ous": {"payments": {"cloudtrail": "5y"}},
///                          "accounts": {"111122223333": {"cloudtrail": "7y"}}}},
///  "legal_holds": [{"bank": "acme-bank", "account": "111122223333",
///                   "from": "2026-01-01T00:00:00Z", "to": "2026-12-31T00:00:00Z", "reason": "case 42"}]}
/// ```
///
/// The period of an event is looked up from the most specific scope to the least: its
/// account's entry, its account's OU's (as the org registry has it), its bank's, then
/// `default`; within a scope the source's own key comes before `*`. No entry at all, or `"forever"`, keeps the event forever.
public struct RetentionPolicy: Sendable, Equatable {
    /// Periods by source name (or `*`), in milliseconds; `forever` for none.
    public typealias Periods = [String: Int64]
    public static let forever: Int64 = -1

    public var defaults: Periods = [:]
    public var banks: [String: BankRule] = [:]
    public var legalHolds: [LegalHold] = []
    /// Each account's OU, from the org registry (for the `ous` scopes).
    public var accountOUs: [String: String] = [:]

    public struct BankRule: Sendable, Equatable {
        public var periods: Periods = [:]
        public var ous: [String: Periods] = [:]
        public var accounts: [String: Periods] = [:]
    }

    /// Events of `bank` (and `account` when set) with a time in `[from, to]` (either
    /// end open when nil) are never deleted.
    public struct LegalHold: Sendable, Equatable {
        public var bank: String
        public var account: String?
        public var from: Int64?
        public var to: Int64?
        public var reason: String

        public func covers(bank b: String, account a: String, time t: Int64) -> Bool {
            b == bank && (account == nil || account == a) && (from.map { t >= $0 } ?? true) && (to.map { t <= $0 } ?? true)
        }

        /// Whether the hold may cover any event of the account in `[lo, hi]`.
        public func overlaps(bank b: String, account a: String, lo: Int64, hi: Int64) -> Bool {
            b == bank && (account == nil || account == a) && (from.map { hi >= $0 } ?? true) && (to.map { lo <= $0 } ?? true)
        }
    }

    public init() {}

    /// The period that applies, in milliseconds, with the scope it came from
    /// (`default.cloudtrail`, `banks.acme-bank.*`, ...); nil when kept forever.
    public func period(bank: String, account: String, source: Source) -> (millis: Int64, rule: String)? {
        var scopes: [(String, Periods)] = []
        if let b = banks[bank] {
            if let a = b.accounts[account] { scopes.append(("banks.\(bank).accounts.\(account)", a)) }
            if let ou = accountOUs[account], let o = b.ous[ou] { scopes.append(("banks.\(bank).ous.\(ou)", o)) }
            scopes.append(("banks.\(bank)", b.periods))
        }
        scopes.append(("default", defaults))
        for (name, periods) in scopes {
            for key in [source.rawValue, "*"] {
                if let p = periods[key] {
                    return p == RetentionPolicy.forever ? nil : (p, "\(name).\(key)=\(RetentionPolicy.describe(p))")
                }
            }
        }
        return nil
    }

    /// The holds of a bank.
    public func holds(bank: String) -> [LegalHold] { legalHolds.filter { $0.bank == bank } }

    /// `400d`, `7y` and so on from milliseconds (whole days; years of 365 days).
    public static func describe(_ millis: Int64) -> String {
        let day: Int64 = 86_400_000
        if millis % (365 * day) == 0 { return "\(millis / (365 * day))y" }
        if millis % day == 0 { return "\(millis / day)d" }
        return "\(millis / 3_600_000)h"
    }

    /// A period: a number and a unit, `h` (hours), `d` (days), `w` (weeks), `y` (years
    /// of 365 days), or `forever`.
    public static func parseDuration(_ s: String) -> Int64? {
        if s == "forever" { return forever }
        guard let unit = s.last, let n = Int64(s.dropLast()), n > 0, n < 1_000_000 else { return nil }
        let hour: Int64 = 3_600_000
        switch unit {
        case "h": return n * hour
        case "d": return n * 24 * hour
        case "w": return n * 7 * 24 * hour
        case "y": return n * 365 * 24 * hour
        default: return nil
        }
    }

    /// Reads a policy file.
    ///
    /// - Parameters:
    ///   - file: named in errors.
    ///   - banks: the registered banks; a policy naming another is refused (a typo would
    ///     otherwise apply the default to the bank meant).
    ///   - org: the registry, for the OUs of accounts; an OU no account of the bank is in
    ///     is refused.
    /// - Throws: `StoreError(.invalidPolicy)` naming the file and the key.
    public static func parse(_ data: Data, file: String, banks known: [String]? = nil, org: Org? = nil) throws -> RetentionPolicy {
        func fail(_ key: String, _ what: String) -> StoreError {
            StoreError(.invalidPolicy, "retention policy '\(file)': \(key.isEmpty ? "" : "'\(key)' ")\(what)")
        }
        let top: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw fail("", "is not a JSON object") }
            top = o
        } catch let e as StoreError { throw e } catch {
            throw fail("", "is not valid JSON")
        }
        let sources = Set(Source.allCases.map(\.rawValue)).union(["*"])
        func periods(_ any: Any?, _ path: String, allowAccounts: Bool) throws -> Periods {
            guard let o = any as? [String: Any] else { throw fail(path, "must be an object of source: period") }
            var out: Periods = [:]
            for (k, v) in o {
                if allowAccounts && (k == "accounts" || k == "ous") { continue }
                guard sources.contains(k) else {
                    throw fail("\(path).\(k)", "is not a source (known: \(Source.allCases.map(\.rawValue).joined(separator: ", ")), *)")
                }
                guard let s = v as? String, let p = parseDuration(s) else {
                    throw fail("\(path).\(k)", "must be a period like \"90d\", \"400d\", \"7y\", \"36h\" or \"forever\"")
                }
                out[k] = p
            }
            return out
        }
        var policy = RetentionPolicy()
        for b in org?.banks ?? [] { for a in b.accounts { policy.accountOUs[a.id] = a.ou } }
        for k in top.keys where !["default", "banks", "legal_holds", "$schema", "description"].contains(k) {
            throw fail(k, "is not a key of a retention policy (default, banks, legal_holds)")
        }
        if let d = top["default"] { policy.defaults = try periods(d, "default", allowAccounts: false) }
        if let b = top["banks"] {
            guard let banks = b as? [String: Any] else { throw fail("banks", "must be an object keyed by bank id") }
            for (id, v) in banks {
                if let known, !known.contains(id) { throw fail("banks.\(id)", "is not a registered bank") }
                var rule = BankRule(periods: try periods(v, "banks.\(id)", allowAccounts: true))
                if let accounts = (v as? [String: Any])?["accounts"] {
                    guard let a = accounts as? [String: Any] else { throw fail("banks.\(id).accounts", "must be an object keyed by account id") }
                    for (acct, p) in a {
                        guard Org.isAccountID(acct) else { throw fail("banks.\(id).accounts.\(acct)", "is not a 12-digit account id") }
                        rule.accounts[acct] = try periods(p, "banks.\(id).accounts.\(acct)", allowAccounts: false)
                    }
                }
                if let ous = (v as? [String: Any])?["ous"] {
                    guard let o = ous as? [String: Any] else { throw fail("banks.\(id).ous", "must be an object keyed by OU") }
                    guard org != nil else { throw fail("banks.\(id).ous", "needs the org registry to know each account's OU") }
                    let known = Set(org?.banks.first { $0.id == id }?.accounts.map(\.ou) ?? [])
                    for (ou, p) in o {
                        if org != nil && !known.contains(ou) {
                            throw fail("banks.\(id).ous.\(ou)", "is not the OU of any account of the bank (known: \(known.sorted().joined(separator: ", ")))")
                        }
                        rule.ous[ou] = try periods(p, "banks.\(id).ous.\(ou)", allowAccounts: false)
                    }
                }
                policy.banks[id] = rule
            }
        }
        if let h = top["legal_holds"] {
            guard let list = h as? [Any] else { throw fail("legal_holds", "must be a list") }
            for (i, item) in list.enumerated() {
                let path = "legal_holds[\(i)]"
                guard let o = item as? [String: Any] else { throw fail(path, "must be an object") }
                for k in o.keys where !["bank", "account", "from", "to", "reason"].contains(k) {
                    throw fail("\(path).\(k)", "is not a key of a legal hold (bank, account, from, to, reason)")
                }
                guard let bank = o["bank"] as? String else { throw fail("\(path).bank", "is required (a bank id)") }
                if let known, !known.contains(bank) { throw fail("\(path).bank", "'\(bank)' is not a registered bank") }
                guard let reason = o["reason"] as? String, !reason.isEmpty else {
                    throw fail("\(path).reason", "is required (why the data is held, for the record)")
                }
                var hold = LegalHold(bank: bank, reason: reason)
                if let a = o["account"] {
                    guard let s = a as? String, Org.isAccountID(s) else { throw fail("\(path).account", "must be a 12-digit account id") }
                    hold.account = s
                }
                for key in ["from", "to"] {
                    guard let v = o[key] else { continue }
                    guard let s = v as? String, let t = Timestamp.parse(s) else {
                        throw fail("\(path).\(key)", "must be an RFC 3339 time like \"2026-01-01T00:00:00Z\"")
                    }
                    if key == "from" { hold.from = t } else { hold.to = t }
                }
                if let f = hold.from, let t = hold.to, f > t { throw fail(path, "ends before it starts") }
                policy.legalHolds.append(hold)
            }
        }
        return policy
    }
}
