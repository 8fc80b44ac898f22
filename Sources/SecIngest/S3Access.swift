import SecModel

/// S3 server access logs: one request a line, space-separated fields, quoted request
/// line, referrer and user agent, bracketed time, `-` for a missing value.
///
/// ```
/// bucket_owner bucket [06/Feb/2019:00:00:38 +0000] remote_ip requester request_id operation key
///   "request_uri" http_status error_code bytes_sent object_size total_time turn_around_time
///   "referrer" "user_agent" version_id host_id signature_version cipher_suite
///   authentication_type host_header tls_version access_point_arn acl_required [source_region]
/// ```
///
/// AWS has added fields at the end over the years, so a line needs the fields up to the
/// user agent and may stop anywhere after it; fields beyond the ones known are ignored.
/// The record names no account (the bucket owner is a canonical user id): the account
/// comes from the path or `--account`. See docs/sources.md for the mapping.
enum S3AccessParser {
    /// Positions of the fields the mapping reads.
    private enum Field {
        static let owner = 0, bucket = 1, time = 2, remoteIP = 3, requester = 4, requestID = 5
        static let operation = 6, key = 7, requestURI = 8, status = 9, errorCode = 10, bytesSent = 11
        static let userAgent = 16
    }

    /// Fields every line has: up to and including the user agent.
    static let minimumFields = Field.userAgent + 1

    /// Whether an input's first line is an S3 access log record: a canonical user id (64
    /// hex digits) or `-`, a bucket name, then the bracketed time.
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool {
        var cursor = LineCursor(content, offset: 0, line: 1)
        guard let first = cursor.next()?.text else { return false }
        var fields: [Range<Int>] = []
        guard Text.splitQuoted(first, into: &fields), fields.count > Field.time else { return false }
        let owner = first[slice: fields[Field.owner]]
        let ownerOK = Text.isDash(owner) || (owner.count == 64 && owner.allSatisfy(isHexDigit))
        return ownerOK && fields[Field.bucket].count > 0 && time(first[slice: fields[Field.time]]) != nil
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        var cursor = LineCursor(bytes, offset: offset, line: line)
        var fields: [Range<Int>] = []
        fields.reserveCapacity(32)
        while let l = cursor.next() {
            if Text.isBlank(l.text) { continue }
            out.take(context, l.text, offset: l.offset, line: l.line) { () throws(Refusal) in
                try event(l.text, fields: &fields, context: context)
            }
        }
    }

    /// The event of one line; `fields` is reused from line to line.
    static func event(_ line: UnsafeRawBufferPointer, fields f: inout [Range<Int>],
                      context: ParseContext) throws(Refusal) -> Event {
        guard Text.splitQuoted(line, into: &f) else { throw Refusal("unclosed quote or bracket") }
        guard f.count >= minimumFields else { throw Refusal("too few fields: \(f.count), at least \(minimumFields)") }
        let fields = f
        func field(_ i: Int) -> UnsafeRawBufferPointer { line[slice: fields[i]] }

        guard let time = time(field(Field.time)) else { throw Refusal("bad time") }
        var ev = Event(time: time, account: try context.accountOrRefuse(), source: .s3access,
                       eventClass: .datastoreActivity, raw: Array(line))
        ev.region = context.pathRegion
        ev.action = Text.present(field(Field.operation))
        // Requests AWS services make for the bucket owner can name the service where an
        // address would be (as CloudTrail's sourceIPAddress does).
        let remote = field(Field.remoteIP)
        if Text.firstIndex(of: ".amazonaws.com", in: remote) != nil {
            ev.srcService = Text.string(remote)
        } else {
            ev.srcIP = try Text.address(remote, "remote IP")
        }
        (ev.principal, ev.principalType) = requester(field(Field.requester))
        ev.eventID = Text.present(field(Field.requestID))
        ev.url = requestTarget(field(Field.requestURI))
        ev.httpStatus = try Text.number(field(Field.status), "HTTP status")
        ev.errorCode = Text.present(field(Field.errorCode))
        // AWS writes `-` for zero bytes sent.
        ev.bytes = try Text.number(field(Field.bytesSent), "bytes sent") ?? 0
        ev.userAgent = Text.present(field(Field.userAgent))
        if let status = ev.httpStatus { ev.outcome = status < 400 ? .success : .failure }

        let bucket = Text.string(field(Field.bucket))
        let key = field(Field.key)
        if key.count == 0 || Text.isDash(key) {
            ev.resource = bucket
            ev.resourceType = "AWS::S3::Bucket"
        } else {
            ev.resource = bucket + "/" + Text.percentDecoded(key)
            ev.resourceType = "AWS::S3::Object"
        }
        return ev
    }

