import SecModel

/// VPC Flow Logs (default and custom formats, Transit Gateway flow logs).
///
/// A flow log file is a header line naming the fields, then one record per line with
/// one value per field, separated by single spaces; `-` marks a value that is missing
/// or does not apply. Without a header line the records are taken to be in the
/// default (version 2) format:
/// `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status`.
/// A custom format names any subset of the fields (versions 2 to 8, Transit Gateway's)
/// in any order; its header's columns are kept in ``ParseContext/state`` for the
/// chunks that follow. A header that names a field this parser does not know keeps
/// working: that column is ignored and the input gets one warning.
///
/// Mapping (see docs/sources.md):
/// - `source` vpcflow, `class` network_activity.
/// - `time`: `start` (epoch seconds) in milliseconds, else `end`.
/// - `account`: `account-id` when it is 12 digits, else (`unknown`, `-`, absent) the
///   path's or the operator's account.
/// - `region`: `region`, else the path's region.
/// - `action`: `ACCEPT` or `REJECT`; `outcome` success for ACCEPT, failure for REJECT.
///   `NODATA` and `SKIPDATA` records (`log-status`) are kept, with no action and
///   outcome unknown, so that gaps in the log are visible. Transit Gateway records
///   carry no action: outcome unknown.
/// - `src_ip`, `dst_ip`: `srcaddr`, `dstaddr` (else `pkt-srcaddr`, `pkt-dstaddr`);
///   `src_port`, `dst_port`, `protocol` (IANA number), `bytes`, `packets` as written.
/// - `src_service`: `pkt-src-aws-service`; `service`: `pkt-dst-aws-service`.
/// - `resource`: `interface-id` (`AWS::EC2::NetworkInterface`), else
///   `tgw-attachment-id` (`AWS::EC2::TransitGatewayAttachment`), else `tgw-id`
///   (`AWS::EC2::TransitGateway`), else `instance-id` (`AWS::EC2::Instance`).
///
/// A record is quarantined when its number of fields differs from the header's, or
/// when an address, number, time, action or status does not parse.
enum VPCFlowParser {
    /// Whether an input starting with these bytes is a VPC flow log: its first line is
    /// a header naming `srcaddr` or `dstaddr` among flow log fields, or a default-format
    /// record (`2 <account or unknown> eni-...`).
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool {
        var lines = LineCursor(content, offset: 0, line: 1)
        while let l = lines.next() {
            if Text.isBlank(l.text) { continue }
            if let header = Header(l.text, atStart: true) {
                return header.columns.contains(.srcaddr) || header.columns.contains(.dstaddr)
            }
            return isDefaultRecord(l.text)
        }
        return false
    }

    /// `2 <12 digits|unknown> eni-...`: the start of a record in the default format.
    static func isDefaultRecord(_ line: UnsafeRawBufferPointer) -> Bool {
        var tokens = Tokens(line)
        guard let version = tokens.next(), version.equals("2"), let account = tokens.next(),
              let interface = tokens.next() else { return false }
        let isAccount = account.count == 12 && account.allSatisfy { $0 &- 48 < 10 }
        return (isAccount || account.equals("unknown")) && interface.hasPrefix("eni-")
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                      into out: inout ParseOutput) {
        let state = context.state(VPCFlowState.init)
        let fallbackAccount = context.account(record: nil)
        out.reserve(lines: Bytes.count(of: 0x0A, in: bytes) + 1)
        var lines = LineCursor(bytes, offset: offset, line: line)
        while let l = lines.next() {
            if Text.isBlank(l.text) { continue }
            if l.text[0] &- 97 < 26, let header = Header(l.text, atStart: !state.started) {
                state.use(header, context: context, into: &out)
                // Kept so a quarantined line can be parsed again under its columns.
                context.header = Array(l.text) + [0x0A]
                continue
            }
            state.started = true
            if let reason = state.normalise(l.text, offset: l.offset, context: context,
                                            fallbackAccount: fallbackAccount, into: &out) {
                out.refuse(context, l.text, offset: l.offset, line: l.line, reason: reason)
            }
        }
    }

    // MARK: - Columns

    /// What a column holds, as far as the mapping is concerned; `ignored` for the
    /// fields kept only in `raw` (vpc-id, tcp-flags, ecs-*, ...).
    enum Column: Int, CaseIterable {
        case ignored, account, interface, instance, srcaddr, dstaddr, pktSrcaddr, pktDstaddr
        case srcport, dstport, proto, packets, bytes, start, end, action, logStatus, region
        case srcService, dstService, tgw, tgwAttachment

        /// The field's name in a header, for refusal reasons.
        var name: String {
            VPCFlowParser.fields.first { $0.value == self }?.key ?? "field"
        }
    }

