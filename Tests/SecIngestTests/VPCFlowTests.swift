import Foundation
import SecModel
import Testing
@testable import SecIngest

/// VPC flow log lines written for these tests after the examples in the Amazon VPC
/// User Guide ("Flow log records", "Flow log record examples") and the Transit Gateway
/// guide ("Transit Gateway Flow Log records").
enum VPCFixtures {
    static let defaultHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

    static let accepted = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
    static let rejected = "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK"
    static let noData = "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"
    static let skipData = "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA"
    static let ipv6 = "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK"
    /// An interface created by a service (a VPC endpoint): no account of its own.
    static let unknownAccount = "2 unknown eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.9 443 51512 6 12 3120 1418530011 1418530071 ACCEPT OK"
    static let icmp = "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK"

    static let v3Header = "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status"
    static let v3 = "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789012 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK"
    /// Traffic through a NAT gateway: the packet's own addresses differ from the interface's.
    static let v3Nat = "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 - eni-1235b8ca123456789 123456789012 IPv4 10.0.1.5 203.0.113.5 5001 43416 10.0.0.220 203.0.113.5 6 1219 9 1566848875 1566848933 ACCEPT 18 OK"

    static let v5Header = "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status"
    static let v5Egress = "5 10.0.0.112 52.216.10.20 34210 443 6 1618430850 1618430910 IPv4 12 4500 123456789012 vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60718 i-0a1b2c3d4e5f60718 eni-0a1b2c3d4e5f60718 eu-west-1 euw1-az2 - - ACCEPT 3 10.0.0.112 52.216.10.20 - S3 8 egress OK"
    static let v5Ingress = "5 52.95.128.10 10.0.0.112 443 34212 6 1618430851 1618430911 IPv4 9 2810 123456789012 vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60718 i-0a1b2c3d4e5f60718 eni-0a1b2c3d4e5f60718 eu-west-1 euw1-az2 - - ACCEPT 19 52.95.128.10 10.0.0.112 AMAZON - - ingress OK"

    /// ECS task fields (version 7) and a reject reason (version 8), interface absent.
    static let ecsHeader = "version instance-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id reject-reason"
    static let ecs = "8 i-0c1d2e3f4a5b6c7d8 10.0.3.7 10.0.4.8 40222 8080 6 7 1400 1700000100 1700000160 REJECT OK arn:aws:ecs:us-east-1:123456789012:cluster/prod prod arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef 0123456789abcdef0123456789abcdef 3b0a1c2d3e4f 8e7d6c5b4a39 web arn:aws:ecs:us-east-1:123456789012:task-definition/web:12 arn:aws:ecs:us-east-1:123456789012:task/prod/0fedcba9876543210fedcba987654321 0fedcba9876543210fedcba987654321 BPA"

    static let tgwHeader = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service"
    static let tgwAttachment = "6 TransitGatewayAttachment 123456789012 tgw-0123456789abcdef0 tgw-attach-0a1b2c3d4e5f6a7b8 123456789012 210987654321 vpc-0abc0abc0abc0abc0 vpc-0def0def0def0def0 subnet-0aaa0aaa0aaa0aaa0 subnet-0bbb0bbb0bbb0bbb0 eni-0ccc0ccc0ccc0ccc0 eni-0ddd0ddd0ddd0ddd0 use1-az1 use1-az2 tgw-attach-0f0e0d0c0b0a09080 10.1.0.15 10.2.0.20 49152 443 6 10 5000 1700000000 1700000060 OK IPv4 0 0 0 0 19 us-east-1 egress - -"
    static let tgwGateway = "6 TransitGateway 123456789012 tgw-0123456789abcdef0 - 123456789012 210987654321 vpc-0abc0abc0abc0abc0 vpc-0def0def0def0def0 subnet-0aaa0aaa0aaa0aaa0 subnet-0bbb0bbb0bbb0bbb0 - - use1-az1 use1-az2 - 10.1.0.16 10.2.0.21 0 0 1 2 168 1700000000 1700000060 OK IPv4 2 0 0 0 0 us-east-1 ingress - -"

