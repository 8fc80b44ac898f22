import Foundation
import SecModel
import Testing
@testable import SecDetect

@Suite struct ThreatIntelTests {
    @Test func parsesTextAndCSV() throws {
        let text = """
        # threat feed
        44.1.2.3
          81.0.0.0/16   # a whole /16
        2a00:1450::/32
        evil.example
        *.bad.test.
        10.1.2.3
        """
        let l = try IndicatorList(text: text, file: "t.txt")
        #expect(l.entries == 6 && l.nonPublic == 1)
        #expect(l.contains(IPAddress("44.1.2.3")!) && !l.contains(IPAddress("44.1.2.4")!))
        #expect(l.contains(IPAddress("81.0.200.1")!) && !l.contains(IPAddress("81.1.0.1")!))
        #expect(l.contains(IPAddress("2a00:1450:4001::5")!))
        #expect(!l.contains(IPAddress("10.1.2.3")!), "non-public entries are dropped")
        #expect(l.match(domain: "a.b.evil.example") == "evil.example")
        #expect(l.match(domain: "EVIL.example.") == "evil.example")
        #expect(l.match(domain: "notevil.example") == nil)
        #expect(l.match(domain: "x.bad.test") == "bad.test")

        let csv = "indicator,type,source\r\n\"44.9.9.9\",ip,feed\r\n45.0.0.0/8,cidr,feed\r\nmalware.example,domain,feed\r\n"
        let c = try IndicatorList(text: csv, file: "t.csv")
        #expect(c.entries == 3)
        #expect(c.contains(IPAddress("44.9.9.9")!) && c.contains(IPAddress("45.200.1.1")!))
        #expect(c.match(domain: "cdn.malware.example") == "malware.example")
    }

