import SecModel

/// Route 53 Resolver query logs: one JSON object per query, as Resolver writes them to
/// S3 (`AWSLogs/<account>/vpcdnsquerylogs/<vpc>/...`, JSON lines) or CloudWatch Logs.
///
/// Records are walked by ``DocumentWalker`` (one per line, pretty-printed, or in an
/// array), so bad lines are quarantined and the rest kept as for CloudTrail. See
/// ``Route53Normaliser`` for the mapping.
enum Route53Parser {
    /// Whether an input whose first JSON text starts here is a resolver query log: the
    /// first object has `query_name` and `query_type`, and `srcaddr` or `account_id`.
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool {
        let probe = JSONProbe(content)
        return probe.has("query_name") && probe.has("query_type") && (probe.has("srcaddr") || probe.has("account_id"))
    }

    /// Parses a piece of an input (whole lines, or the whole input).
    static func parse(bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext) -> ParseOutput {
        var walker = DocumentWalker(buf: bytes, context: context, baseOffset: offset, baseLine: line,
                                    norm: context.scratch.route53)
        return walker.run()
    }
}

/// Turns one resolver query log record into a `dns_activity` event.
///
/// ## Mapping
///
/// - `time`: `query_timestamp` (RFC 3339; `YYYY-MM-DD hh:mm:ss` is taken as UTC).
///   Missing: refused, `record has no query_timestamp`.
/// - `account`: `account_id`, else the path's, else `--account`; `region`: `region`,
///   else the path's.
/// - `query_name`: `query_name` lower-cased (ASCII) without its trailing dot, so
///   `Example.COM.` is `example.com` (the root, `.`, stays `.`); the name as logged is in
///   `raw.query_name`.
/// - `action`: `query_type` (`A`, `AAAA`, `PTR`, ...).
/// - `outcome`: `failure` when `rcode` is not `NOERROR` or DNS Firewall blocked the
///   query (`firewall_rule_action` `BLOCK`, whatever the `rcode` of the answer it gave),
///   `success` when `rcode` is `NOERROR`, `unknown` when there is no `rcode`.
///   `ALERT` and `ALLOW` do not change the outcome. `firewall_rule_action`,
///   `firewall_rule_group_id` and `firewall_domain_list_id` stay in `raw`.
/// - `error_code`: `rcode` when it is not `NOERROR` (`NXDOMAIN`, `SERVFAIL`, ...).
/// - `src_ip`, `src_port`: `srcaddr`, `srcport` (a string in the logs; numbers accepted).
/// - `protocol`: `transport` `UDP` 17, `TCP` 6; others (`DoH`) none.
/// - `resource`, `resource_type`: `srcids.instance` and `AWS::EC2::Instance`, else
///   `vpc_id` and `AWS::EC2::VPC`.
///
/// A record without `query_name` is refused: `not a Route 53 resolver query log record
/// (no query_name)`.
final class Route53Normaliser: JSONRecordNormaliser {
    let tape = TapeReader()
    var scanner: JSONScanner { tape.scanner }
    /// The query name being normalised.
    private var name: [UInt8] = []

    static let layout = JSONLayout(
        recordName: "Route 53 resolver query log record", documentKeys: [], documentFirstKeys: [],
        recordStartKeys: ["version", "srcaddr"],
        recordKeys: [
            "version", "account_id", "region", "vpc_id", "query_timestamp", "query_name", "query_type",
            "query_class", "rcode", "answers", "srcaddr", "srcport", "transport", "srcids",
            "firewall_rule_action", "firewall_rule_group_id", "firewall_domain_list_id",
        ])

    /// Indexes (on the tape) of the fields the mapping reads; -1 when absent.
    private struct Fields {
        var time = -1, account = -1, region = -1, vpc = -1, name = -1, type = -1, rcode = -1
        var address = -1, port = -1, transport = -1, ids = -1, firewall = -1
    }

    private func collect() -> Fields {
        var f = Fields()
        tape.forEachMember(0) { k, i in
            @inline(__always) func set(_ slot: inout Int) { if slot < 0 { slot = i } }
            switch k.count {
            case 5: if k.equals("rcode") { set(&f.rcode) }
            case 6: if k.equals("region") { set(&f.region) } else if k.equals("vpc_id") { set(&f.vpc) }
                else if k.equals("srcids") { set(&f.ids) }
            case 7: if k.equals("srcaddr") { set(&f.address) } else if k.equals("srcport") { set(&f.port) }
            case 9: if k.equals("transport") { set(&f.transport) }
            case 10:
                if k.equals("account_id") { set(&f.account) } else if k.equals("query_name") { set(&f.name) }
                else if k.equals("query_type") { set(&f.type) }
            case 15: if k.equals("query_timestamp") { set(&f.time) }
            case 20: if k.equals("firewall_rule_action") { set(&f.firewall) }
            default: break
            }
        }
        return f
    }

    func normalise(_ record: UnsafeRawBufferPointer, context: ParseContext,
                   into events: inout [Event]) -> JSONRecordResult {
        guard scanner.count > 0, scanner[0].kind == .object else {
            return .refused("not a Route 53 resolver query log record (not a JSON object)")
        }
        let f = collect()
        guard tape.isText(f.name) else { return .refused("not a Route 53 resolver query log record (no query_name)") }
        guard f.time >= 0, scanner[f.time].kind != .null else { return .refused("record has no query_timestamp") }
        guard let time = tape.time(f.time) else {
            return .refused("query_timestamp '\(tape.quotedValue(f.time))' is not RFC 3339")
        }
        guard let account = context.account(record: tape.text(f.account)) else {
            return .refused(ParseContext.noAccountReason)
        }
        var ev = Event(time: time, account: account, source: .route53, eventClass: .dnsActivity, raw: Array(record))
        ev.region = tape.text(f.region) ?? context.pathRegion
        ev.queryName = tape.withText(f.name) { b in
            Text.dnsName(b, into: &name)
            return name.withUnsafeBytes { tape.intern($0) }
        }
        ev.action = tape.text(f.type)
        let rcode = tape.text(f.rcode)
        if let rcode, rcode != "NOERROR" { ev.errorCode = rcode }
        if tape.textIs(f.firewall, "BLOCK") || ev.errorCode != nil {
            ev.outcome = .failure
        } else if rcode != nil {
            ev.outcome = .success
        }
        ev.srcIP = tape.ip(f.address)
        ev.srcPort = tape.integerOrDigits(f.port)
        if tape.isText(f.transport) { ev.proto = tape.withText(f.transport) { Text.ipProtocol($0) } }
        if let instance = tape.text(scanner.member(f.ids, "instance")) {
            ev.resource = instance
            ev.resourceType = "AWS::EC2::Instance"
        } else if let vpc = tape.text(f.vpc) {
            ev.resource = vpc
            ev.resourceType = "AWS::EC2::VPC"
        }
        events.append(ev)
        return .events
    }
}