    static let path = "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/03/01/111122223333_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20240301T0000Z_abcd1234.log"
}

/// Parses a whole flow log input as the pipeline would.
func parseVPC(_ text: String, file: String = VPCFixtures.path, account: String? = nil) -> ParseOutput {
    parseVPC(Array(text.utf8), file: file, account: account)
}

func parseVPC(_ bytes: [UInt8], file: String = VPCFixtures.path, account: String? = nil) -> ParseOutput {
    bytes.withUnsafeBytes { IngestParser.parse(bytes: $0, file: file, format: .vpcflow, account: account) }
}

/// Checks every core field of `ev` against the record's own fields, read with String
/// splitting (independent of the parser's byte tokenizer).
func expectMatchesRecord(_ ev: Event, header: String, line: String, pathAccount: String? = "111122223333",
                         pathRegion: String? = "eu-west-1", sourceLocation: SourceLocation = #_sourceLocation) {
    let names = header.split(separator: " ").map(String.init)
    let values = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    #expect(names.count == values.count, sourceLocation: sourceLocation)
    var f: [String: String] = [:]
    for (n, v) in zip(names, values) where v != "-" { f[n] = v }
    let noData = f["log-status"] == "NODATA" || f["log-status"] == "SKIPDATA"

    #expect(ev.source == .vpcflow && ev.eventClass == .networkActivity, sourceLocation: sourceLocation)
    #expect(ev.time == Int64(f["start"] ?? f["end"] ?? "")! * 1000, sourceLocation: sourceLocation)
    let recordAccount = f["account-id"].flatMap { $0.count == 12 && $0.allSatisfy(\.isNumber) ? $0 : nil }
    #expect(ev.account == recordAccount ?? pathAccount, sourceLocation: sourceLocation)
    #expect(ev.region == f["region"] ?? pathRegion, sourceLocation: sourceLocation)
    #expect(ev.srcIP == (f["srcaddr"] ?? f["pkt-srcaddr"]).flatMap { IPAddress($0) }, sourceLocation: sourceLocation)
    #expect(ev.dstIP == (f["dstaddr"] ?? f["pkt-dstaddr"]).flatMap { IPAddress($0) }, sourceLocation: sourceLocation)
    #expect(ev.srcPort == f["srcport"].flatMap { Int64($0) }, sourceLocation: sourceLocation)
    #expect(ev.dstPort == f["dstport"].flatMap { Int64($0) }, sourceLocation: sourceLocation)
    #expect(ev.proto == f["protocol"].flatMap { Int64($0) }, sourceLocation: sourceLocation)
    #expect(ev.packets == f["packets"].flatMap { Int64($0) }, sourceLocation: sourceLocation)
    #expect(ev.bytes == f["bytes"].flatMap { Int64($0) }, sourceLocation: sourceLocation)
    #expect(ev.action == (noData ? nil : f["action"]), sourceLocation: sourceLocation)
    let outcome: Outcome = noData ? .unknown : f["action"] == "ACCEPT" ? .success : f["action"] == "REJECT" ? .failure : .unknown
    #expect(ev.outcome == outcome, sourceLocation: sourceLocation)
    let resource: (String, String)? = f["interface-id"].map { ($0, "AWS::EC2::NetworkInterface") }
        ?? f["tgw-attachment-id"].map { ($0, "AWS::EC2::TransitGatewayAttachment") }
        ?? f["tgw-id"].map { ($0, "AWS::EC2::TransitGateway") }
        ?? f["instance-id"].map { ($0, "AWS::EC2::Instance") }
    #expect(ev.resource == resource?.0 && ev.resourceType == resource?.1, sourceLocation: sourceLocation)
    #expect(ev.srcService == f["pkt-src-aws-service"], sourceLocation: sourceLocation)
    #expect(ev.service == f["pkt-dst-aws-service"], sourceLocation: sourceLocation)
    #expect(ev.raw == Array(line.utf8), sourceLocation: sourceLocation)
    // Nothing else is set.
    #expect(ev.principal == nil && ev.principalType == nil && ev.accessKey == nil && ev.mfa == nil, sourceLocation: sourceLocation)
    #expect(ev.userAgent == nil && ev.errorCode == nil && ev.httpStatus == nil && ev.url == nil, sourceLocation: sourceLocation)
    #expect(ev.queryName == nil && ev.eventID == nil && ev.severity == nil && ev.findingType == nil && ev.title == nil,
            sourceLocation: sourceLocation)
}