    /// Every field a VPC or Transit Gateway flow log header can name, with its column.
    static let fields: [String: Column] = {
        var table: [String: Column] = [
            "account-id": .account, "interface-id": .interface, "instance-id": .instance,
            "srcaddr": .srcaddr, "dstaddr": .dstaddr, "pkt-srcaddr": .pktSrcaddr, "pkt-dstaddr": .pktDstaddr,
            "srcport": .srcport, "dstport": .dstport, "protocol": .proto, "packets": .packets, "bytes": .bytes,
            "start": .start, "end": .end, "action": .action, "log-status": .logStatus, "region": .region,
            "pkt-src-aws-service": .srcService, "pkt-dst-aws-service": .dstService,
            "tgw-id": .tgw, "tgw-attachment-id": .tgwAttachment,
        ]
        let ignored = [
            "version", "vpc-id", "subnet-id", "tcp-flags", "type", "az-id", "sublocation-type", "sublocation-id",
            "flow-direction", "traffic-path", "ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn",
            "ecs-container-instance-id", "ecs-container-id", "ecs-second-container-id", "ecs-service-name",
            "ecs-task-definition-arn", "ecs-task-arn", "ecs-task-id", "reject-reason", "resource-id",
            "encryption-status",
            // Transit Gateway flow logs
            "resource-type", "tgw-src-vpc-account-id", "tgw-dst-vpc-account-id", "tgw-src-vpc-id", "tgw-dst-vpc-id",
            "tgw-src-subnet-id", "tgw-dst-subnet-id", "tgw-src-eni", "tgw-dst-eni", "tgw-src-az-id", "tgw-dst-az-id",
            "tgw-pair-attachment-id", "packets-lost-no-route", "packets-lost-blackhole", "packets-lost-mtu-exceeded",
            "packets-lost-ttl-expired",
        ]
        for name in ignored { table[name] = .ignored }
        return table
    }()

    /// The default format's columns (version 2).
    static let defaultColumns: [Column] = [
        .ignored, .account, .interface, .srcaddr, .dstaddr, .srcport, .dstport, .proto, .packets, .bytes,
        .start, .end, .action, .logStatus,
    ]

    /// The column a header token names; nil for a name this parser does not know.
    /// Athena-style names (`account_id`) are accepted too.
    static func column(named token: UnsafeRawBufferPointer) -> Column? {
        let name = String(decoding: token, as: UTF8.self)
        return fields[name] ?? fields[name.replacingOccurrences(of: "_", with: "-")]
    }

    /// A header line: the columns it names, and the names it does not know.
    struct Header {
        var columns: [Column] = []
        var unknown: [String] = []

        /// Reads `line` as a header. It is one when its first token names a flow log
        /// field (no record value does), or, on the input's first line, when every
        /// token looks like a field name (lowercase letters, digits, `-`, `_`) and one
        /// of them is known, so that a header starting with a field added after this
        /// parser was written is still a header.
        init?(_ line: UnsafeRawBufferPointer, atStart: Bool) {
            guard let c = line.first, c &- 97 < 26 else { return nil }
            var tokens = Tokens(line)
            guard let first = tokens.next(), Header.isName(first) else { return nil }
            if VPCFlowParser.column(named: first) == nil {
                guard atStart, line.allSatisfy({ $0 == 32 || $0 == 45 || $0 == 95 || $0 &- 97 < 26 || $0 &- 48 < 10 })
                else { return nil }
            }
            tokens = Tokens(line)
            while let token = tokens.next() {
                if let col = VPCFlowParser.column(named: token) {
                    columns.append(col)
                } else {
                    columns.append(.ignored)
                    unknown.append(String(decoding: token, as: UTF8.self))
                }
            }
            guard columns.count > unknown.count else { return nil }
        }

        /// Whether a token can be a known field name: lowercase letters, `-` and `_`.
        static func isName(_ t: UnsafeRawBufferPointer) -> Bool {
            !t.isEmpty && t.count <= 40 && t.allSatisfy { $0 == 45 || $0 == 95 || $0 &- 97 < 26 }
        }
    }

    /// The space-separated tokens of a line, empty ones included.
    struct Tokens {
        let line: UnsafeRawBufferPointer
        var pos = 0

        init(_ line: UnsafeRawBufferPointer) { self.line = line }

        mutating func next() -> UnsafeRawBufferPointer? {
            guard pos <= line.count else { return nil }
            let end = Bytes.firstIndex(of: 32, in: line, from: pos) ?? line.count
            defer { pos = end + 1 }
            return line[slice: pos ..< end]
        }
    }
}

/// What a VPC flow log input carries from one chunk to the next: the columns its
/// header named, and buffers reused for every line.
final class VPCFlowState {
    typealias Column = VPCFlowParser.Column

