import Foundation
import SecModel
import Testing
@testable import SecIngest

/// RDS PostgreSQL log entries with the RDS prefix `%t:%r:%u@%d:[%p]:` and MySQL /
/// MariaDB server_audit lines, shaped like the RDS User Guide's examples, with
/// documentation addresses.
@Suite struct RDSTests {
    static let account = "111122223333"
    static let file = "rds/error/postgresql.log.2026-11-28-10"

    // MARK: PostgreSQL

    /// An entry and what it must become: action, class, outcome, principal, error code.
    struct Expected: Sendable, CustomTestStringConvertible {
        var entry: String
        var action: String
        var eventClass: EventClass
        var outcome: Outcome
        var principal: String?
        var errorCode: String? = nil
        var testDescription: String { action + ": " + String(entry.prefix(60)) }
    }

    static let postgres: [Expected] = [
        .init(entry: "2026-11-28 10:00:00 UTC:10.0.1.5(53422):[unknown]@[unknown]:[12345]:LOG:  connection received: host=10.0.1.5 port=53422",
              action: "connect_attempt", eventClass: .authentication, outcome: .unknown, principal: nil),
        .init(entry: "2026-11-28 10:00:00 UTC:10.0.1.5(53422):alice@payments:[12345]:LOG:  connection authorized: user=alice database=payments SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)",
              action: "connect", eventClass: .authentication, outcome: .success, principal: "alice"),
        .init(entry: "2026-11-28 10:00:05 UTC:10.0.1.5(53422):alice@payments:[12345]:LOG:  statement: SELECT id, amount\n\t  FROM transfers\n\t WHERE account_id = 42;",
              action: "query", eventClass: .datastoreActivity, outcome: .unknown, principal: "alice"),
        .init(entry: "2026-11-28 10:00:05.250 UTC:10.0.1.5(53422):alice@payments:[12345]:LOG:  duration: 12.345 ms  statement: SELECT 1",
              action: "query", eventClass: .datastoreActivity, outcome: .success, principal: "alice"),
        .init(entry: "2026-11-28 10:00:06 UTC:10.0.1.5(53422):alice@payments:[12345]:LOG:  duration: 0.081 ms  execute <unnamed>: UPDATE accounts SET balance = balance - $1 WHERE id = $2",
              action: "query", eventClass: .datastoreActivity, outcome: .success, principal: "alice"),
        .init(entry: "2026-11-28 10:00:09 UTC:10.0.1.5(53422):alice@payments:[12345]:ERROR:  relation \"transfer\" does not exist at character 15",
              action: "error", eventClass: .datastoreActivity, outcome: .failure, principal: "alice", errorCode: "ERROR"),
        .init(entry: "2026-11-28 10:00:09 UTC:10.0.1.5(53422):alice@payments:[12345]:STATEMENT:  SELECT * FROM transfer;",
              action: "statement", eventClass: .datastoreActivity, outcome: .unknown, principal: "alice"),
        .init(entry: "2026-11-28 10:01:00 UTC:198.51.100.7(40012):mallory@payments:[12400]:FATAL:  password authentication failed for user \"mallory\"",
              action: "auth_failed", eventClass: .authentication, outcome: .failure, principal: "mallory", errorCode: "FATAL"),
        .init(entry: "2026-11-28 10:01:00 UTC:198.51.100.7(40012):mallory@payments:[12400]:DETAIL:  Connection matched pg_hba.conf line 12: \"host all all 0.0.0.0/0 md5\"",
              action: "detail", eventClass: .datastoreActivity, outcome: .unknown, principal: "mallory"),
        .init(entry: "2026-11-28 10:01:01 UTC:198.51.100.7(40013):[unknown]@payments:[12401]:FATAL:  28P01: password authentication failed for user \"bob\"",
              action: "auth_failed", eventClass: .authentication, outcome: .failure, principal: "bob", errorCode: "28P01"),
        .init(entry: "2026-11-28 10:01:02 UTC:[local]:rdsadmin@rdsadmin:[12402]:LOG:  disconnection: session time: 0:00:00.010 user=rdsadmin database=rdsadmin host=[local]",
              action: "disconnect", eventClass: .authentication, outcome: .success, principal: "rdsadmin"),
        .init(entry: "2026-11-28 10:01:03 UTC:2001:db8::7(51000):eve@postgres:[12403]:FATAL:  no pg_hba.conf entry for host \"2001:db8::7\", user \"eve\", database \"postgres\", no encryption",
              action: "auth_failed", eventClass: .authentication, outcome: .failure, principal: "eve", errorCode: "FATAL"),
        .init(entry: "2026-11-28 10:01:04 UTC:10.0.1.9(50100):ghost@payments:[12404]:FATAL:  role \"ghost\" does not exist",
              action: "auth_failed", eventClass: .authentication, outcome: .failure, principal: "ghost", errorCode: "FATAL"),
        .init(entry: "2026-11-28 10:01:05 UTC::@:[570]:LOG:  checkpoint starting: time",
              action: "log", eventClass: .datastoreActivity, outcome: .unknown, principal: nil),
        .init(entry: "2026-11-28 10:01:06 UTC:10.0.1.5(53430):alice@payments:[12410]:WARNING:  there is no transaction in progress",
              action: "warning", eventClass: .datastoreActivity, outcome: .unknown, principal: "alice"),
    ]

