import SecModel

/// RDS database logs: PostgreSQL logs as exported, MySQL/MariaDB audit logs.
///
/// Neither names an account: it comes from the path or `--account`. A path that keeps
/// the CloudWatch Logs group of the database (`/aws/rds/instance/<id>/...`,
/// `/aws/rds/cluster/<id>/...`) names the DB instance or cluster, which then prefixes
/// the database in `resource`. See docs/sources.md for the mappings.
enum RDSParser {
    /// What an RDS input carries from chunk to chunk: the DB instance its path names and
    /// the PostgreSQL entry the last chunk left open (its continuation lines may follow).
    final class State {
        /// The DB instance or cluster the path names, and its resource type.
        let instance: (id: String, type: String)?
        /// The open entry's bytes, from its first byte through the end of the chunks
        /// read so far (line ends included).
        var pending: [UInt8] = []
        /// Length of `pending` through the end of the entry's last non-blank line.
        var pendingEntryEnd = 0
        var pendingOffset: Int64 = 0
        var pendingLine = 0
        /// Offset in the input just past `pending`, where the entry may go on; -1 when
        /// no entry is open.
        var pendingEnd: Int64 = -1
        /// Bytes of the open entry beyond ``RDSParser/maxEntry``, not held: the entry is
        /// refused whole when it ends.
        var overflow = 0

        init(path: String) { instance = RDSParser.instance(path: path) }
    }

    static func state(_ context: ParseContext) -> State {
        context.state { State(path: context.file) }
    }

    /// The DB instance or Aurora cluster named by a path that keeps the CloudWatch Logs
    /// group (`.../aws/rds/instance/<id>/postgresql/...`, `.../aws/rds/cluster/<id>/audit/...`).
    static func instance(path: String) -> (id: String, type: String)? {
        let dirs = path.split(separator: "/").dropLast()
        for i in dirs.indices where dirs[i] == "rds" && i + 2 < dirs.endIndex {
            switch dirs[i + 1] {
            case "instance": return (String(dirs[i + 2]), "AWS::RDS::DBInstance")
            case "cluster": return (String(dirs[i + 2]), "AWS::RDS::DBCluster")
            default: continue
            }
        }
        return nil
    }

    /// `resource` and `resource_type` for a database: `<instance>/<database>` when the
    /// path names the instance, the database alone otherwise.
    static func resource(database: String?, state: State) -> (String?, String?) {
        guard let instance = state.instance else { return (database, nil) }
        return (database.map { instance.id + "/" + $0 } ?? instance.id, instance.type)
    }
}

// MARK: - PostgreSQL

extension RDSParser {
    /// Whether an input's first entry, within its first 20 lines, has the RDS prefix
    /// `%t:%r:%u@%d:[%p]:`. Lines before it (the end of an entry cut off by the start
    /// of the file) are passed over.
    static func recognisesPostgres(_ content: UnsafeRawBufferPointer) -> Bool {
        var cursor = LineCursor(content, offset: 0, line: 1)
        while let l = cursor.next(), l.line <= 20 {
            if startsEntry(l.text) { return (try? postgresLine(l.text)) != nil }
        }
        return false
    }