    /// The columns of the records, in order: the header's, or the default format's.
    /// Held in memory of its own, like `bounds`, so that reading it on every line
    /// neither retains an array nor checks its uniqueness.
    @exclusivity(unchecked) private(set) var columns: UnsafeMutableBufferPointer<Column>
    private var sawHeader = false
    private var warned = false
    /// Whether a line that is not blank has been read (a header is recognised more
    /// loosely on the first one).
    var started = false
    /// Where each column's value is in the current line: `bounds[2 * column]` is its
    /// start (-1 when the format has no such column), `bounds[2 * column + 1]` its end.
    private let bounds = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2 * Column.allCases.count)
    /// The last `account-id` read, as bytes and as a string: records of one account
    /// come in runs, and this spares decoding the same 12 digits again.
    private var lastAccountBytes: (UInt64, UInt32) = (0, 0)
    private var lastAccount = ""

    init() {
        columns = VPCFlowState.copy(VPCFlowParser.defaultColumns)
    }

    deinit {
        columns.deallocate()
        bounds.deallocate()
    }

    private static func copy(_ columns: [Column]) -> UnsafeMutableBufferPointer<Column> {
        let buffer = UnsafeMutableBufferPointer<Column>.allocate(capacity: columns.count)
        _ = buffer.initialize(from: columns)
        return buffer
    }

    /// Takes a header's columns for the lines after it; warns (once per input) about
    /// names it does not know.
    func use(_ header: VPCFlowParser.Header, context: ParseContext, into out: inout ParseOutput) {
        columns.deallocate()
        columns = VPCFlowState.copy(header.columns)
        sawHeader = true
        started = true
        if !header.unknown.isEmpty && !warned {
            warned = true
            let names = header.unknown.map { "'\($0)'" }.joined(separator: ", ")
            out.warnings.append("\(context.file): VPC flow log header names unknown fields \(names); their columns are ignored")
        }
    }

    /// Normalises one record line into `out`; returns why it was refused, nil when its
    /// event was kept.
    func normalise(_ line: UnsafeRawBufferPointer, offset: Int64, context: ParseContext, fallbackAccount: String?,
                   into out: inout ParseOutput) -> String? {
        let count = split(line)
        guard count == columns.count else {
            let expected = sawHeader ? "the header names \(columns.count)" : "the default format has \(columns.count)"
            return "VPC flow record has \(count) fields, \(expected)"
        }
        let record = Record(line: line, bounds: UnsafeBufferPointer(bounds))
        guard let account = account(record.value(.account)) ?? fallbackAccount else {
            return ParseContext.noAccountReason
        }
        return record.keep(account: account, offset: offset, context: context, into: &out)
    }

    /// The record's `account-id` when it is 12 digits (not `unknown`).
    @inline(__always)
    private func account(_ field: UnsafeRawBufferPointer?) -> String? {
        guard let a = field, a.count == 12, let p = a.baseAddress else { return nil }
        let key = (p.loadUnaligned(as: UInt64.self), p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        if key == lastAccountBytes && !lastAccount.isEmpty { return lastAccount }
        guard a.allSatisfy({ $0 &- 48 < 10 }) else { return nil }
        lastAccountBytes = key
        lastAccount = Text.string(a)
        return lastAccount
    }

    /// Splits `line` at single spaces, noting where each mapped column's value is;
    /// returns the number of fields. Spaces are found eight bytes at a time.
    @inline(__always)
    private func split(_ line: UnsafeRawBufferPointer) -> Int {
        let cols = columns, b = bounds
        b.update(repeating: -1)
        var k = 0, start = 0
        @inline(__always) func field(endingAt end: Int) {
            if k < cols.count {
                let c = cols[k].rawValue
                if c != 0 { b[2 * c] = start; b[2 * c + 1] = end }
            }
            k += 1
            start = end + 1
        }
        let n = line.count
        guard let p = line.baseAddress else { field(endingAt: 0); return k }
        var w = 0
        while w + 8 <= n {
            var spaces = Self.spaceBits(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: w, as: UInt64.self)))
            while spaces != 0 {
                field(endingAt: w + spaces.trailingZeroBitCount >> 3)
                spaces &= spaces &- 1
            }
            w += 8
        }
        while w < n {
            if p.load(fromByteOffset: w, as: UInt8.self) == 32 { field(endingAt: w) }
            w += 1
        }
        field(endingAt: n)
        return k
    }

    /// The high bit of each byte of `x` that is a space, and no other bit.
    @inline(__always)
    private static func spaceBits(_ x: UInt64) -> UInt64 {
        let y = x ^ 0x2020_2020_2020_2020
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((y & low7) &+ low7) | y | low7)
    }

    /// One split record and its conversion to an event.
    private struct Record {
        let line: UnsafeRawBufferPointer
        let bounds: UnsafeBufferPointer<Int>

        /// The value of a column; nil when the format has no such column or the value is `-`.
        @inline(__always)
        func value(_ c: Column) -> UnsafeRawBufferPointer? {
            let s = bounds[2 * c.rawValue]
            guard s >= 0 else { return nil }
            let v = line[slice: s ..< bounds[2 * c.rawValue + 1]]
            return Text.isDash(v) ? nil : v
        }

        /// A count, port or protocol: nil when missing; throws when not a number.
        @inline(__always)
        func number(_ c: Column) throws(Refusal) -> Int64? {
            guard let v = value(c) else { return nil }
            guard let n = Text.int(v), n >= 0 else { throw Refusal.bad(c) }
            return n
        }

        @inline(__always)
        func address(_ c: Column) throws(Refusal) -> IPAddress? {
            guard let v = value(c) else { return nil }
            guard let ip = Text.ip(v) else { throw Refusal.bad(c) }
            return ip
        }

        /// A value that repeats from record to record, from the interner.
        @inline(__always)
        func interned(_ c: Column, _ context: ParseContext) -> String? {
            value(c).map { context.scratch.strings.intern($0) }
        }

        /// Appends the record's event to `out`; returns why it was refused instead.
        func keep(account: String, offset: Int64, context: ParseContext, into out: inout ParseOutput) -> String? {
            do {
                try build(account: account, offset: offset, context: context, into: &out)
                return nil
            } catch {
                return error.reason
            }
        }

        /// Reads and checks every value first, then appends the event (nothing can fail
        /// once it exists).
        private func build(account: String, offset: Int64, context: ParseContext,
                           into out: inout ParseOutput) throws(Refusal) {
            // Epoch seconds: more than 11 digits is past the year 5000.
            let start = try number(.start), end = try number(.end)
            guard let seconds = start ?? end else { throw Refusal.noTime }
            guard seconds < 100_000_000_000 else { throw Refusal.bad(start != nil ? .start : .end) }
            let src = try address(.srcaddr), pktSrc = try address(.pktSrcaddr)
            let dst = try address(.dstaddr), pktDst = try address(.pktDstaddr)
            let srcPort = try number(.srcport), dstPort = try number(.dstport), proto = try number(.proto)
            let packets = try number(.packets), bytes = try number(.bytes)
            let (action, outcome) = try actionAndOutcome()

            out.keep(time: seconds * 1000, account: account, source: .vpcflow, eventClass: .networkActivity,
                     raw: Array(line), offset: offset) { ev in
                ev.srcIP = src ?? pktSrc
                ev.dstIP = dst ?? pktDst
                ev.srcPort = srcPort
                ev.dstPort = dstPort
                ev.proto = proto
                ev.packets = packets
                ev.bytes = bytes
                ev.action = action
                ev.outcome = outcome
                ev.region = interned(.region, context) ?? context.pathRegion
                ev.srcService = interned(.srcService, context)
                ev.service = interned(.dstService, context)
                applyResource(to: &ev, context)
            }
        }

        /// `action` and `outcome` from `action` and `log-status`.
        private func actionAndOutcome() throws(Refusal) -> (String?, Outcome) {
            if let status = value(.logStatus) {
                if status.equals("NODATA") || status.equals("SKIPDATA") { return (nil, .unknown) }
                guard status.equals("OK") else { throw Refusal.bad(.logStatus) }
            }
            guard let action = value(.action) else { return (nil, .unknown) }
            if action.equals("ACCEPT") { return ("ACCEPT", .success) }
            if action.equals("REJECT") { return ("REJECT", .failure) }
            throw Refusal.bad(.action)
        }

        /// The network interface, else the Transit Gateway attachment or gateway, else the instance.
        private func applyResource(to ev: inout Event, _ context: ParseContext) {
            if let r = interned(.interface, context) {
                ev.resource = r; ev.resourceType = "AWS::EC2::NetworkInterface"
            } else if let r = interned(.tgwAttachment, context) {
                ev.resource = r; ev.resourceType = "AWS::EC2::TransitGatewayAttachment"
            } else if let r = interned(.tgw, context) {
                ev.resource = r; ev.resourceType = "AWS::EC2::TransitGateway"
            } else if let r = interned(.instance, context) {
                ev.resource = r; ev.resourceType = "AWS::EC2::Instance"
            }
        }
    }

    /// Why a record that has the right number of fields is refused.
    enum Refusal: Error {
        /// A value that does not parse as its column's kind.
        case bad(Column)
        case noTime

        var reason: String {
            switch self {
            case .bad(let column): return "VPC flow record has a bad \(column.name)"
            case .noTime: return "VPC flow record has no start or end time"
            }
        }
    }
}