    @Test func badEntriesAreReportedWithACaret() {
        do {
            _ = try IndicatorList(text: "44.1.2.3\n  300.1.2.3/8\n", file: "feed.txt")
            Issue.record("expected an error")
        } catch let e as ThreatListError {
            #expect(e.line == 2 && e.column == 3)
            #expect(e.description == "feed.txt:2:3: error: '300.1.2.3/8' is not an IP address or CIDR prefix\n    300.1.2.3/8\n    ^"
                + String(repeating: "~", count: "300.1.2.3/8".count - 1))
        } catch { Issue.record("\(error)") }
        #expect(throws: ThreatListError.self) { try IndicatorList(text: "good.example\nnot a domain\n", file: "f") }
        #expect(throws: ThreatListError.self) { try IndicatorList(text: "1.2.3\n", file: "f") }
        let tooMany = (0...IndicatorList.maxEntries).map { "d\($0).example" }.joined(separator: "\n")
        #expect(throws: ThreatListError.self) { try IndicatorList(text: tooMany, file: "f") }
    }

    @Test func onlyPublicAddressesCount() {
        for a in ["10.0.0.1", "172.16.5.5", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "224.0.0.1",
                  "192.0.2.1", "198.51.100.1", "203.0.113.9", "255.255.255.255", "0.1.2.3", "198.18.0.1",
                  "::1", "fe80::1", "fd00::1", "fc00::1", "ff02::1", "2001:db8::1", "::"] {
            #expect(!ThreatIntel.isPublic(IPAddress(a)!), "\(a)")
        }
        for a in ["44.1.2.3", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2a00:1450::1", "2600::1"] {
            #expect(ThreatIntel.isPublic(IPAddress(a)!), "\(a)")
        }
    }

    @Test func trustedWinsOverThreat() throws {
        let intel = ThreatIntel(threats: try IndicatorList(text: "44.0.0.0/8\nevil.example\n", file: "t"),
                                trusted: try IndicatorList(text: "44.5.0.0/16\nok.evil.example\n", file: "u"))
        #expect(intel.isThreat(IPAddress("44.4.0.1")!))
        #expect(!intel.isThreat(IPAddress("44.5.0.1")!))
        #expect(intel.threatDomain("x.evil.example") == "evil.example")
        #expect(intel.threatDomain("a.ok.evil.example") == nil)
    }

    @Test func threatListDetectors() throws {
        let intel = ThreatIntel(threats: try IndicatorList(text: "44.66.0.0/16\nc2.example\n", file: "t"))
        let rule = MaliciousIPCallerCloudTrailRule(intel: intel)
        #expect(run(rule, [ct("ListUsers", ip: "44.66.1.2")]).map(\.type.description) == ["Recon:IAMUser/MaliciousIPCaller.Custom"])
        #expect(run(rule, [ct("ListUsers", ip: "44.67.1.2")]).isEmpty)
        let fl = MaliciousIPCallerFlowRule(intel: intel)
        let out = run(fl, [flow("10.0.0.5", "44.66.9.9", port: 443, seconds: 0), flow("44.66.9.9", "10.0.0.5", port: 22, seconds: 1)])
        #expect(out.map(\.type.description) == Array(repeating: "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", count: 2))
        #expect(Set(out.map(\.findingID)).count == 1, "both directions are one finding: interface + remote")
        #expect(run(fl, [flow("10.0.0.5", "44.65.9.9", port: 443, seconds: 0)]).isEmpty)
        let d = MaliciousDomainRequestRule(intel: intel)
        #expect(run(d, [dns("beacon.c2.example", seconds: 0)]).map(\.type.description) == ["Impact:EC2/MaliciousDomainRequest.Custom"])
        #expect(run(d, [dns("c2.example.org", seconds: 0), dns("notc2.example", seconds: 1)]).isEmpty)
    }

    /// 250,000 generated entries; every probe's answer checked against a naive scan.
    @Test func quarterMillionEntriesMatchANaiveScan() throws {
        var rng = SplitMix(seed: 6)
        var lines: [String] = []
        var cidrs: [CIDR] = []
        var domains: [String] = []
        for i in 0..<250_000 {
            switch i % 5 {
            case 0, 1:
                let a = UInt32(truncatingIfNeeded: rng.next())
                let len = [32, 32, 24, 20, 16, 12][Int(rng.next() % 6)]
                let text = "\(IPAddress(v4: a))/\(len)"
                lines.append(text); cidrs.append(CIDR(text)!)
            case 2:
                let text = "2a0\(rng.next() % 10):\(String(rng.next() % 65536, radix: 16))::/\([32, 48, 64][Int(rng.next() % 3)])"
                lines.append(text); cidrs.append(CIDR(text)!)
            default:
                let d = "d\(rng.next() % 1_000_000).example\(rng.next() % 50)"
                lines.append(d); domains.append(d)
            }
        }
        let start = Date()
        let list = try IndicatorList(text: lines.joined(separator: "\n"), file: "gen")
        print("loaded \(list.entries) threat-list entries (\(list.nonPublic) not public) in \(String(format: "%.2f", Date().timeIntervalSince(start)))s")
        #expect(list.entries == 250_000)
        let publicCIDRs = cidrs.filter { ThreatIntel.isPublicPrefix($0) }
        let domainSet = Set(domains)
        var hits = 0
        for p in 0..<800 {
            let ip: IPAddress
            switch p % 4 {
            case 0: ip = IPAddress(v4: UInt32(truncatingIfNeeded: rng.next()))
            case 1: // inside a listed prefix
                let c = cidrs[Int(rng.next() % UInt64(cidrs.count))]
                let host = 128 - c.bits
                func mask(_ n: Int) -> UInt64 { n >= 64 ? ~0 : (1 << UInt64(n)) - 1 }
                ip = host <= 64 ? IPAddress(hi: c.network.hi, lo: c.network.lo | (rng.next() & mask(host)))
                    : IPAddress(hi: c.network.hi | (rng.next() & mask(host - 64)), lo: rng.next())
            case 2: ip = IPAddress(hi: 0x2a00_0000_0000_0000 | rng.next() >> 12, lo: rng.next())
            default: ip = IPAddress(v4: UInt32(truncatingIfNeeded: rng.next()) & 0xffff_ff00)
            }
            let naive = publicCIDRs.contains { $0.contains(ip) }
            #expect(list.contains(ip) == naive, "\(ip)")
            if naive { hits += 1 }
            let name = p % 2 == 0 ? "www.\(domains[Int(rng.next() % UInt64(domains.count))])" : "www.d\(rng.next() % 1_000_000).example\(rng.next() % 50)"
            let labels = name.split(separator: ".")
            let naiveDomain = (0..<labels.count).lazy.map { labels[$0...].joined(separator: ".") }.first { domainSet.contains($0) }
            #expect(list.match(domain: name) == naiveDomain, "\(name)")
        }
        #expect(hits > 100, "probes inside listed prefixes")
    }
}

/// A small deterministic generator for reproducible test data.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