    /// Parses a piece of a PostgreSQL log. An entry is a line starting with a timestamp
    /// and the lines after it that do not (a multi-line statement); the last entry of
    /// the piece stays open in the context until the next entry starts or
    /// ``finishPostgres(context:into:)``, and `context.openRecordOffset` says where it
    /// starts (the input from there on is not read yet).
    static func parsePostgres(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                              into out: inout ParseOutput) {
        let st = state(context)
        // Input skipped between the pieces (an over-long line): the entry cannot go on.
        if st.pendingEnd >= 0 && st.pendingEnd != offset { flushPending(st, context, &out) }
        var carried = st.pendingEnd >= 0 // the open entry goes on at the start of this piece
        var carriedEnd = 0 // end in `bytes` of its lines in this piece
        var open: (start: Int, end: Int, offset: Int64, line: Int)?

        func closeEntry() {
            if carried {
                if carriedEnd > 0 {
                    if st.overflow > 0 || st.pending.count + carriedEnd > maxEntry {
                        st.overflow += carriedEnd
                    } else {
                        st.pending.append(contentsOf: bytes[slice: 0 ..< carriedEnd])
                        st.pendingEntryEnd = st.pending.count
                    }
                }
                flushPending(st, context, &out)
                carried = false
            } else if let o = open {
                emitPostgres(bytes[slice: o.start ..< o.end], offset: o.offset, line: o.line, state: st,
                             context: context, into: &out)
                open = nil
            }
        }

        var cursor = LineCursor(bytes, offset: offset, line: line)
        while let l = cursor.next() {
            if Text.isBlank(l.text) { continue }
            let start = Int(l.offset - offset), end = start + l.text.count
            if startsEntry(l.text) {
                closeEntry()
                open = (start, end, l.offset, l.line)
            } else if Bytes.isBinary(l.text) {
                closeEntry()
                out.refuse(context, l.text, offset: l.offset, line: l.line, reason: "binary data (non-text bytes)")
            } else if carried {
                carriedEnd = end
            } else if open != nil {
                open?.end = end
            } else {
                out.refuse(context, l.text, offset: l.offset, line: l.line,
                           reason: "continuation line with no log entry before it")
            }
        }

        if carried {
            if carriedEnd > 0 { st.pendingEntryEnd = st.pending.count + carriedEnd }
            if st.overflow > 0 || st.pending.count + bytes.count > maxEntry {
                // Memory stays bounded by the cap, not by the entry: the rest is counted only.
                st.overflow += bytes.count
                st.pendingEntryEnd = min(st.pendingEntryEnd, st.pending.count)
            } else {
                st.pending.append(contentsOf: bytes)
            }
            st.pendingEnd = offset + Int64(bytes.count)
        } else if let o = open {
            st.pending.removeAll(keepingCapacity: true)
            st.pending.append(contentsOf: bytes[slice: o.start ..< bytes.count])
            st.pendingEntryEnd = o.end - o.start
            st.pendingOffset = o.offset
            st.pendingLine = o.line
            st.pendingEnd = offset + Int64(bytes.count)
        }
        context.openRecordOffset = st.pendingEnd >= 0 ? st.pendingOffset : nil
    }

    /// Emits the entry the last piece left open.
    static func finishPostgres(context: ParseContext, into out: inout ParseOutput) {
        guard let st = context.state as? State else { return }
        flushPending(st, context, &out)
    }

    /// An entry longer than this (a statement of millions of lines, or a file of
    /// continuation lines) is refused instead of held.
    static let maxEntry = 16 << 20

    private static func flushPending(_ st: State, _ context: ParseContext, _ out: inout ParseOutput) {
        guard st.pendingEnd >= 0 else { return }
        if st.overflow > 0 {
            let q = QuarantinedRecord(file: context.file, offset: st.pendingOffset, line: st.pendingLine,
                                      reason: "PostgreSQL entry longer than \(maxEntry) bytes", bytes: st.pending,
                                      length: st.pending.count + st.overflow)
            out.quarantined.append(q)
            out.records += 1
            st.overflow = 0
        } else {
            st.pending.withUnsafeBytes {
                emitPostgres($0[slice: 0 ..< st.pendingEntryEnd], offset: st.pendingOffset, line: st.pendingLine,
                             state: st, context: context, into: &out)
            }
        }
        st.pending.removeAll(keepingCapacity: true)
        st.pendingEnd = -1
        context.openRecordOffset = nil
    }

    private static func emitPostgres(_ entry: UnsafeRawBufferPointer, offset: Int64, line: Int, state: State,
                                     context: ParseContext, into out: inout ParseOutput) {
        out.take(context, entry, offset: offset, line: line) { () throws(Refusal) in
            try postgresEvent(entry, state: state, context: context)
        }
    }

