import Foundation
import Testing
@testable import SecCLI

@Suite(.serialized) struct RulesCLITests {
    static let threshold = """
    id: custom.console-failures
    finding_type: CredentialAccess:IAMUser/ConsoleFailures.Custom
    severity: 6.0
    title: "{principal} failed to sign in {count} times"
    sources: [cloudtrail]
    threshold:
      where: action == "ConsoleLogin" and outcome == "failure"
      count: 3
      by: [principal]
      window: 10m
    """

    static let sigmaUnsupported = """
    title: Many Listings
    id: 11111111-2222
    logsource:
        product: aws
        service: cloudtrail
    detection:
        selection:
            eventName|startswith: List
        timeframe: 1m
        condition: selection | count() > 50
    level: low
    """

    func folder(_ files: [String: String]) throws -> String {
        let dir = temporaryDirectory("rules")
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func rulesCheckReportsEachFile() throws {
        let bad = Self.threshold.replacingOccurrences(of: "window: 10m", with: "window: soon")
        let dir = try folder(["a-threshold.yml": Self.threshold, "b-bad.yml": bad, "c-sigma.yml": Self.sigmaUnsupported])
        let r = try secq(["rules", "check", dir])
        #expect(r.status == 1)
        #expect(r.out.contains("custom.console-failures") && r.out.contains("threshold CredentialAccess:IAMUser/ConsoleFailures.Custom"))
        #expect(r.out.contains("unsupported") && r.out.contains("timeframe"))
        #expect(r.out.contains("--> \(dir)/b-bad.yml:10:11"), "\(r.out)")
        #expect(r.out.contains("10 |   window: soon\n   |           ^^^^"), "\(r.out)")
        #expect(r.out.contains("3 files: 1 loaded, 1 invalid, 1 unsupported"))

        let j = try secq(["rules", "check", "--format", "json", dir])
        #expect(j.status == 1)
        let rows = try ndjson(j.out)
        #expect(rows.map { $0["status"] as? String } == ["loaded", "invalid", "unsupported"])
        #expect(rows[0]["id"] as? String == "custom.console-failures" && rows[0]["kind"] as? String == "threshold")
        #expect(rows[2]["format"] as? String == "sigma" && rows[2]["message"] as? String == "timeframe")

        // Unsupported Sigma features are reported, not failures.
        let ok = try folder(["a.yml": Self.threshold, "c.yml": Self.sigmaUnsupported])
        #expect(try secq(["rules", "check", ok]).status == 0)
    }

    @Test func detectRunsACustomRule() throws {
        let store = try DetectBaseStore.shared.copy("detect-rules")
        let dir = try folder(["failures.yml": Self.threshold])
        let r = try secq(["detect", "--store", store, "--rules", dir])
        #expect(r.status == 0, "\(r.err)")
        let custom = try findingsJSON(store).filter { $0["detector"] as? String == "custom.console-failures" }
        #expect(!custom.isEmpty)
        let f = try #require(custom.first)
        #expect(f["finding_type"] as? String == "CredentialAccess:IAMUser/ConsoleFailures.Custom")
        #expect((f["title"] as? String)?.contains("failed to sign in 3 times") == true, "\(f)")
        // The built-in rule files ran too (the generated data has a Kali user agent).
        #expect(try findingsJSON(store).contains { $0["detector"] as? String == "cloudtrail.pentest-kali" })

        // An invalid rule file stops detection with the error and its place.
        let bad = try folder(["bad.yml": Self.threshold.replacingOccurrences(of: "count: 3", with: "count: many")])
        let b = try secq(["detect", "--store", store, "--rules", bad])
        #expect(b.status == 2)
        #expect(b.err.contains("bad.yml:8:10"), "\(b.err)")
    }
}