@Suite struct VPCFlowTests {
    static let defaultLines = [VPCFixtures.accepted, VPCFixtures.rejected, VPCFixtures.noData, VPCFixtures.skipData,
                               VPCFixtures.ipv6, VPCFixtures.unknownAccount, VPCFixtures.icmp]

    @Test func defaultFormatWithHeader() {
        let out = parseVPC(([VPCFixtures.defaultHeader] + Self.defaultLines).joined(separator: "\n") + "\n")
        #expect(out.quarantined.isEmpty && out.warnings.isEmpty)
        #expect(out.records == Self.defaultLines.count && out.events.count == Self.defaultLines.count)
        for (ev, line) in zip(out.events, Self.defaultLines) {
            expectMatchesRecord(ev, header: VPCFixtures.defaultHeader, line: line)
        }
        // The first record, by hand.
        let ev = out.events[0]
        #expect(ev.time == 1_418_530_010_000 && ev.account == "123456789010" && ev.region == "eu-west-1")
        #expect(ev.srcIP == IPAddress("172.31.16.139") && ev.srcPort == 20641)
        #expect(ev.dstIP == IPAddress("172.31.16.21") && ev.dstPort == 22 && ev.proto == 6)
        #expect(ev.packets == 20 && ev.bytes == 4249 && ev.action == "ACCEPT" && ev.outcome == .success)
        #expect(ev.resource == "eni-1235b8ca123456789" && ev.resourceType == "AWS::EC2::NetworkInterface")
        // Offsets point at each record's line.
        let headerLength = Int64(VPCFixtures.defaultHeader.utf8.count + 1)
        #expect(out.eventOffsets.first == headerLength)
    }

    @Test func noDataAndSkipDataAreKeptWithoutAction() {
        let out = parseVPC([VPCFixtures.noData, VPCFixtures.skipData].joined(separator: "\n"))
        #expect(out.events.count == 2)
        for ev in out.events {
            #expect(ev.action == nil && ev.outcome == .unknown && ev.srcIP == nil && ev.bytes == nil)
            #expect(ev.account == "123456789010" && ev.time == 1_431_280_876_000 && ev.resource != nil)
        }
    }

    @Test func defaultFormatWithoutHeader() {
        let out = parseVPC(Self.defaultLines.joined(separator: "\r\n"))
        #expect(out.quarantined.isEmpty && out.events.count == Self.defaultLines.count)
        for (ev, line) in zip(out.events, Self.defaultLines) {
            expectMatchesRecord(ev, header: VPCFixtures.defaultHeader, line: line)
        }
    }

    @Test(arguments: [
        (VPCFixtures.v3Header, [VPCFixtures.v3, VPCFixtures.v3Nat]),
        (VPCFixtures.v5Header, [VPCFixtures.v5Egress, VPCFixtures.v5Ingress]),
        (VPCFixtures.ecsHeader, [VPCFixtures.ecs]),
        (VPCFixtures.tgwHeader, [VPCFixtures.tgwAttachment, VPCFixtures.tgwGateway]),
    ])
    func customFormats(header: String, lines: [String]) {
        let out = parseVPC(([header] + lines).joined(separator: "\n"))
        #expect(out.quarantined.isEmpty && out.warnings.isEmpty)
        #expect(out.events.count == lines.count)
        for (ev, line) in zip(out.events, lines) { expectMatchesRecord(ev, header: header, line: line) }
    }