    /// Whether a line starts an entry: it begins with `YYYY-MM-DD HH:MM:SS`.
    static func startsEntry(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count >= 19, b[4] == 45, b[7] == 45, b[10] == 32, b[13] == 58, b[16] == 58 else { return false }
        for i in 0 ..< 19 where i != 4 && i != 7 && i != 10 && i != 13 && i != 16 {
            guard b[i] &- 48 < 10 else { return false }
        }
        return true
    }

    /// The parts of an entry's first line.
    struct PostgresLine {
        var time: Int64
        /// `%r` without its port: an address, a host name, `[local]`, or empty.
        var host: UnsafeRawBufferPointer
        var port: Int64?
        var user: UnsafeRawBufferPointer
        var database: UnsafeRawBufferPointer
        var severity: UnsafeRawBufferPointer
        var message: UnsafeRawBufferPointer
    }

    /// Splits `%t:%r:%u@%d:[%p]:SEVERITY:  message`.
    static func postgresLine(_ b: UnsafeRawBufferPointer) throws(Refusal) -> PostgresLine {
        let n = b.count
        // %t: `2026-11-28 10:00:00 UTC`, perhaps with milliseconds (%m).
        guard startsEntry(b) else { throw Refusal("no timestamp") }
        var i = 19
        while i < n && (b[i] == 46 || b[i] &- 48 < 10) { i += 1 }
        guard let local = Timestamp.parse(b[slice: 0 ..< i]), i < n, b[i] == 32,
              let zoneEnd = Bytes.firstIndex(of: 58, in: b, from: i + 1) else { throw Refusal("bad timestamp") }
        guard let zone = zoneOffset(b[slice: i + 1 ..< zoneEnd]) else {
            throw Refusal("unknown or ambiguous time zone abbreviation")
        }
        // %r: `host(port)`, `[local]` or nothing.
        var k = zoneEnd + 1
        guard let at = Bytes.firstIndex(of: 64, in: b, from: k) else { throw Refusal("no user@database") }
        var host = b[slice: k ..< k]
        var port: Int64?
        if b[slice: k ..< at].hasPrefix("[local]") {
            host = b[slice: k ..< k + 7]
            k += 7
        } else if let paren = Bytes.firstIndex(of: 40, in: b, from: k, to: at) {
            guard let close = Bytes.firstIndex(of: 41, in: b, from: paren, to: at),
                  let p = Text.int(b[slice: paren + 1 ..< close]) else { throw Refusal("bad remote host and port") }
            host = b[slice: k ..< paren]
            port = p
            k = close + 1
        } else if let colon = Bytes.firstIndex(of: 58, in: b, from: k, to: at) {
            host = b[slice: k ..< colon]
            k = colon
        }
        guard k < at, b[k] == 58 else { throw Refusal("bad remote host and port") }
        // %u@%d:[%p]:
        guard let dbEnd = Bytes.firstIndex(of: 58, in: b, from: at + 1), dbEnd + 1 < n, b[dbEnd + 1] == 91,
              let pidEnd = Bytes.firstIndex(of: 93, in: b, from: dbEnd + 2), pidEnd + 1 < n, b[pidEnd + 1] == 58,
              Text.int(b[slice: dbEnd + 2 ..< pidEnd]) != nil else { throw Refusal("bad user@database:[pid] prefix") }
        // SEVERITY:  message
        let sevStart = pidEnd + 2
        guard let sevEnd = Bytes.firstIndex(of: 58, in: b, from: sevStart), sevEnd > sevStart, sevEnd - sevStart <= 10,
              b[slice: sevStart ..< sevEnd].allSatisfy({ ($0 >= 65 && $0 <= 90) || $0 &- 48 < 10 })
        else { throw Refusal("no severity") }
        var m = sevEnd + 1
        while m < n && b[m] == 32 { m += 1 }
        return PostgresLine(time: local - Int64(zone) * 1000, host: host, port: port, user: b[slice: k + 1 ..< at],
                            database: b[slice: at + 1 ..< dbEnd], severity: b[slice: sevStart ..< sevEnd],
                            message: b[slice: m ..< n])
    }

