import SecModel

/// Elastic Load Balancing access logs: ALB, Classic ELB and NLB (TLS), told apart per line.
///
/// Every line is space-separated fields, some of them quoted (`"GET http://... HTTP/1.1"`),
/// `-` for a value that is missing. The first field tells the three apart:
/// - Application Load Balancer: the connection type (`http`, `https`, `h2`, `grpcs`,
///   `ws`, `wss`), then `time elb client:port target:port request_processing_time
///   target_processing_time response_processing_time elb_status_code target_status_code
///   received_bytes sent_bytes "request" "user_agent" ssl_cipher ssl_protocol
///   target_group_arn "trace_id" "domain_name" "chosen_cert_arn" ...` up to
///   `conn_trace_id`. The fields after `"request"` are optional (older files end
///   earlier) and fields after the documented ones are ignored.
/// - Classic Load Balancer: the time first, then `elb client:port backend:port
///   request_processing_time backend_processing_time response_processing_time
///   elb_status_code backend_status_code received_bytes sent_bytes "request"
///   "user_agent" ssl_cipher ssl_protocol`. TCP and SSL listeners write `-` for the
///   status codes and `"- - - "` for the request.
/// - Network Load Balancer TLS listeners: `tls version time elb listener client:port
///   destination:port connection_time tls_handshake_time received_bytes sent_bytes
///   incoming_tls_alert chosen_cert_arn ...`.
///
/// Mapping (see docs/sources.md):
/// - `source` alb / elb / nlb; `class` http_activity, except Classic TCP/SSL
///   connections and NLB connections: network_activity.
/// - `time`: the `time` field (RFC 3339; NLB's carries no zone and is UTC).
/// - `account`, `region`: from the path (`AWSLogs/<account>/elasticloadbalancing/<region>/...`)
///   or the operator's `--account`; the records carry neither.
/// - `action`: the request's HTTP method; `url`: the request's URL as logged (not
///   decoded); `http_status`: `elb_status_code`; `outcome`: success below 400, failure
///   from 400, unknown when there is no status.
/// - `src_ip`, `src_port`: the client; `dst_ip`, `dst_port`: the target (backend,
///   destination), absent when the request was not forwarded.
/// - `bytes`: `received_bytes + sent_bytes` (all the traffic of the request or connection).
/// - `user_agent`; `error_code`: ALB's `error_reason`, NLB's `incoming_tls_alert`.
/// - `resource`: the `elb` field (`app/<name>/<id>`, `<name>`, `net/<name>/<id>`) with
///   `resource_type` `AWS::ElasticLoadBalancingV2::LoadBalancer` (ALB, NLB) or
///   `AWS::ElasticLoadBalancing::LoadBalancer` (Classic).
/// - NLB: `protocol` 6 (TLS runs over TCP); `outcome` success when the TLS handshake
///   completed (`tls_handshake_time` is a number), failure when it is `-`.
enum ELBParser {
    /// Which of the three an input starting with these bytes is, if any: its first line
    /// that is not blank must read as one of them.
    static func variant(_ content: UnsafeRawBufferPointer) -> InputFormat? {
        var lines = LineCursor(content, offset: 0, line: 1)
        while let l = lines.next() {
            if Text.isBlank(l.text) { continue }
            var fields: [Range<Int>] = []
            guard let kind = kind(of: l.text), Text.splitQuoted(l.text, into: &fields) else { return nil }
            let line = Line(text: l.text, fields: fields)
            let layout = kind.layout
            guard fields.count >= layout.minimum, Timestamp.parse(line[layout.time]) != nil,
                  Text.hostPort(line[layout.client]).ip != nil else { return nil }
            return kind
        }
        return nil
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        let state = context.state(ELBState.init)
        let account = context.account(record: nil)
        out.reserve(lines: Bytes.count(of: 0x0A, in: bytes) + 1)
        var lines = LineCursor(bytes, offset: offset, line: line)
        while let l = lines.next() {
            if Text.isBlank(l.text) { continue }
            if let reason = normalise(l.text, offset: l.offset, account: account, fields: &state.fields,
                                      context: context, into: &out) {
                out.refuse(context, l.text, offset: l.offset, line: l.line, reason: reason)
            }
        }
    }

    /// Normalises one line, whichever of the three it is, into `out`; returns why it
    /// was refused, nil when its event was kept.
    static func normalise(_ text: UnsafeRawBufferPointer, offset: Int64, account: String?, fields: inout [Range<Int>],
                          context: ParseContext, into out: inout ParseOutput) -> String? {
        guard let kind = kind(of: text) else { return "not an ALB, Classic ELB or NLB access log line" }
        let name = kind.name
        guard Text.splitQuoted(text, into: &fields) else { return "\(name) log line has an unclosed quote" }
        let layout = kind.layout
        guard fields.count >= layout.minimum else {
            return "\(name) log line has \(fields.count) fields, at least \(layout.minimum) expected"
        }
        guard let account else { return ParseContext.noAccountReason }
        do {
            try Line(text: text, fields: fields).keep(kind, layout: layout, account: account, offset: offset,
                                                      context: context, into: &out)
            return nil
        } catch {
            return "\(name) log line has a bad \(error.field)"
        }
    }

    /// Which of the three a line is, from its first field.
    static func kind(of line: UnsafeRawBufferPointer) -> InputFormat? {
        guard let c = line.first else { return nil }
        if c &- 48 < 10 { return .elb }
        let end = Bytes.firstIndex(of: 32, in: line) ?? line.count
        let type = line[slice: 0 ..< end]
        if type.equals("tls") { return .nlb }
        for t: StaticString in ["http", "https", "h2", "grpcs", "ws", "wss"] where type.equals(t) { return .alb }
        return nil
    }

