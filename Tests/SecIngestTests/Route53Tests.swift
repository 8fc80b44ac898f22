import Foundation
import SecModel
import Testing
@testable import SecIngest

/// Route 53 Resolver query log lines written for these tests, shaped like the example in
/// the Route 53 Developer Guide ("Route 53 VPC Resolver query log example"):
/// documentation account ids, addresses and resource ids.
enum Route53Fixtures {
    /// An instance's A query answered.
    static let instanceQuery = #"""
    {"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a1b2c3d4e5f60718","query_timestamp":"2026-11-28T10:00:00Z","query_name":"example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"93.184.216.34","Type":"A","Class":"IN"}],"srcaddr":"10.0.0.5","srcport":"53000","transport":"UDP","srcids":{"instance":"i-0abcd1234example"}}
    """#

    /// DNS Firewall blocked the query; the answer it gave is NOERROR (the guide's example).
    static let firewallBlock = #"""
    {"srcaddr":"4.5.64.102","vpc_id":"vpc-7example","answers":[{"Rdata":"203.0.113.9","Type":"PTR","Class":"IN"}],"firewall_rule_group_id":"rslvr-frg-01234567890abcdef","firewall_rule_action":"BLOCK","query_name":"15.3.4.32.in-addr.arpa.","firewall_domain_list_id":"rslvr-fdl-01234567890abcdef","query_class":"IN","srcids":{"instance":"i-0d15cd0d3example"},"rcode":"NOERROR","query_type":"PTR","transport":"UDP","version":"1.100000","account_id":"111122223333","srcport":"56067","query_timestamp":"2021-02-04T17:51:55Z","region":"us-east-1"}
    """#

    /// From on-premises through an inbound endpoint, over TCP from an IPv6 address, no
    /// such name; a mixed-case name.
    static let nxdomainInbound = #"""
    {"version":"1.100000","account_id":"111122223333","region":"eu-west-1","vpc_id":"vpc-0fedcba9876543210","query_timestamp":"2026-11-28T10:00:01.250Z","query_name":"Login.Example-Bank.CO.UK.","query_type":"AAAA","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"2001:db8::5","srcport":"40123","transport":"TCP","srcids":{"resolver_endpoint":"rslvr-in-0123456789abcdef0","resolver_network_interface":"rni-0123456789abcdef0"}}
    """#

    /// DNS Firewall only alerted: the query was answered.
    static let firewallAlert = #"""
    {"version":"1.100000","account_id":"444455556666","region":"us-west-2","vpc_id":"vpc-0123456789abcdef0","query_timestamp":"2026-11-28T10:00:02Z","query_name":"pool.example-miner.net.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"198.51.100.44","Type":"A","Class":"IN"}],"srcaddr":"10.1.2.3","srcport":"33333","transport":"UDP","srcids":{"instance":"i-0123456789abcdef0"},"firewall_rule_action":"ALERT","firewall_rule_group_id":"rslvr-frg-0abcdef0123456789","firewall_domain_list_id":"rslvr-fdl-0abcdef0123456789"}
    """#

    /// Blocked with an NXDOMAIN answer.
    static let firewallBlockNXDOMAIN = #"""
    {"version":"1.100000","account_id":"444455556666","region":"us-west-2","vpc_id":"vpc-0123456789abcdef0","query_timestamp":"2026-11-28T10:00:03Z","query_name":"c2.example.org.","query_type":"TXT","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"10.1.2.3","srcport":"33334","transport":"UDP","srcids":{"instance":"i-0123456789abcdef0"},"firewall_rule_action":"BLOCK","firewall_rule_group_id":"rslvr-frg-0abcdef0123456789","firewall_domain_list_id":"rslvr-fdl-0abcdef0123456789"}
    """#

    static let all = [instanceQuery, firewallBlock, nxdomainInbound, firewallAlert, firewallBlockNXDOMAIN]
}

@Suite struct Route53Tests {
    func event(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Event {
        let out = parse(line, format: .route53)
        #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))", sourceLocation: sourceLocation)
        #expect(out.records == 1, sourceLocation: sourceLocation)
        return try #require(out.events.first, sourceLocation: sourceLocation)
    }

    /// The values copied straight from the record, checked against Foundation's reading.
    func checkCommon(_ ev: Event, _ line: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let r = oracle(line)
        #expect(ev.raw == Array(line.utf8), "raw must be the line's exact bytes", sourceLocation: sourceLocation)
        #expect(ev.time == oracleMillis(r["query_timestamp"] as! String), sourceLocation: sourceLocation)
        #expect(ev.account == r["account_id"] as? String, sourceLocation: sourceLocation)
        #expect(ev.region == r["region"] as? String, sourceLocation: sourceLocation)
        #expect(ev.source == .route53 && ev.eventClass == .dnsActivity, sourceLocation: sourceLocation)
        #expect(ev.action == r["query_type"] as? String, sourceLocation: sourceLocation)
        #expect(ev.srcIP == IPAddress(r["srcaddr"] as! String), sourceLocation: sourceLocation)
        #expect(ev.srcPort == Int64(r["srcport"] as! String), sourceLocation: sourceLocation)
        #expect(ev.proto == ["UDP": 17, "TCP": 6][r["transport"] as! String], sourceLocation: sourceLocation)
        let instance = (r["srcids"] as? [String: Any])?["instance"] as? String
        #expect(ev.resource == instance ?? r["vpc_id"] as? String, sourceLocation: sourceLocation)
        #expect(ev.resourceType == (instance != nil ? "AWS::EC2::Instance" : "AWS::EC2::VPC"), sourceLocation: sourceLocation)
        var name = (r["query_name"] as! String).lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        #expect(ev.queryName == name, sourceLocation: sourceLocation)
        #expect(ev.principal == nil && ev.eventID == nil && ev.dstIP == nil && ev.severity == nil, sourceLocation: sourceLocation)
    }

    @Test func answeredQueryFromAnInstance() throws {
        let ev = try event(Route53Fixtures.instanceQuery)
        checkCommon(ev, Route53Fixtures.instanceQuery)
        #expect(ev.queryName == "example.com")
        #expect(ev.outcome == .success && ev.errorCode == nil)
        #expect(ev.proto == 17)
        #expect(ev.time == 1_795_860_000_000)
    }

    @Test func firewallBlockIsAFailureWhateverTheAnswer() throws {
        let ev = try event(Route53Fixtures.firewallBlock)
        checkCommon(ev, Route53Fixtures.firewallBlock)
        #expect(ev.outcome == .failure)
        #expect(ev.errorCode == nil) // the rcode is NOERROR
        #expect(ev.queryName == "15.3.4.32.in-addr.arpa")
        #expect(JSONPath("firewall_rule_action")?.lookup(in: ev.raw) == .string("BLOCK"))

        let nx = try event(Route53Fixtures.firewallBlockNXDOMAIN)
        checkCommon(nx, Route53Fixtures.firewallBlockNXDOMAIN)
        #expect(nx.outcome == .failure && nx.errorCode == "NXDOMAIN")
    }

    @Test func firewallAlertKeepsTheAnswersOutcome() throws {
        let ev = try event(Route53Fixtures.firewallAlert)
        checkCommon(ev, Route53Fixtures.firewallAlert)
        #expect(ev.outcome == .success)
        #expect(ev.queryName == "pool.example-miner.net")
    }

    @Test func nxdomainOverTCPFromAnInboundEndpoint() throws {
        let ev = try event(Route53Fixtures.nxdomainInbound)
        checkCommon(ev, Route53Fixtures.nxdomainInbound)
        #expect(ev.outcome == .failure && ev.errorCode == "NXDOMAIN")
        #expect(ev.proto == 6)
        #expect(ev.srcIP?.isV4 == false)
        #expect(ev.queryName == "login.example-bank.co.uk")
        #expect(ev.resource == "vpc-0fedcba9876543210" && ev.resourceType == "AWS::EC2::VPC")
        #expect(ev.time % 1000 == 250)
    }

    @Test func jsonLinesFileInAnyForm() {
        let lines = Route53Fixtures.all
        for text in [lines.joined(separator: "\n") + "\n", "\r\n" + lines.joined(separator: "\r\n\r\n"),
                     "[" + lines.joined(separator: ",\n") + "]", lines.joined()] {
            let input = Array(text.utf8)
            let out = parse(input, format: .route53, file: "queries.log")
            #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))")
            #expect(out.events.map(\.raw) == lines.map { Array($0.utf8) })
            checkAccounting(out, input: input)
        }
    }

    @Test func chunksGiveTheSameEventsAsTheWhole() {
        let lines = (0 ..< 300).map { n in
            Route53Fixtures.instanceQuery.replacingOccurrences(of: "\"srcport\":\"53000\"", with: "\"srcport\":\"\(1000 + n)\"")
        }
        let input = Array((lines.joined(separator: "\n") + "\n").utf8)
        let whole = parse(input, format: .route53)
        let chunked = readAndParse(input, format: .route53, chunkSize: 4096)
        #expect(whole.events.count == 300 && whole.quarantined.isEmpty)
        #expect(chunked.events == whole.events)
        #expect(chunked.eventOffsets == whole.eventOffsets)
        #expect(chunked.events.map(\.srcPort) == (0 ..< 300).map { Int64(1000 + $0) })
    }

    @Test func badLinesAreQuarantinedAndTheRestKept() {
        let good = Route53Fixtures.instanceQuery
        func with(_ find: String, _ replace: String) -> String { good.replacingOccurrences(of: find, with: replace) }
        let noTime = with(#""query_timestamp":"2026-11-28T10:00:00Z","#, "")
        let badTime = with("2026-11-28T10:00:00Z", "yesterday")
        let noName = with(#""query_name":"example.com.","#, "")
        let badAddress = with("10.0.0.5", "999.1.1.1")
        let badPort = with(#""53000""#, #""port""#)
        let cut = String(good[..<good.range(of: #""transport":"UDP""#)!.upperBound])
        let binary = "\u{00}\u{01}\u{02}garbage\u{03}\u{04}"
        var nonUTF8 = Array(with("example.com.", "caf\u{01}.example.").utf8)
        nonUTF8[nonUTF8.firstIndex(of: 0x01)!] = 0xE9 // Latin-1 é, not UTF-8
        let text = [good, noTime, badTime, noName, badAddress, badPort, cut, good, binary].joined(separator: "\n")
        let input = Array(text.utf8) + [0x0A] + nonUTF8 + [0x0A]
        let out = parse(input, format: .route53, file: "queries.log")
        checkAccounting(out, input: input)
        #expect(out.records == 10)
        #expect(out.quarantined.map(\.reason) == [
            "record has no query_timestamp", "query_timestamp 'yesterday' is not RFC 3339",
            "not a Route 53 resolver query log record (no query_name)",
            "invalid JSON at byte \(cut.utf8.count + 1) of record: expected ',' or '}'",
            "binary data (non-text bytes)",
        ])
        #expect(out.quarantined.map(\.line) == [2, 3, 4, 7, 9])
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == [noTime, badTime, noName, cut, binary])
        // Kept: the good lines; a value that is not an address or a port leaves that field empty.
        #expect(out.events.count == 5)
        #expect(out.events[1].srcIP == nil && out.events[1].srcPort == 53000)
        #expect(out.events[2].srcIP == IPAddress("10.0.0.5") && out.events[2].srcPort == nil)
        let last = out.events[4]
        #expect(last.raw == nonUTF8)
        #expect(last.queryName == "caf\u{FFFD}.example")
    }

    @Test func accountFromThePathOrTheOperator() {
        let line = Route53Fixtures.instanceQuery.replacingOccurrences(of: #""account_id":"111122223333","#, with: "")
        let path = "bucket/AWSLogs/777788889999/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60718/2026/11/28/q.log"
        #expect(parse(line, format: .route53, file: path).events.first?.account == "777788889999")
        #expect(parse(line, format: .route53, account: "222233334444").events.first?.account == "222233334444")
        let none = parse(line, format: .route53)
        #expect(none.events.isEmpty)
        #expect(none.quarantined.map(\.reason) == [ParseContext.noAccountReason])
        // The record's own account wins over both.
        #expect(parse(Route53Fixtures.instanceQuery, format: .route53, file: path, account: "222233334444")
            .events.first?.account == "111122223333")
    }

    @Test func regionFromThePathWhenTheRecordHasNone() {
        let line = Route53Fixtures.instanceQuery.replacingOccurrences(of: #""region":"us-east-1","#, with: "")
        let path = "AWSLogs/111122223333/vpcdnsquerylogs/eu-central-1/q.log"
        #expect(parse(line, format: .route53, file: path).events.first?.region == "eu-central-1")
        #expect(parse(line, format: .route53).events.first?.region == nil)
    }

    @Test func detection() {
        let line = Array((Route53Fixtures.instanceQuery + "\n").utf8)
        #expect(InputFormat.detect(prefix: line, path: "queries.log") == .route53)
        #expect(InputFormat.detect(prefix: gzip(line), path: "queries.log.gz") == .route53)
        #expect(InputFormat.detect(prefix: Array(Route53Fixtures.firewallBlock.utf8), path: "-") == .route53)
        #expect(InputFormat.detect(prefix: [], path: "AWSLogs/111122223333/vpcdnsquerylogs/vpc-1/2026/11/28/q.log.gz") == .route53)
        // Not every object with a query name.
        #expect(InputFormat.detect(prefix: Array(#"{"query_name":"a.example."}"#.utf8), path: "x.json") == nil)
    }

    @Test func pantherResolverTestLogs() throws {
        guard let dir = CorpusConformanceTests.available("panther-analysis/extracted_tests") else { return }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasPrefix("AWS.VPCDns") || $0.hasPrefix("AWS.Route53ResolverQueryLog") }
        #expect(!names.isEmpty)
        var checked = 0
        for name in names.sorted() {
            let fb = try IngestInput.read(path: dir.appendingPathComponent(name).path)
            for (n, line) in fb.bytes.split(separator: 0x0A).enumerated() {
                let test = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
                let what = "\(name) line \(n + 1) (\(test["test_name"] ?? "?"))"
                let log = try #require(test["log"] as? [String: Any])
                guard case .object(let text)? = JSONPath.lookup(raw: Array(line), path: [.key("log")]) else {
                    Issue.record("\(what): no log object"); continue
                }
                #expect(Array(text.utf8).withUnsafeBytes { Route53Parser.recognises($0) }, "\(what)")
                let out = parse(text, format: .route53)
                #expect(out.quarantined.isEmpty, "\(what): \(out.quarantined.map(\.reason))")
                guard let ev = out.events.first else { continue }
                #expect(ev.raw == Array(text.utf8), "\(what)")
                #expect(ev.account == log["account_id"] as? String, "\(what)")
                #expect(ev.action == log["query_type"] as? String, "\(what)")
                #expect(ev.time == Timestamp.parse(log["query_timestamp"] as! String), "\(what)")
                #expect(ev.srcIP == IPAddress(log["srcaddr"] as! String), "\(what)")
                let qname = (log["query_name"] as! String).lowercased()
                #expect(ev.queryName == (qname.hasSuffix(".") ? String(qname.dropLast()) : qname), "\(what)")
                checked += 1
            }
        }
        print("Panther Route 53 resolver test logs: \(checked) records checked")
        #expect(checked >= 13)
    }
}