    /// The event of one entry (its lines, joined with their line ends).
    static func postgresEvent(_ entry: UnsafeRawBufferPointer, state: State, context: ParseContext) throws(Refusal) -> Event {
        var firstEnd = Bytes.firstIndex(of: 10, in: entry) ?? entry.count
        if firstEnd > 0 && entry[firstEnd - 1] == 13 { firstEnd -= 1 }
        let p = try postgresLine(entry[slice: 0 ..< firstEnd])
        var ev = Event(time: p.time, account: try context.accountOrRefuse(), source: .rds,
                       eventClass: .datastoreActivity, raw: Array(entry))
        ev.region = context.pathRegion
        ev.principal = known(p.user)
        if !p.host.equals("[local]") { ev.srcIP = Text.ip(p.host) }
        ev.srcPort = p.port
        (ev.resource, ev.resourceType) = resource(database: known(p.database), state: state)
        classify(&ev, severity: p.severity, message: p.message)
        return ev
    }

    /// A `%u` or `%d` value; nil when empty or `[unknown]` (before authentication).
    private static func known(_ b: UnsafeRawBufferPointer) -> String? {
        b.count == 0 || b.equals("[unknown]") ? nil : Text.string(b)
    }

    /// Sets action, class, outcome, error code (and the principal an authentication
    /// failure names) from the severity and the message.
    static func classify(_ ev: inout Event, severity: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) {
        var m = message
        var sqlState: String?
        // `log_error_verbosity = verbose` puts the SQLSTATE first: `28P01: password ...`.
        if m.count >= 7, m[5] == 58, m[6] == 32,
           m[slice: 0 ..< 5].allSatisfy({ ($0 >= 65 && $0 <= 90) || $0 &- 48 < 10 }) {
            sqlState = Text.string(m[slice: 0 ..< 5])
            m = m[slice: 7 ..< m.count]
        }
        let fatal = severity.equals("FATAL")
        if fatal || severity.equals("ERROR") || severity.equals("PANIC") {
            ev.outcome = .failure
            ev.errorCode = sqlState ?? Text.string(severity)
        }
        func authentication(_ action: String, _ outcome: Outcome? = nil) {
            ev.eventClass = .authentication
            ev.action = action
            if let outcome { ev.outcome = outcome }
        }
        if m.hasPrefix("connection received:") {
            authentication("connect_attempt")
        } else if m.hasPrefix("connection authorized:") {
            authentication("connect", .success)
        } else if let user = quoted(after: "authentication failed for user \"", in: m) {
            authentication("auth_failed", .failure)
            ev.principal = user
        } else if m.hasPrefix("no pg_hba.conf entry") {
            authentication("auth_failed", .failure)
            ev.principal = quoted(after: "user \"", in: m) ?? ev.principal
        } else if fatal, m.hasPrefix("role \""), InputFormat.contains(m, "\" does not exist") {
            authentication("auth_failed", .failure)
            ev.principal = quoted(after: "role \"", in: m)
        } else if m.hasPrefix("disconnection:") {
            authentication("disconnect", .success)
        } else if m.hasPrefix("duration:") {
            // Written when a statement has finished.
            ev.action = "query"
            if ev.outcome == .unknown { ev.outcome = .success }
        } else if m.hasPrefix("statement:") || m.hasPrefix("execute ") {
            ev.action = "query"
        } else {
            ev.action = Text.string(severity).lowercased()
        }
    }

