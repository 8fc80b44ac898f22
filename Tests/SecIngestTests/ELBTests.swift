import Foundation
import SecModel
import Testing
@testable import SecIngest

/// Load balancer access log lines after the examples in the Elastic Load Balancing
/// guides ("Access log entries", "Example log entries") for Application, Classic and
/// Network Load Balancers.
enum ELBFixtures {
    static let albHTTP = #"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90"#
    static let albHTTPS = #"https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90"#
    static let albH2 = #"h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 302 302 5 257 "GET https://10.0.2.105:773/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337327-72bd00b0343d75b906739c42" "-" "-" 1 2018-07-02T22:22:48.364000Z "redirect" "https://example.com:80/" "-" "10.0.0.66:9000" "302" "-" "-" TID_1234abcd5678ef90"#
    static let albGRPCS = #"grpcs 2024-02-10T08:15:30.123456Z app/grpc-lb/0f1e2d3c4b5a6978 203.0.113.40:50222 10.0.2.17:50051 0.000 0.012 0.000 200 200 412 96 "POST https://api.example.com:443/helloworld.Greeter/SayHello HTTP/2.0" "grpc-java-netty/1.58.0" TLS_AES_128_GCM_SHA256 TLSv1.3 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/grpc/0a1b2c3d4e5f6a7b "Root=1-65c7303a-0a1b2c3d4e5f6a7b8c9d0e1f" "api.example.com" "arn:aws:acm:eu-west-1:123456789012:certificate/87654321-4321-4321-4321-210987654321" 10 2024-02-10T08:15:30.110000Z "forward" "-" "-" "10.0.2.17:50051" "200" "-" "-" TID_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"#
    static let albWS = #"ws 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 101 101 218 587 "GET http://10.0.0.30:80/ HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.1.192:8010" "101" "-" "-" TID_1234abcd5678ef90"#
    static let albWSS = #"wss 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:44244 10.0.0.171:8010 0.000 0.001 0.000 101 101 218 786 "GET https://10.0.0.30:443/ HTTP/1.1" "-" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.171:8010" "101" "-" "-" TID_1234abcd5678ef90"#
    /// A Lambda target that failed: no target address, an error reason, 502.
    static let albLambdaFailed = #"http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-" TID_1234abcd5678ef90"#
    /// An IPv6 client refused by the load balancer (no target) with a query string.
    static let albIPv6Denied = #"https 2024-05-01T12:00:01.000200Z app/web/1a2b3c4d5e6f7a8b 2001:db8:4006:812::200e:51334 - -1 -1 -1 403 - 120 253 "POST https://www.example.com:443/login?next=%2Fadmin HTTP/1.1" "Mozilla/5.0 (X11; Linux x86_64) \"quoted\"" TLS_AES_128_GCM_SHA256 TLSv1.3 - "Root=1-66322e91-0a1b2c3d4e5f6a7b8c9d0e1f" "www.example.com" "arn:aws:acm:eu-west-1:123456789012:certificate/87654321-4321-4321-4321-210987654321" 0 2024-05-01T12:00:01.000000Z "waf" "-" "-" "-" "-" "-" "-" TID_5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c"#
    /// An older file: fields end after `"request"`.
    static let albOld = #"http 2016-08-10T22:08:42.945958Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 404 404 34 366 "GET http://www.example.com:80/missing HTTP/1.1""#
    /// Fields AWS added after this parser was written: ignored.
    static let albFuture = albHTTP + #" "transformed.example.com" "/new" "-" extra"#

    static let classicHTTP = #"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -"#
    static let classicHTTPS = #"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 500 500 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2"#
    static let classicTCP = #"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -"#
    static let classicSSL = #"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001065 0.000015 0.000023 - - 57 502 "- - - " "-" ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2"#
    /// No backend could take the request.
    static let classicNoBackend = #"2015-05-13T23:39:44.000001Z my-loadbalancer 192.168.131.40:2818 - -1 -1 -1 503 0 0 0 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -"#