    /// `[06/Feb/2019:00:00:38 +0000]` in milliseconds since the epoch (UTC).
    static func time(_ b: UnsafeRawBufferPointer) -> Int64? {
        guard b.count >= 25, b[0] == 91, b[b.count - 1] == 93, b[3] == 47, b[7] == 47, b[12] == 58, b[21] == 32,
              let day = Text.digits(b, at: 1, count: 2), let month = month(b[slice: 4 ..< 7]),
              let year = Text.digits(b, at: 8, count: 4),
              let date = Text.dayMillis(year: year, month: month, day: day),
              let clock = Text.clockMillis(b[slice: 13 ..< 21]),
              let zone = Text.utcOffset(b[slice: 22 ..< b.count - 1]) else { return nil }
        return date + clock - Int64(zone) * 1000
    }

    private static let months: [StaticString] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Jan` ... `Dec` as 1 ... 12.
    private static func month(_ b: UnsafeRawBufferPointer) -> Int? {
        months.firstIndex { b.equals($0) }.map { $0 + 1 }
    }

    /// The principal and its type from the requester field: an IAM ARN (type from the
    /// ARN), a canonical user id (`CanonicalUser`), `svc:<service>` (`AWSService`), or
    /// `-` for an unauthenticated request (no principal, type `Anonymous`).
    static func requester(_ b: UnsafeRawBufferPointer) -> (String?, String?) {
        if b.count == 0 || Text.isDash(b) { return (nil, "Anonymous") }
        let name = Text.string(b)
        if b.hasPrefix("arn:") { return (name, arnPrincipalType(name)) }
        if b.hasPrefix("svc:") { return (name, "AWSService") }
        if b.count == 64 && b.allSatisfy(isHexDigit) { return (name, "CanonicalUser") }
        return (name, nil)
    }

    /// `Root`, `IAMUser`, `AssumedRole`, `Role` or `FederatedUser` from an IAM or STS ARN.
    static func arnPrincipalType(_ arn: String) -> String? {
        // arn:partition:service:region:account:resource
        guard let resource = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).dropFirst(5).first
        else { return nil }
        if resource == "root" { return "Root" }
        return principalKinds.first { resource.hasPrefix($0.prefix) }?.type
    }

    /// ARN resource prefixes and the principal type they name.
    private static let principalKinds: [(prefix: String, type: String)] = [
        ("user/", "IAMUser"), ("assumed-role/", "AssumedRole"), ("role/", "Role"), ("federated-user/", "FederatedUser"),
    ]

    /// The request target of `"GET /bucket/key?x HTTP/1.1"`; the field whole when it is
    /// not a request line; nil for `-`.
    static func requestTarget(_ b: UnsafeRawBufferPointer) -> String? {
        guard b.count > 0, !Text.isDash(b) else { return nil }
        guard let first = Bytes.firstIndex(of: 32, in: b), let last = Bytes.lastIndex(of: 32, in: b), last > first + 1
        else { return Text.string(b) }
        return Text.string(b[slice: first + 1 ..< last])
    }

    @inline(__always)
    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
    }
}
