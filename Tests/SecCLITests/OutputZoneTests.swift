import Foundation
@testable import SecCLI
import Testing

/// `--tz`: every time printed in the zone names the same instant as the UTC one, with
/// the zone's offset at that instant (daylight saving included: the generated data
/// starts on 1 November 2026, the day New York leaves summer time).
@Suite struct OutputZoneTests {
    @Test func timesInAZoneAreTheSameInstants() throws {
        let store = IngestedStore.shared.dir
        let q = "events | sort time | fields time | head 400"
        let utc = try secq(["query", "--store", store, "--format", "json", q])
        let local = try secq(["query", "--store", store, "--format", "json", "--tz", "America/New_York", q])
        #expect(utc.status == 0 && local.status == 0, "\(local.err)")
        func times(_ out: String) throws -> [String] {
            try out.split(separator: "\n").map { try #require((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["time"] as? String) }
        }
        let a = try times(utc.out), b = try times(local.out)
        #expect(a.count == 400 && b.count == 400)
        let fractions = ISO8601DateFormatter()
        fractions.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let seconds = ISO8601DateFormatter()
        let zone = try #require(TimeZone(identifier: "America/New_York"))
        var offsets = Set<Int>()
        for (u, l) in zip(a, b) {
            let du = try #require(fractions.date(from: u) ?? seconds.date(from: u))
            let dl = try #require(fractions.date(from: l) ?? seconds.date(from: l))
            #expect(du == dl, "\(u) vs \(l)")
            let offset = zone.secondsFromGMT(for: du)
            offsets.insert(offset)
            let a = abs(offset) / 60
            #expect(l.hasSuffix((offset < 0 ? "-" : "+") + String(format: "%02d:%02d", a / 60, a % 60)), "\(l)")
        }
        #expect(offsets.count >= 1)
        #expect(OutputZone("+05:30") != nil && OutputZone("-0800") != nil && OutputZone("Europe/Paris") != nil)
        #expect(OutputZone("Mars/Base") == nil && OutputZone("+25:00") == nil && OutputZone("5") == nil)
    }
}