    @Test func customFieldsByHand() {
        let v5 = parseVPC(VPCFixtures.v5Header + "\n" + VPCFixtures.v5Egress + "\n" + VPCFixtures.v5Ingress).events
        #expect(v5.count == 2)
        #expect(v5.first?.service == "S3" && v5.first?.srcService == nil && v5.first?.region == "eu-west-1")
        #expect(v5.last?.srcService == "AMAZON" && v5.last?.service == nil)
        #expect(v5.first?.resource == "eni-0a1b2c3d4e5f60718")

        let nat = parseVPC(VPCFixtures.v3Header + "\n" + VPCFixtures.v3Nat).events.first
        #expect(nat?.srcIP == IPAddress("10.0.1.5"), "srcaddr, not pkt-srcaddr")

        let ecs = parseVPC(VPCFixtures.ecsHeader + "\n" + VPCFixtures.ecs).events.first
        #expect(ecs?.resource == "i-0c1d2e3f4a5b6c7d8" && ecs?.resourceType == "AWS::EC2::Instance")
        #expect(ecs?.action == "REJECT" && ecs?.outcome == .failure && ecs?.account == "111122223333")

        let tgw = parseVPC(VPCFixtures.tgwHeader + "\n" + VPCFixtures.tgwAttachment + "\n" + VPCFixtures.tgwGateway).events
        #expect(tgw.map(\.resource) == ["tgw-attach-0a1b2c3d4e5f6a7b8", "tgw-0123456789abcdef0"])
        #expect(tgw.map(\.resourceType) == ["AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGateway"])
        #expect(tgw.allSatisfy { $0.action == nil && $0.outcome == .unknown && $0.region == "us-east-1" })
        #expect(tgw.first?.bytes == 5000 && tgw.first?.packets == 10 && tgw.first?.account == "123456789012")
    }

    /// A header with only the packet-level addresses: those give src_ip and dst_ip.
    @Test func packetAddressesWhenInterfaceAddressesAreAbsent() {
        let out = parseVPC("version interface-id pkt-srcaddr pkt-dstaddr start action\n5 eni-0a1b2c3d4e5f60718 10.0.0.9 10.0.7.7 1700000000 ACCEPT")
        #expect(out.events.first?.srcIP == IPAddress("10.0.0.9") && out.events.first?.dstIP == IPAddress("10.0.7.7"))
    }

    @Test func athenaStyleHeaderNames() {
        let header = VPCFixtures.defaultHeader.replacingOccurrences(of: "-", with: "_")
        let out = parseVPC(header + "\n" + VPCFixtures.accepted)
        #expect(out.events.count == 1 && out.warnings.isEmpty)
        expectMatchesRecord(out.events[0], header: VPCFixtures.defaultHeader, line: VPCFixtures.accepted)
    }

    /// The header's columns carry over to later chunks of the same input.
    @Test func headerCarriesAcrossChunks() {
        let context = ParseContext(file: VPCFixtures.path)
        let chunks = [VPCFixtures.v5Header + "\n", VPCFixtures.v5Egress + "\n", VPCFixtures.v5Ingress + "\n"]
        var out = ParseOutput()
        var offset: Int64 = 0
        for (i, chunk) in chunks.enumerated() {
            let bytes = Array(chunk.utf8)
            out.append(bytes.withUnsafeBytes {
                IngestParser.parse(bytes: $0, format: .vpcflow, offset: offset, line: i + 1, context: context)
            })
            offset += Int64(bytes.count)
        }
        #expect(out.quarantined.isEmpty && out.events.count == 2)
        expectMatchesRecord(out.events[0], header: VPCFixtures.v5Header, line: VPCFixtures.v5Egress)
        expectMatchesRecord(out.events[1], header: VPCFixtures.v5Header, line: VPCFixtures.v5Ingress)
        #expect(out.eventOffsets == [Int64(chunks[0].utf8.count), Int64(chunks[0].utf8.count + chunks[1].utf8.count)])
    }