    /// The text between `prefix` (ending in `"`) and the next `"`.
    static func quoted(after prefix: StaticString, in b: UnsafeRawBufferPointer) -> String? {
        guard let at = Text.firstIndex(of: prefix, in: b) else { return nil }
        let start = at + prefix.utf8CodeUnitCount
        guard let end = Bytes.firstIndex(of: 34, in: b, from: start) else { return nil }
        return Text.string(b[slice: start ..< end])
    }

    /// Seconds east of UTC of a `%t` zone: a numeric offset (`+03`, `-0330`) or an
    /// abbreviation from ``zoneAbbreviations``.
    static func zoneOffset(_ b: UnsafeRawBufferPointer) -> Int? {
        if b.equals("UTC") { return 0 }
        if let offset = Text.utcOffset(b) { return offset }
        guard b.count >= 1, b.count <= 5 else { return nil }
        return zoneAbbreviations[Text.string(b)].map { $0 * 60 }
    }

    /// Time zone abbreviations PostgreSQL prints for `%t` (from the tz database), in
    /// minutes east of UTC. Abbreviations the tz database gives more than one common
    /// meaning (CST: US Central, China, Cuba; IST: India, Ireland, Israel) are left out,
    /// so their entries are quarantined rather than placed at a guessed time.
    static let zoneAbbreviations: [String: Int] = [
        "UTC": 0, "UCT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120,
        "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "WAT": 60, "CAT": 120, "SAST": 120, "EAT": 180,
        "PKT": 300, "WIB": 420, "WITA": 480, "WIT": 540, "HKT": 480, "AWST": 480, "JST": 540, "KST": 540,
        "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
        "HST": -600, "AKST": -540, "AKDT": -480, "PST": -480, "PDT": -420, "MST": -420, "MDT": -360,
        "CDT": -300, "EST": -300, "EDT": -240, "AST": -240, "ADT": -180, "NST": -210, "NDT": -150,
    ]
}

// MARK: - MySQL / MariaDB audit

extension RDSParser {
    /// Positions of the server_audit fields.
    private enum AuditField {
        static let timestamp = 0, user = 2, host = 3, connectionID = 4, queryID = 5, operation = 6
        static let database = 7, retcode = 9
        static let count = 10
    }

    /// Whether an input's first line is a server_audit record.
    static func recognisesMySQL(_ content: UnsafeRawBufferPointer) -> Bool {
        var cursor = LineCursor(content, offset: 0, line: 1)
        var fields: [Range<Int>] = []
        while let l = cursor.next() {
            if Text.isBlank(l.text) { continue }
            guard splitAudit(l.text, into: &fields), fields.count >= AuditField.count else { return false }
            let f = fields
            func field(_ i: Int) -> UnsafeRawBufferPointer { l.text[slice: f[i]] }
            return mysqlTime(field(AuditField.timestamp)) != nil && Text.int(field(AuditField.connectionID)) != nil
                && isOperation(field(AuditField.operation))
        }
        return false
    }

    static func parseMySQL(_ bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext,
                           into out: inout ParseOutput) {
        let st = state(context)
        var cursor = LineCursor(bytes, offset: offset, line: line)
        var fields: [Range<Int>] = []
        fields.reserveCapacity(16)
        while let l = cursor.next() {
            if Text.isBlank(l.text) { continue }
            out.take(context, l.text, offset: l.offset, line: l.line) { () throws(Refusal) in
                try mysqlEvent(l.text, fields: &fields, state: st, context: context)
            }
        }
    }