    /// Where the fields the mapping reads are, per variant; -1 for none.
    struct Layout {
        var minimum: Int
        var time, elb, client, target, status, received, sent: Int
        var request = -1, agent = -1, error = -1, handshake = -1, alert = -1

        static let alb = Layout(minimum: 13, time: 1, elb: 2, client: 3, target: 4, status: 8, received: 10,
                                sent: 11, request: 12, agent: 13, error: 24)
        static let elb = Layout(minimum: 12, time: 0, elb: 1, client: 2, target: 3, status: 7, received: 9,
                                sent: 10, request: 11, agent: 12)
        static let nlb = Layout(minimum: 11, time: 2, elb: 3, client: 5, target: 6, status: -1, received: 9,
                                sent: 10, handshake: 8, alert: 11)
    }

    /// A field that does not parse as what it should hold.
    struct BadField: Error {
        let field: StaticString
    }

    /// A split line.
    struct Line {
        let text: UnsafeRawBufferPointer
        let fields: [Range<Int>]

        /// Field `i`; empty when the line has no such field (`i` past the end or -1).
        subscript(i: Int) -> UnsafeRawBufferPointer {
            i >= 0 && i < fields.count ? text[slice: fields[i]] : text[slice: 0 ..< 0]
        }

        /// Field `i` unless missing or `-`.
        func value(_ i: Int) -> UnsafeRawBufferPointer? {
            let v = self[i]
            return v.isEmpty || Text.isDash(v) ? nil : v
        }

        func number(_ i: Int, _ name: StaticString) throws(BadField) -> Int64? {
            guard let v = value(i) else { return nil }
            guard let n = Text.int(v) else { throw BadField(field: name) }
            return n
        }

        func endpoint(_ i: Int, _ name: StaticString) throws(BadField) -> (ip: IPAddress?, port: Int64?) {
            guard let v = value(i) else { return (nil, nil) }
            let hp = Text.hostPort(v)
            guard hp.ip != nil, hp.port != nil else { throw BadField(field: name) }
            return hp
        }

        func interned(_ i: Int, _ context: ParseContext) -> String? {
            value(i).map { context.scratch.strings.intern($0) }
        }

        /// Appends the line's event to `out`. Every value that can fail is read first:
        /// nothing can fail once the event exists.
        func keep(_ kind: InputFormat, layout: Layout, account: String, offset: Int64, context: ParseContext,
                  into out: inout ParseOutput) throws(BadField) {
            guard let time = Timestamp.parse(self[layout.time]) else { throw BadField(field: "time") }
            let client = try endpoint(layout.client, "client"), target = try endpoint(layout.target, "target")
            let received = try number(layout.received, "received_bytes"), sent = try number(layout.sent, "sent_bytes")
            let status = try number(layout.status, "elb_status_code")

            out.keep(time: time, account: account, source: kind == .alb ? .alb : kind == .nlb ? .nlb : .elb,
                     eventClass: kind == .nlb ? .networkActivity : .httpActivity, raw: Array(text),
                     offset: offset) { ev in
                ev.region = context.pathRegion
                (ev.srcIP, ev.srcPort) = client
                (ev.dstIP, ev.dstPort) = target
                if received != nil || sent != nil { ev.bytes = (received ?? 0) &+ (sent ?? 0) }
                ev.resource = interned(layout.elb, context)
                ev.resourceType = kind == .elb ? "AWS::ElasticLoadBalancing::LoadBalancer"
                                               : "AWS::ElasticLoadBalancingV2::LoadBalancer"
                if kind == .nlb {
                    ev.proto = 6
                    ev.outcome = value(layout.handshake) == nil ? .failure : .success
                    ev.errorCode = interned(layout.alert, context)
                } else {
                    ev.httpStatus = status
                    if let status { ev.outcome = status < 400 ? .success : .failure }
                    ev.userAgent = interned(layout.agent, context)
                    ev.errorCode = interned(layout.error, context)
                    applyRequest(layout.request, to: &ev, context)
                    if kind == .elb && ev.action == nil && status == nil { ev.eventClass = .networkActivity }
                }
            }
        }

        /// `action` and `url` from the request line `METHOD URL VERSION` (`- - - ` when
        /// there was no HTTP request). A request cut short (ALB keeps 8 KB of it) has no
        /// version: the URL runs to its end.
        private func applyRequest(_ i: Int, to ev: inout Event, _ context: ParseContext) {
            guard let request = value(i) else { return }
            let sp = Bytes.firstIndex(of: 32, in: request) ?? request.count
            let method = request[slice: 0 ..< sp]
            guard !method.isEmpty, !Text.isDash(method) else { return }
            ev.action = context.scratch.strings.intern(method)
            guard sp < request.count else { return }
            var end = request.count
            if let last = Bytes.lastIndex(of: 32, in: request), last > sp,
               last == request.count - 1 || request[slice: last + 1 ..< request.count].hasPrefix("HTTP/") {
                end = last
            }
            let url = request[slice: sp + 1 ..< end]
            if !url.isEmpty && !Text.isDash(url) { ev.url = context.scratch.strings.intern(url) }
        }
    }
}

extension InputFormat {
    /// The load balancer variant's name, for refusal reasons.
    fileprivate var name: String {
        switch self {
        case .alb: return "ALB"
        case .nlb: return "NLB"
        default: return "Classic ELB"
        }
    }

    fileprivate var layout: ELBParser.Layout {
        switch self {
        case .alb: return .alb
        case .nlb: return .nlb
        default: return .elb
        }
    }
}

/// Buffers an Elastic Load Balancing input reuses for every line.
final class ELBState {
    var fields: [Range<Int>] = []

    init() { fields.reserveCapacity(40) }
}