    /// Files concatenated into one input: each header applies to the lines after it.
    @Test func laterHeaderChangesTheColumns() {
        let text = [VPCFixtures.defaultHeader, VPCFixtures.accepted, VPCFixtures.v3Header, VPCFixtures.v3].joined(separator: "\n")
        let out = parseVPC(text)
        #expect(out.quarantined.isEmpty && out.events.count == 2)
        expectMatchesRecord(out.events[1], header: VPCFixtures.v3Header, line: VPCFixtures.v3)
    }

    @Test func unknownHeaderFieldIsIgnoredWithOneWarning() {
        let header = "version account-id interface-id flux-capacitor srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        let line = "2 123456789010 eni-1235b8ca123456789 1.21 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
        let out = parseVPC([header, line, line].joined(separator: "\n"))
        #expect(out.events.count == 2 && out.quarantined.isEmpty)
        #expect(out.warnings == ["\(VPCFixtures.path): VPC flow log header names unknown fields 'flux-capacitor'; their columns are ignored"])
        #expect(out.events[0].srcIP == IPAddress("172.31.16.139") && out.events[0].bytes == 4249)

        // A new field first in the header: still a header on the input's first line.
        let first = parseVPC("flux-capacitor version interface-id srcaddr start\n1.21 5 eni-0a1b2c3d4e5f60718 10.0.0.1 1700000000")
        #expect(first.events.count == 1 && first.warnings.count == 1 && first.events.first?.srcIP == IPAddress("10.0.0.1"))
    }

