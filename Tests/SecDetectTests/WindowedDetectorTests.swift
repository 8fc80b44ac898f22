import SecModel
import Testing
@testable import SecDetect

@Suite struct WindowedDetectorTests {
    @Test func consoleLoginFromDistantNetworks() {
        let hits = run(ConsoleLoginSuccessBDetector(), [login(ip: "44.10.20.30", seconds: 0), login(ip: "81.2.3.4", seconds: 1800)])
        #expect(hits.map(\.type.description) == ["UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B"])
        #expect(hits.first?.evidence.map(\.seq) == [1, 2])
        #expect(hits.first?.aggregationKey == ["arn:aws:iam::111122223333:user/alice"])
        // Near misses: same /16 within the hour; distant networks 61 minutes apart; a
        // failed log-in from afar.
        #expect(run(ConsoleLoginSuccessBDetector(), [login(ip: "44.10.20.30", seconds: 0), login(ip: "44.10.99.1", seconds: 600)]).isEmpty)
        #expect(run(ConsoleLoginSuccessBDetector(), [login(ip: "44.10.20.30", seconds: 0), login(ip: "81.2.3.4", seconds: 3660)]).isEmpty)
        #expect(run(ConsoleLoginSuccessBDetector(), [login(ip: "44.10.20.30", seconds: 0), login(ok: false, ip: "81.2.3.4", seconds: 60)]).isEmpty)
        // IPv6: different /32s fire, the same /32 does not.
        #expect(run(ConsoleLoginSuccessBDetector(), [login(ip: "2a00:1450::1", seconds: 0), login(ip: "2a01:1450::1", seconds: 60)]).count == 1)
        #expect(run(ConsoleLoginSuccessBDetector(), [login(ip: "2a00:1450::1", seconds: 0), login(ip: "2a00:1450:ffff::1", seconds: 60)]).isEmpty)
    }

    @Test func consoleBruteForce() {
        let fails = (0..<5).map { login(ok: false, ip: "44.1.1.1", seconds: $0 * 60) }
        let hits = run(ConsoleLoginBruteForceDetector(), fails + [login(ip: "44.1.1.1", seconds: 400)])
        #expect(hits.map(\.type.description) == ["CredentialAccess:IAMUser/ConsoleLoginBruteForce.Custom"])
        #expect(hits.first?.evidence.count == 6 && hits.first?.severity == 8.0)
        // Near misses: four failures; five failures then success from another address;
        // five failures but the success comes after the window.
        #expect(run(ConsoleLoginBruteForceDetector(), Array(fails.prefix(4)) + [login(ip: "44.1.1.1", seconds: 300)]).isEmpty)
        #expect(run(ConsoleLoginBruteForceDetector(), fails + [login(ip: "44.1.1.2", seconds: 300)]).isEmpty)
        #expect(run(ConsoleLoginBruteForceDetector(), fails + [login(ip: "44.1.1.1", seconds: 60 + 1800)]).isEmpty)
    }

    @Test func rdsSuccessfulBruteForce() {
        let fails = (0..<10).map { rdsAuth("auth_failed", ok: false, ip: "44.2.2.2", seconds: $0) }
        let hits = run(RDSBruteForceDetector(), fails + [rdsAuth("connect", ok: true, ip: "44.2.2.2", seconds: 20)])
        #expect(hits.map(\.type.description) == ["CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce"])
        #expect(hits.first?.aggregationKey == ["db-main", "44.2.2.2"])
        #expect(run(RDSBruteForceDetector(), Array(fails.prefix(9)) + [rdsAuth("connect", ok: true, ip: "44.2.2.2", seconds: 20)]).isEmpty)
        #expect(run(RDSBruteForceDetector(), fails).isEmpty, "failures alone are not a successful brute force")
    }

    @Test func portscan() {
        let scan = (0..<50).map { flow("10.0.0.9", "10.0.1.20", port: Int64(1000 + $0), seconds: $0) }
        let hits = run(PortscanDetector(), scan)
        #expect(hits.map(\.type.description) == ["Recon:EC2/Portscan"])
        #expect(hits.first?.evidence.count == 20, "bounded evidence")
        // Near misses: 49 ports; 50 ports over 50 targets; repeats of the same port.
        #expect(run(PortscanDetector(), Array(scan.prefix(49))).isEmpty)
        #expect(run(PortscanDetector(), (0..<50).map { flow("10.0.0.9", "10.0.1.\($0)", port: Int64(1000 + $0), seconds: $0) }).isEmpty)
        #expect(run(PortscanDetector(), (0..<200).map { flow("10.0.0.9", "10.0.1.20", port: Int64(1000 + $0 % 10), seconds: $0) }).isEmpty)
        // Spread over more than the window.
        #expect(run(PortscanDetector(), (0..<50).map { flow("10.0.0.9", "10.0.1.20", port: Int64(1000 + $0), seconds: $0 * 10) }).isEmpty)
    }