    /// The prefix read by an independent splitter (a regular expression).
    static func prefix(_ entry: String) throws -> (time: String, host: String?, port: Int64?, user: String?, db: String?) {
        let re = try NSRegularExpression(pattern: #"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) UTC:(\[local\]|(.+?)\((\d+)\)|):(.*?)@(.*?):\[\d+\]:[A-Z0-9]+:"#)
        let m = try #require(re.firstMatch(in: entry, range: NSRange(entry.startIndex..., in: entry)))
        func group(_ i: Int) -> String? { Range(m.range(at: i), in: entry).map { String(entry[$0]) } }
        func known(_ s: String?) -> String? { s == "" || s == "[unknown]" ? nil : s }
        return (group(1)!, group(3), group(4).flatMap { Int64($0) }, known(group(5)), known(group(6)))
    }

    @Test(arguments: postgres)
    func postgresEntry(_ x: Expected) throws {
        let out = parseText(x.entry + "\n", format: .rdsPostgres, file: Self.file, account: Self.account)
        #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))")
        let ev = try #require(out.events.first)
        let p = try Self.prefix(x.entry)
        let millis = p.time.contains(".") ? "yyyy-MM-dd HH:mm:ss.SSS" : "yyyy-MM-dd HH:mm:ss"
        #expect(ev.time == oracleMillis(p.time, format: millis))
        #expect(ev.account == Self.account)
        #expect(ev.source == .rds)
        #expect(ev.srcIP == p.host.flatMap { IPAddress($0) })
        #expect(ev.srcPort == p.port)
        #expect(ev.resource == p.db)
        #expect(ev.resourceType == nil)
        #expect(ev.action == x.action)
        #expect(ev.eventClass == x.eventClass)
        #expect(ev.outcome == x.outcome)
        #expect(ev.principal == x.principal)
        #expect(ev.errorCode == x.errorCode)
        #expect(ev.raw == Array(x.entry.utf8))
        #expect(ev.userAgent == nil && ev.url == nil && ev.eventID == nil && ev.httpStatus == nil && ev.bytes == nil)
    }

    @Test func zones() throws {
        let cases: [(String, String)] = [
            ("2026-11-28 11:00:00 CET", "2026-11-28T10:00:00Z"),
            ("2026-07-28 12:00:00 CEST", "2026-07-28T10:00:00Z"),
            ("2026-11-28 10:00:00 GMT", "2026-11-28T10:00:00Z"),
            ("2026-11-28 05:00:00 EST", "2026-11-28T10:00:00Z"),
            ("2026-11-28 13:00:00 +03", "2026-11-28T10:00:00Z"),
            ("2026-11-28 06:30:00 -0330", "2026-11-28T10:00:00Z"),
            ("2026-11-28 15:30:00.5 +0530", "2026-11-28T10:00:00.500Z"),
        ]
        for (stamp, utc) in cases {
            let out = parseText("\(stamp):10.0.1.5(1):u@d:[1]:LOG:  x\n", format: .rdsPostgres, file: Self.file, account: Self.account)
            #expect(out.events.first?.time == Timestamp.parse(utc), "\(stamp)")
        }
    }

    /// The whole entries of `postgres`, one after the other.
    static var postgresLog: String { postgres.map(\.entry).joined(separator: "\n") + "\n" }

    @Test func continuationLinesJoinTheirEntryWhereverThePiecesEnd() {
        let whole = parseText(Self.postgresLog, format: .rdsPostgres, file: Self.file, account: Self.account)
        #expect(whole.quarantined.isEmpty)
        #expect(whole.events.map(rawText) == Self.postgres.map(\.entry))
        let lines = Self.postgresLog.split(separator: "\n").count
        for cut in 1 ..< lines {
            let out = parseInPieces(Self.postgresLog, format: .rdsPostgres, file: Self.file, cutAfter: [cut], account: Self.account)
            #expect(out.events == whole.events, "cut after line \(cut)")
            #expect(out.eventOffsets == whole.eventOffsets, "cut after line \(cut)")
        }
        let everyLine = parseInPieces(Self.postgresLog, format: .rdsPostgres, file: Self.file, cutAfter: Array(1 ..< lines),
                                      account: Self.account)
        #expect(everyLine.events == whole.events)
    }

    @Test func anEntryLastInTheInputIsEmittedByFinish() throws {
        let entry = "2026-11-28 10:00:05 UTC:10.0.1.5(53422):alice@payments:[12345]:LOG:  statement: SELECT 1\n\tFROM dual"
        let context = ParseContext(file: Self.file, defaultAccount: Self.account)
        let bytes = Array(entry.utf8)
        let first = bytes.withUnsafeBytes { IngestParser.parse(bytes: $0, format: .rdsPostgres, offset: 0, line: 1, context: context) }
        #expect(first.records == 0)
        let last = IngestParser.finish(format: .rdsPostgres, context: context)
        #expect(last.events.map(rawText) == [entry])
        #expect(last.eventOffsets == [0])
        #expect(IngestParser.finish(format: .rdsPostgres, context: context).records == 0)
    }

    @Test func theOpenEntryIsNotCountedAsRead() {
        let a = Self.postgres[0].entry, b = Self.postgres[2].entry
        let context = ParseContext(file: Self.file, defaultAccount: Self.account)
        let bytes = Array((a + "\n" + b + "\n").utf8)
        let out = bytes.withUnsafeBytes { IngestParser.parse(bytes: $0, format: .rdsPostgres, offset: 100, line: 7, context: context) }
        #expect(out.events.map(rawText) == [a])
        #expect(context.openRecordOffset == Int64(100 + a.utf8.count + 1))
        let rest = IngestParser.finish(format: .rdsPostgres, context: context)
        #expect(rest.events.map(rawText) == [b])
        #expect(rest.quarantined.isEmpty)
        #expect(context.openRecordOffset == nil)
    }

    @Test func crlfAndBlankLinesInsideAnEntry() {
        let text = "2026-11-28 10:00:05 UTC::alice@payments:[1]:LOG:  statement: SELECT 1\r\n\r\n\tFROM dual\r\n\r\n"
            + "2026-11-28 10:00:06 UTC::alice@payments:[1]:LOG:  statement: SELECT 2\r\n"
        let out = parseText(text, format: .rdsPostgres, file: Self.file, account: Self.account)
        #expect(out.events.map(rawText) == ["2026-11-28 10:00:05 UTC::alice@payments:[1]:LOG:  statement: SELECT 1\r\n\r\n\tFROM dual",
                                            "2026-11-28 10:00:06 UTC::alice@payments:[1]:LOG:  statement: SELECT 2"])
        #expect(out.records == 2)
        for cut in 1 ... 4 {
            let pieces = parseInPieces(text, format: .rdsPostgres, file: Self.file, cutAfter: [cut], account: Self.account)
            #expect(pieces.events == out.events, "cut after line \(cut)")
        }
    }

    @Test func badEntriesAreQuarantinedWhole() {
        let good = Self.postgres[1].entry
        let bad: [(String, String)] = [
            ("2026-11-28 10:00:00 XYZ:10.0.1.5(53422):alice@payments:[1]:LOG:  x", "unknown or ambiguous time zone abbreviation"),
            ("2026-11-28 10:00:00 CST:10.0.1.5(53422):alice@payments:[1]:LOG:  x", "unknown or ambiguous time zone abbreviation"),
            ("2026-11-28 25:00:00 UTC:10.0.1.5(53422):alice@payments:[1]:LOG:  x", "bad timestamp"),
            ("2026-11-28 10:00:00 UTC:10.0.1.5(53x22):alice@payments:[1]:LOG:  x", "bad remote host and port"),
            ("2026-11-28 10:00:00 UTC:10.0.1.5(53422)alice@payments:[1]:LOG:  x", "bad remote host and port"),
            ("2026-11-28 10:00:00 UTC:10.0.1.5(53422):alice-payments:[1]:LOG:  x", "no user@database"),
            ("2026-11-28 10:00:00 UTC:10.0.1.5(53422):alice@payments:[1a]:LOG:  x", "bad user@database:[pid] prefix"),
            ("2026-11-28 10:00:00 UTC:10.0.1.5(53422):alice@payments:[1]:log  x", "no severity"),
            ("2026-11-28 10:00:00 UTC:10.0.1.5(53422):alice@payments:[1]LOG:  statement: SELECT\n\t1", "bad user@database:[pid] prefix"),
        ]
        let text = (["\tFROM orphan", good] + bad.map(\.0) + [good]).joined(separator: "\n")
        let out = parseText(text, format: .rdsPostgres, file: Self.file, account: Self.account)
        #expect(out.events.map(rawText) == [good, good])
        #expect(out.quarantined.map(\.reason) == ["continuation line with no log entry before it"] + bad.map(\.1))
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == ["\tFROM orphan"] + bad.map(\.0))
        #expect(out.quarantined.map(\.line) == [1] + Array(3 ..< 3 + bad.count))
    }

    @Test func binaryLinesEndTheEntryAndNonUTF8IsKept() throws {
        let entry = Array("2026-11-28 10:00:05 UTC:10.0.1.5(53422):alice@payments:[1]:LOG:  statement: SELECT '".utf8) + [0xE9, 0xFF] + Array("'".utf8)
        let garbage: [UInt8] = [0x00, 0x01, 0x02, 0x9F, 0x03]
        let bytes = entry + [0x0A] + garbage + [0x0A] + Array("\tFROM dual\n".utf8)
        let out = parseText(bytes, format: .rdsPostgres, file: Self.file, account: Self.account)
        let ev = try #require(out.events.first)
        #expect(ev.raw == entry)
        #expect(ev.action == "query")
        #expect(out.quarantined.map(\.reason) == ["binary data (non-text bytes)", "continuation line with no log entry before it"])
        #expect(out.quarantined.first?.bytes == garbage)
    }

    @Test func accountAndInstanceFromThePath() throws {
        let entry = Self.postgres[1].entry
        let none = parseText(entry, format: .rdsPostgres, file: Self.file)
        #expect(none.quarantined.map(\.reason) == [ParseContext.noAccountReason])
        let path = "exports/111122223333/eu-west-1/aws/rds/instance/payments-db-1/postgresql/000000"
        let ev = try #require(parseText(entry, format: .rdsPostgres, file: path).events.first)
        #expect(ev.account == "111122223333")
        #expect(ev.region == "eu-west-1")
        #expect(ev.resource == "payments-db-1/payments")
        #expect(ev.resourceType == "AWS::RDS::DBInstance")
        let noDB = try #require(parseText(Self.postgres[13].entry, format: .rdsPostgres, file: path).events.first)
        #expect(noDB.resource == "payments-db-1")
        #expect(RDSParser.instance(path: "x/aws/rds/cluster/ledger/audit/f")?.id == "ledger")
        #expect(RDSParser.instance(path: "x/aws/rds/cluster/ledger/audit/f")?.type == "AWS::RDS::DBCluster")
        #expect(RDSParser.instance(path: "rds/instance") == nil)
    }

    /// Every entry of a real RDS PostgreSQL log (pgbadger's sample, CET timestamps,
    /// `[local]` and TCP sessions) parses, when the shared corpus is beside the package.
    @Test func realPostgresLogParsesWhole() throws {
        let path = CorpusConformanceTests.corpus.appendingPathComponent("pgbadger/rds.log.bz2").path
        guard FileManager.default.fileExists(atPath: path) else {
            print("RDS PostgreSQL sample not found at \(path); skipping")
            return
        }
        let bzcat = Process()
        bzcat.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        bzcat.arguments = ["bzcat", path]
        let pipe = Pipe()
        bzcat.standardOutput = pipe
        try bzcat.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        bzcat.waitUntilExit()
        guard bzcat.terminationStatus == 0 else {
            print("bzcat could not read \(path); skipping")
            return
        }
        let text = Array(data)
        let entries = text.withUnsafeBytes { buf in
            var cursor = LineCursor(buf, offset: 0, line: 1)
            var n = 0
            while let l = cursor.next() { if RDSParser.startsEntry(l.text) { n += 1 } }
            return n
        }
        // Through the reader in small chunks, so entries meet chunk ends.
        let reader = InputReader(source: BytesSource(text), name: path, chunkSize: 64 << 10)
        let context = ParseContext(file: path, defaultAccount: Self.account)
        var out = ParseOutput()
        while let chunk = reader.next() { out.append(IngestParser.parse(chunk: chunk, format: .rdsPostgres, context: context)) }
        out.append(IngestParser.finish(format: .rdsPostgres, context: context))
        #expect(out.quarantined.isEmpty, "\(Set(out.quarantined.map(\.reason)))")
        #expect(out.events.count == entries)
        #expect(out.events.count > 100_000)
        #expect(out.events.first?.time == Timestamp.parse("2020-03-11T19:40:43Z"))
        #expect(out.events.filter { $0.action == "auth_failed" }.count == 2)
        #expect(out.events.filter { $0.action == "query" }.count > 100_000)
        // Every line is one entry here: each raw record is its line, one after the other.
        var next = 0
        for (i, (ev, offset)) in zip(out.events, out.eventOffsets).enumerated() {
            #expect(offset == Int64(next))
            if i % 997 == 0 { #expect(ev.raw[...] == text[next ..< next + ev.raw.count]) }
            next += ev.raw.count + 1
        }
        #expect(next == text.count)
    }

    // MARK: MySQL / MariaDB audit

    struct Audit: Sendable, CustomTestStringConvertible {
        var line: String
        var time: String
        var action: String
        var eventClass: EventClass
        var outcome: Outcome
        var errorCode: String? = nil
        var testDescription: String { action + ": " + String(line.prefix(60)) }
    }

    static let audit: [Audit] = [
        .init(line: "20261128 10:00:00,ip-10-0-0-1,alice,10.0.1.5,12,0,CONNECT,payments,,0", time: "2026-11-28T10:00:00Z",
              action: "connect", eventClass: .authentication, outcome: .success),
        .init(line: #"20261128 10:00:01,ip-10-0-0-1,alice,10.0.1.5,12,351,QUERY,payments,'SELECT id, note FROM transfers WHERE note = \'a, b\' AND dir = \'C:\\tmp\'',0"#,
              time: "2026-11-28T10:00:01Z", action: "query", eventClass: .datastoreActivity, outcome: .success),
        .init(line: "20261128 10:00:02,ip-10-0-0-1,alice,10.0.1.5,12,352,QUERY,payments,'DROP TABLE audit_trail',1142", time: "2026-11-28T10:00:02Z",
              action: "query", eventClass: .datastoreActivity, outcome: .failure, errorCode: "1142"),
        .init(line: "20261128 10:00:03,ip-10-0-0-1,alice,10.0.1.5,12,353,READ,payments,transfers,", time: "2026-11-28T10:00:03Z",
              action: "read", eventClass: .datastoreActivity, outcome: .unknown),
        .init(line: "20261128 10:00:04,ip-10-0-0-1,alice,10.0.1.5,12,0,DISCONNECT,payments,,0", time: "2026-11-28T10:00:04Z",
              action: "disconnect", eventClass: .authentication, outcome: .success),
        .init(line: "1795860005123456,ip-10-0-0-1,mallory,198.51.100.7,13,0,FAILED_CONNECT,,,1045", time: "2026-11-28T10:00:05.123Z",
              action: "auth_failed", eventClass: .authentication, outcome: .failure, errorCode: "1045"),
        .init(line: "1795860006000000,ip-10-0-0-1,rdsadmin,localhost,14,0,CONNECT,,,0,SSL/TLS", time: "2026-11-28T10:00:06Z",
              action: "connect", eventClass: .authentication, outcome: .success),
        .init(line: "20261128 10:00:07,ip-10-0-0-1,bob,2001:db8::9,15,360,QUERY_DDL,payments,'CREATE TABLE t (a INT)',0", time: "2026-11-28T10:00:07Z",
              action: "query_ddl", eventClass: .datastoreActivity, outcome: .success),
        .init(line: "20261128 10:00:08,ip-10-0-0-1,bob,2001:db8::9,15,0,CHANGE_USER,payments,,0", time: "2026-11-28T10:00:08Z",
              action: "change_user", eventClass: .authentication, outcome: .success),
    ]

    @Test(arguments: audit)
    func auditLine(_ x: Audit) throws {
        let out = parseText(x.line + "\n", format: .rdsMySQL, file: "rds/audit/server_audit.log", account: Self.account)
        #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))")
        let ev = try #require(out.events.first)
        // The fields before the object never hold commas: split them plainly.
        let f = x.line.split(separator: ",", omittingEmptySubsequences: false)
        #expect(ev.time == Timestamp.parse(x.time))
        #expect(ev.account == Self.account)
        #expect(ev.source == .rds)
        #expect(ev.principal == dashless(f[2]))
        #expect(ev.srcIP == IPAddress(f[3]))
        #expect(ev.resource == dashless(f[7]))
        #expect(ev.action == x.action)
        #expect(ev.eventClass == x.eventClass)
        #expect(ev.outcome == x.outcome)
        #expect(ev.errorCode == x.errorCode)
        #expect(ev.raw == Array(x.line.utf8))
        #expect(ev.srcPort == nil && ev.url == nil && ev.eventID == nil && ev.resourceType == nil)
    }

    @Test func quotedObjectsSplitWhole() {
        var fields: [Range<Int>] = []
        let line = Self.audit[1].line
        let ok = Array(line.utf8).withUnsafeBytes { RDSParser.splitAudit($0, into: &fields) }
        #expect(ok)
        #expect(fields.count == 10)
        let bytes = Array(line.utf8)
        #expect(String(decoding: bytes[fields[8]], as: UTF8.self) == #"'SELECT id, note FROM transfers WHERE note = \'a, b\' AND dir = \'C:\\tmp\''"#)
        #expect(String(decoding: bytes[fields[9]], as: UTF8.self) == "0")
    }

    @Test func badAuditLinesAreQuarantined() {
        let good = Self.audit[0].line
        let bad: [(String, String)] = [
            ("20261128 10:00:00,ip-10-0-0-1,alice,10.0.1.5,12,0,CONNECT", "too few fields: 7, at least 10"),
            ("20261128 10:00:00,ip-10-0-0-1,alice,10.0.1.5,12,1,QUERY,payments,'SELECT \\'unclosed,0", "unclosed quoted object"),
            ("20261128 10:00:00,ip-10-0-0-1,alice,10.0.1.5,12,1,QUERY,payments,'SELECT 1'x,0", "unclosed quoted object"),
            ("20261328 10:00:00,ip-10-0-0-1,alice,10.0.1.5,12,0,CONNECT,payments,,0", "bad timestamp"),
            ("2026112810:00:00,ip-10-0-0-1,alice,10.0.1.5,12,0,CONNECT,payments,,0", "bad timestamp"),
            ("179586000512345,ip-10-0-0-1,alice,10.0.1.5,12,0,CONNECT,payments,,0", "bad timestamp"),
            ("20261128 10:00:00,ip-10-0-0-1,alice,10.0.1.5,x12,0,CONNECT,payments,,0", "bad connectionid"),
            ("20261128 10:00:00,ip-10-0-0-1,alice,10.0.1.5,12,,CONNECT,payments,,0", "bad queryid"),
            ("20261128 10:00:00,ip-10-0-0-1,alice,10.0.1.5,12,0,connect,payments,,0", "bad operation"),
            ("20261128 10:00:00,ip-10-0-0-1,alice,10.0.1.5,12,0,CONNECT,payments,,ok", "bad retcode"),
        ]
        let garbage: [UInt8] = [0x00, 0x01, 0x02, 0x9F, 0x03]
        var bytes = Array(([good] + bad.map(\.0)).joined(separator: "\n").utf8) + [0x0A] + garbage + [0x0A]
        let odd = Array("20261128 10:00:00,ip-10-0-0-1,".utf8) + [0xE9, 0xFF] + Array(",10.0.1.5,12,0,CONNECT,payments,,0".utf8)
        bytes += odd
        let out = parseText(bytes, format: .rdsMySQL, file: "rds/audit/server_audit.log", account: Self.account)
        #expect(out.events.map(\.raw) == [Array(good.utf8), odd])
        #expect(out.events.last?.principal == "\u{FFFD}\u{FFFD}")
        #expect(out.quarantined.map(\.reason) == bad.map(\.1) + ["binary data (non-text bytes)"])
        #expect(out.quarantined.map(\.line) == Array(2 ... bad.count + 2))
        let none = parseText(good, format: .rdsMySQL, file: "rds/audit/server_audit.log")
        #expect(none.quarantined.map(\.reason) == [ParseContext.noAccountReason])
    }

    @Test func recognition() {
        func detect(_ text: String) -> InputFormat? { InputFormat.detect(prefix: Array(text.utf8), path: "logs/file") }
        #expect(detect(Self.postgresLog) == .rdsPostgres)
        #expect(detect("\n" + Self.postgres[13].entry + "\n") == .rdsPostgres)
        #expect(detect("\t  FROM transfers\n\t WHERE id = 1;\n" + Self.postgres[13].entry + "\n") == .rdsPostgres)
        for x in Self.audit { #expect(detect(x.line + "\n") == .rdsMySQL, "\(x.line)") }
        #expect(detect("2026-11-28 10:00:00 UTC something else\n") == nil)
        #expect(detect("20261128 10:00:00,host,user\n") == nil)
        #expect(detect("a,b,c,d,e,f,g,h,i,j\n") == nil)
    }

    /// An entry longer than the cap is refused whole, with its length, without being
    /// held; the entries around it are kept.
    @Test func anOverlongEntryIsRefusedNotHeld() throws {
        let first = "2026-11-28 10:00:00 UTC:10.0.1.5(53422):alice@payments:[1]:LOG:  statement: SELECT 1"
        let long = "2026-11-28 10:00:01 UTC:10.0.1.5(53422):alice@payments:[1]:LOG:  statement: INSERT INTO t VALUES"
        let continuation = "\t(1, 'x'),\n"
        let count = RDSParser.maxEntry / continuation.utf8.count + 1000
        let last = "2026-11-28 10:00:02 UTC:10.0.1.5(53422):alice@payments:[1]:LOG:  disconnection: session time: 0:00:02.000 user=alice database=payments host=10.0.1.5 port=53422"
        var text = Array((first + "\n" + long + "\n").utf8)
        let longStart = first.utf8.count + 1
        text += Array(String(repeating: continuation, count: count).utf8)
        let longEnd = text.count
        text += Array((last + "\n").utf8)
        let reader = InputReader(source: BytesSource(text), name: Self.file, chunkSize: 1 << 20)
        let context = ParseContext(file: Self.file, defaultAccount: Self.account)
        var out = ParseOutput()
        while let chunk = reader.next() { out.append(IngestParser.parse(chunk: chunk, format: .rdsPostgres, context: context)) }
        out.append(IngestParser.finish(format: .rdsPostgres, context: context))
        // Counts and lengths only: a failure must not print 16 MiB.
        #expect(out.events.count == 2)
        #expect(out.events.map(\.raw.count) == [first.utf8.count, last.utf8.count])
        #expect(out.quarantined.count == 1)
        let q = try #require(out.quarantined.first)
        #expect(q.reason == "PostgreSQL entry longer than \(RDSParser.maxEntry) bytes")
        #expect(q.offset == Int64(longStart))
        #expect(q.length >= longEnd - longStart - 1 && q.length <= longEnd - longStart)
        #expect(q.bytes.count == QuarantinedRecord.maxBytes)
        #expect(out.records == 3)
    }
}