    static let nlb = #"tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com h2 h2 "h2","http/1.1" 2020-04-01T08:51:42"#
    /// A client that gave up during the handshake (alert 40, handshake_failure).
    static let nlbHandshakeFailed = #"tls 2.0 2018-12-20T02:59:41 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.155:51342 172.100.100.185:443 3 - 60 0 40 - - - - - - - - - - 2018-12-20T02:59:41"#

    static let albLines = [albHTTP, albHTTPS, albH2, albGRPCS, albWS, albWSS, albLambdaFailed, albIPv6Denied, albOld, albFuture]
    static let classicLines = [classicHTTP, classicHTTPS, classicTCP, classicSSL, classicNoBackend]
    static let nlbLines = [nlb, nlbHandshakeFailed]

    static let path = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2018/07/02/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.50dc6c495c0c9188_20180702T2225Z_10.0.0.1_4q2oa5q5.log"
}

func parseELB(_ text: String, file: String = ELBFixtures.path, account: String? = nil) -> ParseOutput {
    parseELB(Array(text.utf8), file: file, account: account)
}

func parseELB(_ bytes: [UInt8], file: String = ELBFixtures.path, account: String? = nil) -> ParseOutput {
    bytes.withUnsafeBytes { IngestParser.parse(bytes: $0, file: file, format: .alb, account: account) }
}

/// The fields of a load balancer log line, split with Strings (an oracle independent of
/// `Text.splitQuoted`): quoted fields without their quotes, escapes kept.
func oracleFields(_ line: String) -> [String] {
    var fields: [String] = []
    var i = line.startIndex
    while i < line.endIndex {
        if line[i] == "\"" {
            var j = line.index(after: i)
            while j < line.endIndex && line[j] != "\"" {
                if line[j] == "\\" { j = line.index(after: j) }
                j = line.index(after: j)
            }
            fields.append(String(line[line.index(after: i) ..< j]))
            i = line.index(after: j)
        } else {
            let j = line[i...].firstIndex(of: " ") ?? line.endIndex
            fields.append(String(line[i ..< j]))
            i = j
        }
        while i < line.endIndex && line[i] == " " { i = line.index(after: i) }
    }
    return fields
}