    @Test func wrongFieldCountsAreQuarantined() {
        let short = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT"
        let long = VPCFixtures.accepted + " extra"
        let out = parseVPC([VPCFixtures.defaultHeader, VPCFixtures.accepted, short, long, VPCFixtures.rejected].joined(separator: "\n"))
        #expect(out.events.count == 2 && out.records == 4)
        #expect(out.quarantined.map(\.reason) == [
            "VPC flow record has 13 fields, the header names 14", "VPC flow record has 15 fields, the header names 14",
        ])
        #expect(out.quarantined.map(\.line) == [3, 4])
        #expect(out.quarantined.first?.bytes == Array(short.utf8))
        let noHeader = parseVPC(short)
        #expect(noHeader.quarantined.first?.reason == "VPC flow record has 13 fields, the default format has 14")
    }

    @Test(arguments: [
        ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 2064x 22 6 20 4249 1418530010 1418530070 ACCEPT OK", "VPC flow record has a bad srcport"),
        ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 -4249 1418530010 1418530070 ACCEPT OK", "VPC flow record has a bad bytes"),
        ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 2014-12-14 1418530070 ACCEPT OK", "VPC flow record has a bad start"),
        ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 99999999999999 1418530070 ACCEPT OK", "VPC flow record has a bad start"),
        ("2 123456789010 eni-1235b8ca123456789 - - - - - - - - - - NODATA", "VPC flow record has no start or end time"),
        ("2 123456789010 eni-1235b8ca123456789 172.31.16.300 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK", "VPC flow record has a bad srcaddr"),
        ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 fe80::zz 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK", "VPC flow record has a bad dstaddr"),
        ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 DROP OK", "VPC flow record has a bad action"),
        ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT MAYBE", "VPC flow record has a bad log-status"),
    ])
    func badValuesAreQuarantined(line: String, reason: String) {
        let out = parseVPC([VPCFixtures.accepted, line, VPCFixtures.rejected].joined(separator: "\n"))
        #expect(out.events.count == 2 && out.records == 3)
        #expect(out.quarantined.map(\.reason) == [reason])
        #expect(out.quarantined.first?.bytes == Array(line.utf8) && out.quarantined.first?.line == 2)
        #expect(out.quarantined.first?.offset == Int64(VPCFixtures.accepted.utf8.count + 1))
    }

    @Test func binaryGarbageIsQuarantinedAndTheRestKept() {
        var bytes = Array((VPCFixtures.accepted + "\n").utf8)
        let garbage: [UInt8] = (0 ..< 200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }.filter { $0 != 0x0A && $0 != 0x0D }
        bytes += garbage + [0x0A] + Array(VPCFixtures.rejected.utf8)
        let out = parseVPC(bytes)
        #expect(out.events.map(\.action) == ["ACCEPT", "REJECT"])
        #expect(out.quarantined.map(\.reason) == ["binary data (non-text bytes)"])
        #expect(out.quarantined.first?.bytes == garbage)
    }

    /// Bytes that are not UTF-8 inside a field: the event is kept, `raw` is byte-exact.
    @Test func nonUTF8InsideAFieldKeepsTheEvent() {
        var line = Array("3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca1234".utf8)
        line += [0xFF, 0xFE]
        line += Array(" 123456789012 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK".utf8)
        let out = parseVPC(Array((VPCFixtures.v3Header + "\n").utf8) + line)
        #expect(out.quarantined.isEmpty && out.events.count == 1)
        #expect(out.events.first?.raw == line)
        #expect(out.events.first?.resource == "eni-1235b8ca1234\u{FFFD}\u{FFFD}")
        #expect(out.events.first?.bytes == 568)
    }

    @Test func accountComesFromTheRecordThenThePathThenTheOperator() {
        // "unknown" gives way to the path's account.
        #expect(parseVPC(VPCFixtures.unknownAccount).events.first?.account == "111122223333")
        // No path account: the operator's.
        let flat = parseVPC(VPCFixtures.unknownAccount, file: "flows.log", account: "444455556666")
        #expect(flat.events.first?.account == "444455556666" && flat.events.first?.region == nil)
        // Neither: quarantined; records with their own account are still kept.
        let none = parseVPC(VPCFixtures.unknownAccount + "\n" + VPCFixtures.accepted, file: "flows.log")
        #expect(none.quarantined.map(\.reason) == [ParseContext.noAccountReason])
        #expect(none.events.map(\.account) == ["123456789010"])
    }

    @Test func blankLinesAreNotRecords() {
        let out = parseVPC("\n" + VPCFixtures.defaultHeader + "\n\n  \n" + VPCFixtures.accepted + "\n\n")
        #expect(out.records == 1 && out.events.count == 1 && out.quarantined.isEmpty)
    }

    @Test func recognition() {
        func recognised(_ s: String) -> Bool { Array(s.utf8).withUnsafeBytes { VPCFlowParser.recognises($0) } }
        func detected(_ s: String) -> InputFormat? { InputFormat.detect(prefix: Array(s.utf8), path: "x.log") }
        for header in [VPCFixtures.defaultHeader, VPCFixtures.v3Header, VPCFixtures.v5Header, VPCFixtures.tgwHeader] {
            #expect(recognised(header + "\n"))
            #expect(detected(header + "\n") == .vpcflow)
        }
        #expect(detected(VPCFixtures.accepted + "\n" + VPCFixtures.rejected) == .vpcflow)
        #expect(detected(VPCFixtures.unknownAccount) == .vpcflow)
        #expect(recognised("version account-id interface-id action log-status") == false, "no address column")
        #expect(recognised("3 123456789010 eni-1235b8ca123456789") == false)
        #expect(recognised("2 12345 eni-1235b8ca123456789") == false)
        #expect(recognised(#"{"Records":[]}"#) == false)
        #expect(recognised("2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80") == false)
    }
}