    /// The event of one server_audit line:
    /// `timestamp,serverhost,username,host,connectionid,queryid,operation,database,object,retcode[,...]`.
    static func mysqlEvent(_ line: UnsafeRawBufferPointer, fields f: inout [Range<Int>], state: State,
                           context: ParseContext) throws(Refusal) -> Event {
        guard splitAudit(line, into: &f) else { throw Refusal("unclosed quoted object") }
        guard f.count >= AuditField.count else { throw Refusal("too few fields: \(f.count), at least \(AuditField.count)") }
        let fields = f
        func field(_ i: Int) -> UnsafeRawBufferPointer { line[slice: fields[i]] }

        guard let time = mysqlTime(field(AuditField.timestamp)) else { throw Refusal("bad timestamp") }
        guard Text.int(field(AuditField.connectionID)) != nil else { throw Refusal("bad connectionid") }
        guard Text.int(field(AuditField.queryID)) != nil else { throw Refusal("bad queryid") }
        let operation = field(AuditField.operation)
        guard isOperation(operation) else { throw Refusal("bad operation") }
        let retcode = try Text.number(field(AuditField.retcode), "retcode")

        var ev = Event(time: time, account: try context.accountOrRefuse(), source: .rds,
                       eventClass: .datastoreActivity, raw: Array(line))
        ev.region = context.pathRegion
        ev.principal = Text.present(field(AuditField.user))
        ev.srcIP = Text.ip(field(AuditField.host))
        (ev.resource, ev.resourceType) = resource(database: Text.present(field(AuditField.database)), state: state)
        if let retcode {
            ev.outcome = retcode == 0 ? .success : .failure
            if retcode != 0 { ev.errorCode = String(retcode) }
        }
        switch Text.string(operation) {
        case "CONNECT": ev.action = "connect"; ev.eventClass = .authentication
        case "FAILED_CONNECT": ev.action = "auth_failed"; ev.eventClass = .authentication; ev.outcome = .failure
        case "DISCONNECT": ev.action = "disconnect"; ev.eventClass = .authentication
        case "CHANGE_USER", "PROXY_CONNECT": ev.action = Text.string(operation).lowercased(); ev.eventClass = .authentication
        case let other: ev.action = other.lowercased()
        }
        return ev
    }

    /// Splits a server_audit line at commas; a field starting with `'` (the object: a
    /// query, with `\'` and `\\` escapes) runs to its closing quote, quotes kept.
    /// Returns false when a quote is not closed or not followed by a comma.
    static func splitAudit(_ line: UnsafeRawBufferPointer, into fields: inout [Range<Int>]) -> Bool {
        fields.removeAll(keepingCapacity: true)
        let n = line.count
        var i = 0
        while true {
            var j: Int
            if i < n && line[i] == 39 { // '
                j = i + 1
                while j < n && line[j] != 39 {
                    if line[j] == 92 { j += 1 } // backslash escape
                    j += 1
                }
                guard j < n else { return false }
                j += 1
                guard j == n || line[j] == 44 else { return false }
            } else {
                j = Bytes.firstIndex(of: 44, in: line, from: i) ?? n
            }
            fields.append(i ..< j)
            if j >= n { return true }
            i = j + 1
        }
    }

    /// `20261128 10:00:00` (the server's clock, UTC on RDS) or Unix time in microseconds
    /// (RDS), milliseconds or seconds, told apart by their number of digits.
    static func mysqlTime(_ b: UnsafeRawBufferPointer) -> Int64? {
        if b.count == 17, b[8] == 32 {
            guard let y = Text.digits(b, at: 0, count: 4), let mo = Text.digits(b, at: 4, count: 2),
                  let d = Text.digits(b, at: 6, count: 2), let day = Text.dayMillis(year: y, month: mo, day: d),
                  let clock = Text.clockMillis(b[slice: 9 ..< 17]) else { return nil }
            return day + clock
        }
        guard b.first != 45, let v = Text.int(b) else { return nil }
        switch b.count {
        case 16: return v / 1000
        case 13: return v
        case 10: return v * 1000
        default: return nil
        }
    }

    /// An operation name: upper-case letters and underscores.
    private static func isOperation(_ b: UnsafeRawBufferPointer) -> Bool {
        b.count > 0 && b.allSatisfy { ($0 >= 65 && $0 <= 90) || $0 == 95 }
    }
}