/// Checks every core field of `ev` against the line's own fields.
func expectMatchesLine(_ ev: Event, _ line: String, account: String = "123456789012", region: String? = "us-east-2",
                       sourceLocation: SourceLocation = #_sourceLocation) {
    let f = oracleFields(line)
    func v(_ i: Int) -> String? { i < f.count && f[i] != "-" ? f[i] : nil }
    func endpoint(_ i: Int) -> (IPAddress?, Int64?) {
        guard let s = v(i), let colon = s.lastIndex(of: ":") else { return (nil, nil) }
        return (IPAddress(s[..<colon]), Int64(s[s.index(after: colon)...]))
    }
    let kind: Source = f[0] == "tls" ? .nlb : f[0].first!.isNumber ? .elb : .alb
    let base = kind == .alb ? 1 : 0
    #expect(ev.source == kind && ev.account == account && ev.region == region, sourceLocation: sourceLocation)
    #expect(ev.raw == Array(line.utf8), sourceLocation: sourceLocation)
    #expect(ev.principal == nil && ev.accessKey == nil && ev.eventID == nil && ev.queryName == nil, sourceLocation: sourceLocation)
    #expect(ev.service == nil && ev.srcService == nil && ev.packets == nil, sourceLocation: sourceLocation)
    if kind == .nlb {
        #expect(ev.time == oracleMillis(f[2] + "Z"), sourceLocation: sourceLocation)
        #expect(ev.eventClass == .networkActivity && ev.proto == 6, sourceLocation: sourceLocation)
        #expect(ev.resource == f[3] && ev.resourceType == "AWS::ElasticLoadBalancingV2::LoadBalancer", sourceLocation: sourceLocation)
        #expect((ev.srcIP, ev.srcPort) == endpoint(5) && (ev.dstIP, ev.dstPort) == endpoint(6), sourceLocation: sourceLocation)
        #expect(ev.bytes == Int64(f[9])! + Int64(f[10])!, sourceLocation: sourceLocation)
        #expect(ev.outcome == (v(8) == nil ? .failure : .success), sourceLocation: sourceLocation)
        #expect(ev.errorCode == v(11), sourceLocation: sourceLocation)
        #expect(ev.action == nil && ev.url == nil && ev.httpStatus == nil && ev.userAgent == nil, sourceLocation: sourceLocation)
        return
    }
    #expect(ev.time == oracleMillis(f[base]), sourceLocation: sourceLocation)
    #expect(ev.resource == f[base + 1], sourceLocation: sourceLocation)
    #expect(ev.resourceType == (kind == .alb ? "AWS::ElasticLoadBalancingV2::LoadBalancer" : "AWS::ElasticLoadBalancing::LoadBalancer"),
            sourceLocation: sourceLocation)
    #expect((ev.srcIP, ev.srcPort) == endpoint(base + 2), sourceLocation: sourceLocation)
    #expect((ev.dstIP, ev.dstPort) == endpoint(base + 3), sourceLocation: sourceLocation)
    let status = v(base + 7).flatMap { Int64($0) }
    #expect(ev.httpStatus == status, sourceLocation: sourceLocation)
    #expect(ev.outcome == (status.map { $0 < 400 ? .success : .failure } ?? .unknown), sourceLocation: sourceLocation)
    #expect(ev.bytes == Int64(f[base + 9])! + Int64(f[base + 10])!, sourceLocation: sourceLocation)
    let request = f[base + 11].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    let method = request[0] == "-" ? nil : request[0]
    #expect(ev.action == method, sourceLocation: sourceLocation)
    #expect(ev.url == (method == nil ? nil : request[1]), sourceLocation: sourceLocation)
    #expect(ev.userAgent == v(base + 12), sourceLocation: sourceLocation)
    #expect(ev.errorCode == (kind == .alb ? v(24) : nil), sourceLocation: sourceLocation)
    let isConnection = kind == .elb && method == nil && status == nil
    #expect(ev.eventClass == (isConnection ? .networkActivity : .httpActivity), sourceLocation: sourceLocation)
}

@Suite struct ELBTests {
    @Test func applicationLoadBalancerLines() {
        let out = parseELB(ELBFixtures.albLines.joined(separator: "\n") + "\n")
        #expect(out.quarantined.isEmpty && out.events.count == ELBFixtures.albLines.count)
        for (ev, line) in zip(out.events, ELBFixtures.albLines) { expectMatchesLine(ev, line) }

        // The first line, by hand.
        let ev = out.events[0]
        #expect(ev.source == .alb && ev.eventClass == .httpActivity && ev.time == 1_530_570_180_186)
        #expect(ev.account == "123456789012" && ev.region == "us-east-2")
        #expect(ev.action == "GET" && ev.url == "http://www.example.com:80/" && ev.httpStatus == 200 && ev.outcome == .success)
        #expect(ev.srcIP == IPAddress("192.168.131.39") && ev.srcPort == 2817)
        #expect(ev.dstIP == IPAddress("10.0.0.1") && ev.dstPort == 80 && ev.bytes == 400)
        #expect(ev.userAgent == "curl/7.46.0" && ev.errorCode == nil)
        #expect(ev.resource == "app/my-loadbalancer/50dc6c495c0c9188" && ev.resourceType == "AWS::ElasticLoadBalancingV2::LoadBalancer")
    }

