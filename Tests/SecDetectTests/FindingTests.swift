import SecModel
import Testing
@testable import SecDetect

@Suite struct FindingTests {
    @Test func findingTypesParseGuardDutyForm() throws {
        let t = try #require(FindingType("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B"))
        #expect(t.threatPurpose == "UnauthorizedAccess")
        #expect(t.resourceType == "IAMUser")
        #expect(t.threatFamily == "ConsoleLoginSuccess")
        #expect(t.variant == "B")
        #expect(t.description == "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B")
        let rds = try #require(FindingType("CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce"))
        #expect(rds.threatFamily == "AnomalousBehavior" && rds.variant == "SuccessfulBruteForce")
        #expect(FindingType("Recon:EC2/Portscan")?.variant == nil)
        for bad in ["Recon", "Recon:EC2", ":EC2/Portscan", "Recon:/Portscan", "Recon:EC2/", "Recon:EC2/Port scan"] {
            #expect(FindingType(bad) == nil, "\(bad)")
        }
    }

    @Test func severityBandsFollowGuardDuty() {
        let cases: [(Double, SeverityLabel)] = [(1.0, .low), (3.9, .low), (4.0, .medium), (6.9, .medium),
                                                (7.0, .high), (8.9, .high), (9.0, .critical), (10.0, .critical),
                                                (0.2, .low), (42, .critical)]
        for (v, l) in cases { #expect(SeverityLabel(severity: v) == l, "\(v)") }
        #expect(SeverityLabel.medium < .high)
    }

    func draft(_ e: Event, key: [String] = ["root"], severity: Double = 2.0) -> FindingDraft {
        FindingDraft(type: Types.rootCredentialUsage, severity: severity, title: "t\(e.seq)", description: "d",
                     detector: "x", aggregationKey: key, event: e)
    }

    @Test func repeatsUpdateOneFinding() {
        var events: [Event] = []
        for i in 0..<50 {
            var e = ct("ListUsers", identity: rootIdentity, seconds: (i * 7919) % 500) // times out of order
            e.seq = UInt64(i + 1)
            events.append(e)
        }
        var f: Finding? = nil
        for (i, e) in events.enumerated() { f = Finding.merge(f, draft(e, severity: i == 10 ? 6.5 : 2.0)) }
        let out = f!
        // Oracle: a plain loop over the same events.
        #expect(out.count == 50)
        #expect(out.firstSeen == events.map(\.time).min())
        #expect(out.lastSeen == events.map(\.time).max())
        #expect(out.severity == 6.5 && out.label == .medium)
        let seqs = events.map(\.seq).sorted()
        #expect(out.evidence.map(\.seq) == Array(seqs.prefix(5)) + Array(seqs.suffix(15)))
        #expect(out.evidence.allSatisfy { r in events.contains { $0.seq == r.seq && $0.eventID == r.eventID } })
        #expect(out.status == .active)
        #expect(out.id.count == 32)
    }

    @Test func idsDependOnTypeBankAccountAndKey() {
        let e = ct("ListUsers", identity: rootIdentity)
        let a = draft(e).findingID
        #expect(a == draft(e).findingID)
        #expect(a != draft(e, key: ["other"]).findingID)
        #expect(draft(e, key: ["a,b"]).findingID != draft(e, key: ["a", "b"]).findingID)
        var e2 = e; e2.bank = "other"
        #expect(a != draft(e2).findingID)
        var e3 = e; e3.account = "999999999999"
        #expect(a != draft(e3).findingID)
    }

    @Test func mergeKeepsArchivedStatus() {
        var f = Finding.merge(nil, draft(ct("ListUsers", identity: rootIdentity)))
        f.status = .archived
        let g = Finding.merge(f, draft(ct("ListUsers", identity: rootIdentity, seconds: 60)))
        #expect(g.status == .archived && g.count == 2)
    }
}
