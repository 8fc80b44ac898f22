import SecModel

/// CloudFront standard logs (W3C extended format): `#Version:` and `#Fields:` header
/// lines, then one request a line, tab-separated, `-` for a missing value.
///
/// The `#Fields` line names the columns, so logs with fewer fields (older ones) or a
/// chosen subset (standard logging v2) read the same way; it is kept in the input's
/// ``ParseContext`` for the chunks after the one holding it, and with the `#Version`
/// line as `context.header` for parsing a quarantined line again. Lines before any `#Fields`
/// line are read with the standard 33-field layout. The record names no account: it
/// comes from the path or `--account`. See docs/sources.md for the mapping.
enum CloudFrontParser {
    /// The standard log's columns, in order, as its `#Fields` line names them.
    static let standardFields = """
        date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) \
        cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol \
        cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type \
        cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte \
        x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end
        """

    /// Which column holds each field the mapping reads; -1 when there is none.
    struct Layout {
        /// Columns a line must have: the `#Fields` line's count, or, for the standard
        /// layout assumed without one, the columns up to the user agent.
        var columns: Int
        /// Whether a line must have exactly `columns` fields (a `#Fields` line was read).
        var exact: Bool
        var date = -1, time = -1, bytes = -1, clientIP = -1, method = -1, host = -1, uriStem = -1
        var status = -1, userAgent = -1, query = -1, requestID = -1, hostHeader = -1, clientPort = -1

        init(fields: [Substring], exact: Bool) {
            columns = fields.count
            self.exact = exact
            for (i, name) in fields.enumerated() {
                switch name {
                case "date": date = i
                case "time": time = i
                case "sc-bytes": bytes = i
                case "c-ip": clientIP = i
                case "cs-method": method = i
                case "cs(Host)": host = i
                case "cs-uri-stem": uriStem = i
                case "sc-status": status = i
                case "cs(User-Agent)": userAgent = i
                case "cs-uri-query": query = i
                case "x-edge-request-id": requestID = i
                case "x-host-header": hostHeader = i
                case "c-port": clientPort = i
                default: break
                }
            }
        }

        /// The layout a `#Fields:` line names.
        init(header: UnsafeRawBufferPointer) {
            let names = Text.string(header[slice: 8 ..< header.count]).split(whereSeparator: { $0 == " " || $0 == "\t" })
            self.init(fields: names, exact: true)
        }

        /// The standard layout, for lines before any `#Fields` line.
        static let standard: Layout = {
            var layout = Layout(fields: standardFields.split(separator: " "), exact: false)
            layout.columns = layout.userAgent + 1
            return layout
        }()
    }

    /// What a CloudFront input carries from chunk to chunk: the columns its last
    /// `#Fields` line named, and its last `#Version` line (for `context.header`).
    final class State {
        var layout = Layout.standard
        var version: [UInt8] = []
    }

    /// Whether an input starts with the W3C header of a CloudFront log: `#Version:` or
    /// `#Fields:` first, and a `#Fields:` line naming `x-edge-location` or
    /// `x-edge-request-id` among the header lines.
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool {
        guard content.hasPrefix("#Version:") || content.hasPrefix("#Fields:") else { return false }
        var cursor = LineCursor(content, offset: 0, line: 1)
        while let l = cursor.next(), l.text.hasPrefix("#") {
            if l.text.hasPrefix("#Fields:") {
                return InputFormat.contains(l.text, " x-edge-location") || InputFormat.contains(l.text, " x-edge-request-id")
            }
        }
        return false
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        let state = context.state(State.init)
        var cursor = LineCursor(bytes, offset: offset, line: line)
        var fields: [Range<Int>] = []
        fields.reserveCapacity(40)
        while let l = cursor.next() {
            if Text.isBlank(l.text) { continue }
            if l.text[0] == 35 { // '#': a header line, not a record
                readHeader(l.text, at: Int(l.offset - offset), in: bytes, state: state, context: context)
                continue
            }
            out.take(context, l.text, offset: l.offset, line: l.line) { () throws(Refusal) in
                try event(l.text, layout: state.layout, fields: &fields, context: context)
            }
        }
    }

    /// Takes the columns of a `#Fields` line, and keeps it with the `#Version` line
    /// before it, line ends included, as `context.header`: a quarantined line is parsed
    /// again after them.
    private static func readHeader(_ text: UnsafeRawBufferPointer, at start: Int, in bytes: UnsafeRawBufferPointer,
                                   state: State, context: ParseContext) {
        let isVersion = text.hasPrefix("#Version:")
        guard isVersion || text.hasPrefix("#Fields:") else { return }
        var end = start + text.count
        if end < bytes.count && bytes[end] == 13 { end += 1 }
        if end < bytes.count && bytes[end] == 10 { end += 1 }
        var line = Array(bytes[slice: start ..< end])
        if line.last != 10 { line.append(10) }
        if isVersion {
            state.version = line
        } else {
            state.layout = Layout(header: text)
            context.header = state.version + line
        }
    }

    /// The event of one line; `fields` is reused from line to line.
    static func event(_ line: UnsafeRawBufferPointer, layout: Layout, fields f: inout [Range<Int>],
                      context: ParseContext) throws(Refusal) -> Event {
        Text.split(line, separator: 9, into: &f)
        if layout.exact {
            guard f.count == layout.columns else {
                throw Refusal("\(f.count) fields where the #Fields line names \(layout.columns)")
            }
        } else {
            guard f.count >= layout.columns else { throw Refusal("too few fields: \(f.count), at least \(layout.columns)") }
        }
        let fields = f
        /// The column's bytes; empty when the layout has no such column.
        func column(_ i: Int) -> UnsafeRawBufferPointer {
            i >= 0 && i < fields.count ? line[slice: fields[i]] : UnsafeRawBufferPointer(start: nil, count: 0)
        }

        guard layout.date >= 0, layout.time >= 0 else { throw Refusal("no date and time columns") }
        let date = column(layout.date)
        guard date.count == 10, let day = Timestamp.parse(date),
              let clock = Text.clockMillis(column(layout.time)) else { throw Refusal("bad date or time") }
        var ev = Event(time: day + clock, account: try context.accountOrRefuse(), source: .cloudfront,
                       eventClass: .httpActivity, raw: Array(line))
        ev.region = context.pathRegion
        ev.action = Text.present(column(layout.method))
        ev.srcIP = try Text.address(column(layout.clientIP), "c-ip")
        ev.srcPort = try Text.number(column(layout.clientPort), "c-port")
        ev.httpStatus = try Text.number(column(layout.status), "sc-status")
        ev.bytes = try Text.number(column(layout.bytes), "sc-bytes")
        ev.eventID = Text.present(column(layout.requestID))
        ev.resource = Text.present(column(layout.host)) ?? Text.present(column(layout.hostHeader))
        ev.resourceType = "AWS::CloudFront::Distribution"
        let agent = column(layout.userAgent)
        if agent.count > 0 && !Text.isDash(agent) { ev.userAgent = Text.percentDecoded(agent) }
        if let stem = Text.present(column(layout.uriStem)) {
            ev.url = Text.present(column(layout.query)).map { stem + "?" + $0 } ?? stem
        }
        // Status 000: the viewer closed the connection before CloudFront answered.
        if let status = ev.httpStatus, status > 0 { ev.outcome = status < 400 ? .success : .failure }
        return ev
    }
}
