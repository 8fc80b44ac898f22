import Testing
import SecModel
@testable import SecQuery

/// `EventFilter` decides `action == "X"` / `action in (...)` conjuncts by a set lookup
/// before the whole expression; both ways must agree with the expression itself.
@Suite struct EventFilterTests {
    func event(_ action: String?, ua: String?) -> Event {
        var e = Event(time: 1_700_000_000_000, account: "111122223333", source: .cloudtrail, eventClass: .apiActivity, raw: [])
        e.action = action
        e.userAgent = ua
        return e
    }

    @Test func actionConjunctsAgreeWithTheExpression() throws {
        let cases: [(String, Set<String>?)] = [
            (#"action == "GetPasswordData" and user_agent contains "kali""#, ["GetPasswordData"]),
            (#"action in ("A", "B") and action == "B""#, ["B"]),
            (#"action == "A" or user_agent contains "kali""#, nil),         // a disjunction: no shortcut
            (#"action != "A""#, nil),
            (#"user_agent contains "kali""#, nil),
        ]
        let events = [event("GetPasswordData", ua: "Kali"), event("GetPasswordData", ua: "aws-cli"), event("A", ua: "kali"),
                      event("B", ua: "x"), event(nil, ua: "kali"), event("getpassworddata", ua: "kali")]
        for (text, required) in cases {
            let f = try EventFilter(text, now: 0)
            #expect(f.actions == required, "\(text)")
            // The same expression without the shortcut: evaluated on its own.
            for e in events {
                let whole = Eval.truth(Eval.evaluate(f.predicate, EventValues(event: e)))
                #expect(f.matches(e) == whole, "\(text) on \(e.action ?? "nil")")
            }
        }
        let f = try EventFilter(#"action == "GetPasswordData" and user_agent contains "kali""#, now: 0)
        #expect(events.map(f.matches) == [true, false, false, false, false, false])
    }

    /// `contains` searches bytes for ASCII text and agrees with Swift's `contains` (after
    /// lower-casing both, as the operator ignores case) on every pair here, non-ASCII
    /// and decomposed text included.
    @Test func containsAgreesWithSwift() {
        let texts = ["Mozilla/5.0 (Kali Linux)", "kali", "", "café", "cafe\u{301}", "e\u{301}", "naïve ☕ tea", "ABCabc", "aaaab"]
        let needles = ["kali", "", "e", "é", "cafe", "café", "☕", "abc", "aab", "b"]
        for t in texts {
            for n in needles {
                #expect(Eval.bytesContain(t.lowercased(), n) == (n.isEmpty || t.lowercased().contains(n)), "\(t) contains \(n)")
            }
        }
    }
}