    @Test func applicationLoadBalancerSpecialCases() {
        let events = parseELB(ELBFixtures.albLines.joined(separator: "\n")).events
        #expect(events.map(\.source).allSatisfy { $0 == .alb })
        let lambda = events[6]
        #expect(lambda.dstIP == nil && lambda.dstPort == nil && lambda.httpStatus == 502 && lambda.outcome == .failure)
        #expect(lambda.errorCode == "LambdaInvalidResponse")
        let denied = events[7]
        #expect(denied.srcIP == IPAddress("2001:db8:4006:812::200e") && denied.srcPort == 51334)
        #expect(denied.action == "POST" && denied.url == "https://www.example.com:443/login?next=%2Fadmin")
        #expect(denied.userAgent == #"Mozilla/5.0 (X11; Linux x86_64) \"quoted\""#, "as logged, escapes kept")
        #expect(denied.httpStatus == 403 && denied.outcome == .failure)
        #expect(events[8].httpStatus == 404 && events[8].userAgent == nil && events[8].url == "http://www.example.com:80/missing")
        #expect(events[4].httpStatus == 101 && events[4].userAgent == nil && events[4].outcome == .success)
        #expect(events[3].action == "POST" && events[3].time == 1_707_552_930_123)
    }

    @Test func classicLoadBalancerLines() {
        let out = parseELB(ELBFixtures.classicLines.joined(separator: "\n"))
        #expect(out.quarantined.isEmpty && out.events.count == ELBFixtures.classicLines.count)
        for (ev, line) in zip(out.events, ELBFixtures.classicLines) { expectMatchesLine(ev, line) }
        let tcp = out.events[2]
        #expect(tcp.source == .elb && tcp.eventClass == .networkActivity && tcp.outcome == .unknown)
        #expect(tcp.action == nil && tcp.url == nil && tcp.userAgent == nil && tcp.bytes == 387)
        #expect(tcp.resource == "my-loadbalancer" && tcp.resourceType == "AWS::ElasticLoadBalancing::LoadBalancer")
        #expect(out.events[1].httpStatus == 500 && out.events[1].outcome == .failure)
        #expect(out.events[4].dstIP == nil && out.events[4].httpStatus == 503)
    }

    @Test func networkLoadBalancerLines() {
        let out = parseELB(ELBFixtures.nlbLines.joined(separator: "\n"))
        #expect(out.quarantined.isEmpty && out.events.count == 2)
        for (ev, line) in zip(out.events, ELBFixtures.nlbLines) { expectMatchesLine(ev, line) }
        let ok = out.events[0]
        #expect(ok.time == 1_545_274_780_000 && ok.outcome == .success && ok.errorCode == nil && ok.bytes == 344)
        #expect(ok.srcIP == IPAddress("72.21.218.154") && ok.dstPort == 443)
        #expect(ok.resource == "net/my-network-loadbalancer/c6e77e28c25b2234")
        #expect(out.events[1].outcome == .failure && out.events[1].errorCode == "40")
    }

    /// One input may mix the three: each line is told apart on its own.
    @Test func mixedInput() {
        let lines = [ELBFixtures.classicHTTP, ELBFixtures.albHTTP, ELBFixtures.nlb, ELBFixtures.classicTCP, ELBFixtures.albWSS]
        for format: InputFormat in [.alb, .elb, .nlb] {
            let text = lines.joined(separator: "\r\n")
            let out = Array(text.utf8).withUnsafeBytes {
                IngestParser.parse(bytes: $0, file: ELBFixtures.path, format: format)
            }
            #expect(out.events.map(\.source) == [.elb, .alb, .nlb, .elb, .alb])
            for (ev, line) in zip(out.events, lines) { expectMatchesLine(ev, line) }
        }
    }