    @Test func portSweep() {
        let sweep = (0..<25).map { flow("10.0.0.9", "10.0.2.\($0)", port: 445, seconds: $0) }
        #expect(run(PortSweepDetector(), sweep).map(\.type.description) == ["Impact:EC2/PortSweep"])
        #expect(run(PortSweepDetector(), Array(sweep.prefix(24))).isEmpty)
        #expect(run(PortSweepDetector(), (0..<25).map { flow("10.0.0.9", "10.0.2.\($0)", port: Int64(445 + $0), seconds: $0) }).isEmpty)
    }

    @Test func sshAndRdpBruteForceWithDirection() {
        let inbound = (0..<20).map { flow("44.3.3.3", "10.0.0.5", port: 22, seconds: $0 * 5) }
        let hits = run(RemoteBruteForceDetector(), inbound)
        #expect(hits.map(\.type.description) == ["UnauthorizedAccess:EC2/SSHBruteForce"])
        #expect(hits.first?.severity == 2.0, "the instance is the target")
        let outbound = (0..<20).map { flow("10.0.0.5", "44.3.3.3", port: 3389, seconds: $0 * 5) }
        let out = run(RemoteBruteForceDetector(), outbound)
        #expect(out.map(\.type.description) == ["UnauthorizedAccess:EC2/RDPBruteForce"])
        #expect(out.first?.severity == 8.0, "the instance is the actor")
        // Near misses: long sessions; 19 attempts; another port.
        #expect(run(RemoteBruteForceDetector(), (0..<20).map { flow("44.3.3.3", "10.0.0.5", port: 22, seconds: $0, packets: 500) }).isEmpty)
        #expect(run(RemoteBruteForceDetector(), Array(inbound.prefix(19))).isEmpty)
        #expect(run(RemoteBruteForceDetector(), (0..<20).map { flow("44.3.3.3", "10.0.0.5", port: 2222, seconds: $0) }).isEmpty)
    }

    @Test func dnsExfiltration() {
        // Hex-encoded chunks of data as labels under one domain.
        var rng = SplitMix(seed: 53)
        func chunk() -> String { (0..<40).map { _ in String("0123456789abcdef".randomElement(using: &rng)!) }.joined() }
        let names = (0..<20).map { _ in chunk() + ".x.exfil-example.net" }
        #expect(names.allSatisfy(DNSExfiltrationDetector.hasEncodedLabel))
        let hits = run(DNSExfiltrationDetector(), names.enumerated().map { dns($1, seconds: $0) })
        #expect(hits.map(\.type.description) == ["Trojan:EC2/DNSDataExfiltration"])
        #expect(hits.first?.aggregationKey == ["i-0abc", "exfil-example.net"])
        // Near misses: long readable labels; the same encoded name repeated; 19 names.
        let readable = (0..<30).map { dns("the-quick-brown-fox-jumps-over-the-lazy-dog-\(String(repeating: "a", count: $0 % 3)).example.com", seconds: $0) }
        #expect(run(DNSExfiltrationDetector(), readable).isEmpty)
        #expect(run(DNSExfiltrationDetector(), (0..<30).map { dns(names[0], seconds: $0) }).isEmpty)
        #expect(run(DNSExfiltrationDetector(), names.prefix(19).enumerated().map { dns($1, seconds: $0) }).isEmpty)
        // A slow one (the 20 names over 57 minutes) is still one; over more than an hour, not.
        #expect(run(DNSExfiltrationDetector(), names.enumerated().map { dns($1, seconds: $0 * 180) }).count == 1)
        #expect(run(DNSExfiltrationDetector(), names.enumerated().map { dns($1, seconds: $0 * 200) }).isEmpty)
        #expect(DomainName.base("a.b.example.co.uk") == "example.co.uk")
        #expect(DomainName.base("A.B.Example.com") == "example.com")
    }