    @Test func variants() {
        func variant(_ s: String) -> InputFormat? { Array(s.utf8).withUnsafeBytes { ELBParser.variant($0) } }
        for line in ELBFixtures.albLines { #expect(variant(line + "\n") == .alb) }
        for line in ELBFixtures.classicLines { #expect(variant(line) == .elb) }
        for line in ELBFixtures.nlbLines { #expect(variant(line) == .nlb) }
        #expect(variant("\n" + ELBFixtures.albHTTP) == .alb)
        #expect(variant(VPCFixtures.accepted) == nil)
        #expect(variant(#"{"Records":[]}"#) == nil)
        #expect(variant("2024-03-01 12:00:00 UTC:10.0.0.1(5432):app@db:[123]:LOG:  connection received") == nil)
        #expect(variant("http not-a-time app/x/y 1.2.3.4:5 - 0 0 0 200 200 1 1 \"GET / HTTP/1.1\"") == nil)
        // Detection: content alone, and the elasticloadbalancing path with content.
        #expect(InputFormat.detect(prefix: Array(ELBFixtures.classicHTTP.utf8), path: "elb.log") == .elb)
        #expect(InputFormat.detect(prefix: Array(ELBFixtures.nlb.utf8), path: ELBFixtures.path) == .nlb)
        #expect(InputFormat.detect(prefix: Array(ELBFixtures.albH2.utf8), path: "x.log") == .alb)
    }

    @Test(arguments: [
        (#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366"#,
         "ALB log line has 12 fields, at least 13 expected"),
        (#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1"#,
         "ALB log line has an unclosed quote"),
        (#"http 2018-07-02T25:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0""#,
         "ALB log line has a bad time"),
        (#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.390:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0""#,
         "ALB log line has a bad client"),
        (#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0""#,
         "ALB log line has a bad target"),
        (#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 2OO 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0""#,
         "ALB log line has a bad elb_status_code"),
        (#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 x 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -"#,
         "Classic ELB log line has a bad received_bytes"),
        (#"tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98"#,
         "NLB log line has 10 fields, at least 11 expected"),
        ("quic 2024-01-01T00:00:00Z app/x/y 1.2.3.4:5 - 0 0 0 200 200 1 1", "not an ALB, Classic ELB or NLB access log line"),
    ])
    func badLinesAreQuarantined(line: String, reason: String) {
        let out = parseELB([ELBFixtures.albHTTP, line, ELBFixtures.classicHTTP].joined(separator: "\n"))
        #expect(out.events.map(\.source) == [.alb, .elb] && out.records == 3)
        #expect(out.quarantined.map(\.reason) == [reason])
        #expect(out.quarantined.first?.bytes == Array(line.utf8) && out.quarantined.first?.line == 2)
    }

    @Test func binaryGarbageIsQuarantinedAndTheRestKept() {
        let garbage: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xED, 0xBD, 0x07, 0x60, 0x1C, 0x49]
        let bytes = Array((ELBFixtures.albHTTP + "\n").utf8) + garbage + [0x0A] + Array(ELBFixtures.nlb.utf8)
        let out = parseELB(bytes)
        #expect(out.events.map(\.source) == [.alb, .nlb])
        #expect(out.quarantined.map(\.reason) == ["binary data (non-text bytes)"])
        #expect(out.quarantined.first?.bytes == garbage)
    }

    /// Bytes that are not UTF-8 in the user agent: the event is kept, `raw` is byte-exact.
    @Test func nonUTF8InsideAFieldKeepsTheEvent() {
        let parts = ELBFixtures.albHTTP.components(separatedBy: "curl/7.46.0")
        let line = Array(parts[0].utf8) + Array("curl/".utf8) + [0xC3, 0x28, 0xFF] + Array(parts[1].utf8)
        let out = parseELB(line)
        #expect(out.quarantined.isEmpty && out.events.count == 1)
        #expect(out.events.first?.raw == line)
        #expect(out.events.first?.userAgent == "curl/\u{FFFD}(\u{FFFD}")
        #expect(out.events.first?.httpStatus == 200)
    }

    @Test func accountAndRegionComeFromThePathOrTheOperator() {
        let flat = parseELB(ELBFixtures.albHTTP, file: "alb.log", account: "444455556666")
        #expect(flat.events.first?.account == "444455556666" && flat.events.first?.region == nil)
        let none = parseELB(ELBFixtures.albHTTP + "\n" + ELBFixtures.nlb, file: "alb.log")
        #expect(none.events.isEmpty && none.quarantined.map(\.reason) == [ParseContext.noAccountReason, ParseContext.noAccountReason])
    }

    @Test func blankLinesAreNotRecords() {
        let out = parseELB("\n" + ELBFixtures.albHTTP + "\n \n\n" + ELBFixtures.classicSSL + "\n")
        #expect(out.records == 2 && out.events.count == 2)
    }
}