    @Test func portProbeOfAnOpenPort() {
        // A public address tries 25 ports of one instance over 24 minutes; 443 answers.
        func probe(_ port: Int64, _ i: Int, from src: String = "201.150.207.21", to dst: String = "10.11.0.7",
                   open: Set<Int64> = [443]) -> Event {
            var e = flow(src, dst, port: port, seconds: i * 60, packets: 1)
            e.action = open.contains(port) ? "ACCEPT" : "REJECT"
            return e
        }
        let ports: [Int64] = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 465, 587, 993, 995, 1080, 1433,
                              1521, 1723, 3306, 3389, 5432, 8080]
        let hits = run(PortProbeDetector(), ports.enumerated().map { probe($1, $0) })
        #expect(hits.map(\.type.description) == ["Recon:EC2/PortProbeUnprotectedPort"])
        #expect(hits.first?.aggregationKey == ["201.150.207.21", "10.11.0.7"])
        #expect(hits.first?.evidence.count == 20 && hits.first?.title.contains("open: 443") == true)
        // Near misses: every probe rejected; 19 ports; from inside the network; spread
        // over more than 30 minutes (20 ports, 100 s apart... 31.7 minutes).
        #expect(run(PortProbeDetector(), ports.enumerated().map { probe($1, $0, open: []) }).isEmpty)
        #expect(run(PortProbeDetector(), ports.prefix(19).enumerated().map { probe($1, $0, open: [21]) }).isEmpty)
        #expect(run(PortProbeDetector(), ports.enumerated().map { probe($1, $0, from: "10.0.0.9") }).isEmpty)
        #expect(run(PortProbeDetector(), ports.prefix(20).enumerated().map { i, p in
            var e = probe(p, 0, open: [21]); e.time = Int64(i) * 100_000; return e }).isEmpty)
    }

    /// Saving state mid-stream and resuming from the saved bytes gives the same
    /// findings as one uninterrupted run (what the engine relies on to restart).
    @Test func stateSurvivesSaveAndLoad() throws {
        var events: [Event] = []
        for i in 0..<60 { events.append(flow("10.0.0.9", "10.0.1.20", port: Int64(2000 + i), seconds: i)) }
        for i in 0..<30 { events.append(flow("44.3.3.3", "10.0.0.5", port: 22, seconds: 100 + i)) }
        for i in 0..<6 { events.append(login(ok: i < 5 ? false : true, ip: "44.1.1.1", seconds: 200 + i)) }
        events.append(login(ip: "81.2.3.4", seconds: 300))
        for (i, _) in events.enumerated() { events[i].seq = UInt64(i + 1) }

        var whole = DetectorSet(BuiltInDetectors.all())
        let expected = events.flatMap { whole.observe($0) }
        #expect(expected.count >= 4)
        for cut in [1, 30, 55, 95] {
            var first = DetectorSet(BuiltInDetectors.all())
            var got = events.prefix(cut).flatMap { first.observe($0) }
            let saved = try first.saveState()
            var second = DetectorSet(BuiltInDetectors.all())
            try second.loadState(saved)
            #expect(try second.saveState() == saved, "state bytes are deterministic")
            got += events.dropFirst(cut).flatMap { second.observe($0) }
            #expect(got == expected, "cut at \(cut)")
        }
    }

    /// The same, with per-key state written as the engine writes it (only the entries a
    /// stretch of events changed, removals included) and loaded back from those entries
    /// alone, at several cuts: the findings equal one uninterrupted run's, and the
    /// entries rebuild a state equal to the live one.
    @Test func perKeyStateSurvivesIncrementalSaves() throws {
        var events: [Event] = []
        for i in 0..<60 { events.append(flow("10.0.0.9", "10.0.1.20", port: Int64(2000 + i), seconds: i)) }
        for i in 0..<30 { events.append(flow("44.3.3.3", "10.0.0.5", port: 22, seconds: 100 + i * 7)) }
        // Far later: every earlier window has expired (pruned and evicted keys are removals).
        for i in 0..<40 { events.append(flow("10.0.0.8", "10.0.1.21", port: Int64(3000 + i), seconds: 90_000 + i)) }
        for (i, _) in events.enumerated() { events[i].seq = UInt64(i + 1) }
        var whole = DetectorSet(BuiltInDetectors.all())
        let expected = events.flatMap { whole.observe($0) }
        #expect(expected.count >= 2)
        #expect(whole.keyed.contains("vpcflow.portscan"), "the window detectors keep per-key state")

        var live = DetectorSet(BuiltInDetectors.all())
        var db: [String: [String: [UInt8]]] = [:]  // detector id -> key -> entry, as the engine keeps them
        var got: [FindingDraft] = []
        var removals = 0
        var start = 0
        // (At 50 the port scan fires on its 50th port and forgets its key: a removal.)
        for cut in [17, 50, 75, 100, events.count] {
            got += events[start..<cut].flatMap { live.observe($0) }
            start = cut
            for (id, changes) in try live.takeStateChanges() {
                for (k, v) in changes {
                    if let v { db[id, default: [:]][k] = v } else { db[id]?[k] = nil; removals += 1 }
                }
            }
            // A restart here: only the entries.
            var reloaded = DetectorSet(BuiltInDetectors.all())
            try reloaded.loadStateEntries { id in (db[id] ?? [:]).map { ($0.key, $0.value) } }
            #expect(try reloaded.saveState() == live.saveState(), "cut at \(cut)")
            live = reloaded
        }
        #expect(got == expected)
        #expect(removals > 0)
        // Nothing changed since the last save: no entries to write.
        #expect(try live.takeStateChanges().allSatisfy { $0.changes.isEmpty })
    }

    @Test func windowStoreIsBounded() {
        var s = WindowStore()
        for i in 0..<1000 {
            var e = flow("10.0.0.1", "10.0.0.2", port: 1, seconds: i)
            e.seq = UInt64(i)
            s.add("k\(i)", WindowEntry(e, "v"), now: e.time, window: 10_000_000, maxEntries: 5, maxKeys: 100)
        }
        #expect(s.keys.count <= 100)
        #expect(s.keys["k999"] != nil && s.keys["k0"] == nil, "the least recently touched keys go first")
    }
}
