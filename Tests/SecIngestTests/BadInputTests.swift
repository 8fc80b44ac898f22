import Foundation
import SecModel
import Testing
@testable import SecIngest

/// Bad input never stops the rest, never disappears silently and never crashes.
@Suite struct BadInputTests {
    @Test func truncatedGzipKeepsRecordsBeforeTheCut() throws {
        let records = (0 ..< 400).map { Fixtures.record($0) }
        let doc = Fixtures.bytes(Fixtures.recordsDocument(records))
        let whole = gzip(doc, level: 1)
        let cut = Array(whole.prefix(whole.count * 2 / 3))
        let fb = IngestInput.read(source: BytesSource(cut, maxRead: 3000), name: "cut.json.gz")
        let err = try #require(fb.error)
        #expect(err.code == .gzipTruncated)
        #expect(err.message == "gzip stream truncated after \(cut.count) bytes (\(fb.bytes.count) bytes inflated)")
        #expect(fb.bytes.count > 0 && fb.bytes.count < doc.count)
        #expect(Array(doc.prefix(fb.bytes.count)) == fb.bytes)

        let out = parse(fb.bytes, file: "cut.json.gz")
        // Every record wholly before the cut is an event; the one cut in half is quarantined.
        let complete = records.indices.filter { i in
            Fixtures.bytes(Fixtures.recordsDocument(Array(records[...i]))).count - 2 <= fb.bytes.count
        }.count
        #expect(out.events.count == complete)
        #expect(out.events.map(\.eventID) == (0 ..< complete).map(Fixtures.eventID))
        #expect(out.quarantined.count == 1)
        #expect(out.quarantined.first?.reason.hasPrefix("invalid JSON at byte ") == true)
        let reason = out.quarantined.first?.reason ?? ""
        #expect(reason.hasSuffix("of record: unexpected end of input") || reason.hasSuffix("of record: unterminated string"))
    }

    @Test func corruptGzipIsReported() {
        var bad = gzip(Fixtures.bytes(Fixtures.recordsDocument((0 ..< 50).map { Fixtures.record($0) })))
        for i in 40 ..< 60 { bad[i] ^= 0x5A }
        let fb = IngestInput.read(source: BytesSource(bad), name: "bad.gz")
        #expect(fb.error?.code == .gzipCorrupt)
        #expect(fb.error?.message.hasPrefix("gzip data corrupt at byte ") == true)
    }

    @Test func trailingGarbageAfterGzipIsAWarning() {
        let data = gzip(Fixtures.bytes(Fixtures.record(1))) + [0, 0, 0, 0]
        let fb = IngestInput.read(source: BytesSource(data), name: "pad.gz")
        #expect(fb.error == nil)
        #expect(fb.warnings == ["ignored 4 bytes of trailing data after the gzip stream"])
        #expect(parse(fb.bytes).events.count == 1)
    }

    @Test func invalidJSONInTheMiddleOfRecords() {
        var records = (0 ..< 10).map { Fixtures.record($0) }
        records[4] = records[4].replacingOccurrences(of: #""readOnly":true"#, with: #""readOnly":tru"#)
        records[7] = records[7].replacingOccurrences(of: #""eventSource":"ec2.amazonaws.com""#, with: #""eventSource":"ec2.amazonaws.com"}"#)
        let doc = Fixtures.recordsDocument(records)
        let out = parse(doc, file: "mid.json")
        #expect(out.events.map(\.eventID) == [0, 1, 2, 3, 5, 6, 8, 9].map(Fixtures.eventID))
        #expect(out.quarantined.count == 2)
        #expect(out.records == 10)
        let q = out.quarantined
        #expect(q.map { String(decoding: $0.bytes, as: UTF8.self) } == [records[4], records[7]])
        let broken = records[4].range(of: "tru,")!
        let offset4 = records[4].utf8.distance(from: records[4].startIndex, to: broken.lowerBound)
        #expect(q[0].reason == "invalid JSON at byte \(offset4) of record: invalid literal")
        let start4 = #"{"Records":["#.utf8.count + records[..<4].reduce(0) { $0 + $1.utf8.count + 1 }
        #expect(q[0].offset == Int64(start4))
        #expect(q[0].file == "mid.json" && q[0].line == 1)
        let cut7 = records[7].utf8.count - records[7].components(separatedBy: #"ec2.amazonaws.com"}"#)[1].utf8.count
        #expect(q[1].reason == "invalid JSON at byte \(cut7 + #","eventName""#.utf8.count) of record: expected ',' or ']'")
    }

    @Test func unterminatedStringSwallowingTheNextRecordStart() {
        var records = (0 ..< 5).map { Fixtures.record($0) }
        records[2] = records[2].replacingOccurrences(of: #""aws-cli/2.15.30""#, with: #""aws-cli/2.15.30"#)
        let out = parse(Fixtures.recordsDocument(records))
        #expect(out.events.map(\.eventID) == [0, 1, 3, 4].map(Fixtures.eventID))
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == [records[2]])
    }

    @Test func resyncUsesTheFirstKeyOfKeySortedRecords() throws {
        // Key-sorted dumps (as stratus-red-team's) start records with awsRegion.
        let sorted = try (0 ..< 4).map { n -> String in
            let obj = try JSONSerialization.jsonObject(with: Data(Fixtures.record(n).utf8))
            return String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self)
        }
        var broken = sorted
        broken[1] = broken[1].replacingOccurrences(of: "\"readOnly\" : true", with: "\"readOnly\" : yes")
        #expect(broken[1] != sorted[1])
        let out = parse("[\n" + broken.joined(separator: ",\n") + "\n]\n")
        #expect(out.events.map(\.eventID) == [0, 2, 3].map(Fixtures.eventID))
        #expect(out.quarantined.count == 1)
        #expect(out.quarantined.first?.line == 3 + sorted[0].filter { $0 == "\n" }.count)
    }

    @Test func recordWithoutEventTime() {
        let noTime = Fixtures.record(1).replacingOccurrences(of: #""eventTime":"2024-04-01T00:00:01Z","#, with: "")
        let badTime = Fixtures.record(2).replacingOccurrences(of: "2024-04-01T00:00:02Z", with: "yesterday")
        let nullTime = Fixtures.record(3).replacingOccurrences(of: #""2024-04-01T00:00:03Z""#, with: "null")
        let out = parse([Fixtures.record(0), noTime, badTime, nullTime, Fixtures.record(4)].joined(separator: "\n"))
        #expect(out.events.map(\.eventID) == [0, 4].map(Fixtures.eventID))
        #expect(out.quarantined.map(\.reason) == ["record has no eventTime", "eventTime 'yesterday' is not RFC 3339",
                                                  "record has no eventTime"])
        #expect(out.quarantined.map(\.line) == [2, 3, 4])
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == [noTime, badTime, nullTime])
    }

    @Test func recordWithoutAccount() {
        let json = #"{"eventTime":"2024-01-01T00:00:00Z","eventName":"GetCallerIdentity","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","accountId":""}}"#
        let out = parse(json)
        #expect(out.events.isEmpty)
        #expect(out.quarantined.first?.reason == "record has no account (recipientAccountId or userIdentity.accountId)")
        #expect(parse(#"{"eventTime":"2024-01-01T00:00:00Z","recipientAccountId":"1"}"#).quarantined.first?.reason
                == "not a CloudTrail record (no eventName)")
    }

    @Test func binaryGarbageLineInNDJSON() {
        var garbage: [UInt8] = [0x1f, 0x8b, 0x08, 0x00]
        var x: UInt32 = 12345
        for _ in 0 ..< 300 {
            x = x &* 1_103_515_245 &+ 12345
            let b = UInt8(truncatingIfNeeded: x >> 16)
            garbage.append(b == 0x0A ? 0x00 : b)
        }
        let text = Fixtures.bytes(Fixtures.record(0) + "\n") + garbage + Fixtures.bytes("\n" + Fixtures.record(1) + "\nnot json at all\n" + Fixtures.record(2) + "\n")
        let out = parse(text, file: "mixed.jsonl")
        #expect(out.events.map(\.eventID) == [0, 1, 2].map(Fixtures.eventID))
        #expect(out.quarantined.map(\.reason) == ["binary data (non-text bytes)",
                                                  "invalid JSON at byte 0 of record: expected '{' or '['"])
        #expect(out.quarantined.map(\.line) == [2, 4])
        #expect(out.quarantined.first?.bytes == garbage)
        #expect(out.quarantined.first?.offset == Int64(Fixtures.record(0).utf8.count + 1))
    }

    @Test func tenMegabyteLineWorks() throws {
        let big = "x" + String(repeating: "0123456789abcdef", count: 10 << 16) // 10 MiB + 1
        let line = Fixtures.record(5).replacingOccurrences(of: #""readOnly":true"#, with: #""readOnly":true,"pad":""# + big + "\"")
        #expect(line.utf8.count > 10 << 20)
        let input = Fixtures.bytes(Fixtures.record(4) + "\n" + line + "\n" + Fixtures.record(6) + "\n")
        let reader = InputReader(source: BytesSource(input, maxRead: 1 << 20), name: "big.jsonl", chunkSize: 1 << 20)
        var out = ParseOutput()
        while let chunk = reader.next() { out.append(CloudTrailParser.parse(chunk: chunk, file: "big.jsonl")) }
        #expect(out.quarantined.isEmpty)
        #expect(out.events.map(\.eventID) == [4, 5, 6].map(Fixtures.eventID))
        #expect(out.events.count == 3 && out.events[1].raw.count == line.utf8.count)
    }

    @Test func lineOverTheCapIsQuarantined() throws {
        let cap = 1 << 20
        let long = String(repeating: "y", count: 3 * cap)
        let line = Fixtures.record(5).replacingOccurrences(of: #""readOnly":true"#, with: #""pad":""# + long + "\"")
        let input = Fixtures.bytes(Fixtures.record(4) + "\n" + line + "\n" + Fixtures.record(6) + "\n")
        let reader = InputReader(source: BytesSource(input, maxRead: 100_000), name: "cap.jsonl", chunkSize: 64 << 10,
                                 maxLineLength: cap)
        var out = ParseOutput()
        var maxChunk = 0
        while let chunk = reader.next() {
            maxChunk = max(maxChunk, chunk.bytes.count)
            out.append(CloudTrailParser.parse(chunk: chunk, file: "cap.jsonl"))
        }
        #expect(out.events.map(\.eventID) == [4, 6].map(Fixtures.eventID))
        #expect(out.quarantined.count == 1)
        let q = try #require(out.quarantined.first)
        #expect(q.reason == "line longer than 1048576 bytes")
        #expect(q.line == 2)
        #expect(q.offset == Int64(Fixtures.record(4).utf8.count + 1))
        #expect(q.length == line.utf8.count)
        #expect(q.bytes.count == QuarantinedRecord.maxBytes && q.isTruncated)
        #expect(q.bytes == Array(Fixtures.bytes(line).prefix(QuarantinedRecord.maxBytes)))
        #expect(maxChunk <= cap + 1)
        #expect(out.records == 3)
    }

    @Test func defaultCapIsSixteenMebibytes() {
        let over = [UInt8](repeating: UInt8(ascii: "q"), count: (16 << 20) + 10)
        let input = Fixtures.bytes(Fixtures.record(1) + "\n") + over + Fixtures.bytes("\n" + Fixtures.record(2) + "\n")
        let reader = InputReader(source: BytesSource(input, maxRead: 4 << 20), name: "default.jsonl")
        var out = ParseOutput()
        while let chunk = reader.next() { out.append(CloudTrailParser.parse(chunk: chunk, file: "default.jsonl")) }
        #expect(out.events.map(\.eventID) == [1, 2].map(Fixtures.eventID))
        #expect(out.quarantined.map(\.reason) == ["line longer than 16777216 bytes"])
        #expect(out.quarantined.first?.length == over.count)
    }

    @Test func lineOverTheCapAtTheEndWithoutNewline() {
        let input = Fixtures.bytes(Fixtures.record(1) + "\n" + String(repeating: "z", count: 5000))
        let reader = InputReader(source: BytesSource(input), name: "t", chunkSize: 1024, maxLineLength: 2000)
        var out = ParseOutput()
        while let chunk = reader.next() { out.append(CloudTrailParser.parse(chunk: chunk, file: "t")) }
        #expect(out.events.count == 1)
        #expect(out.quarantined.map(\.reason) == ["line longer than 2000 bytes"])
        #expect(out.quarantined.first?.length == 5000)
    }

    @Test func nonUTF8BytesInAFieldKeepRawVerbatim() throws {
        var bytes = Fixtures.bytes(Fixtures.record(3))
        let agent = Array("aws-cli/2.15.30".utf8)
        let at = try #require(bytes.firstRange(of: agent))
        bytes.replaceSubrange(at, with: Array("aws-cli/".utf8) + [0xC3, 0x28, 0xFF, 0xE2, 0x82] + Array(" end".utf8))
        let out = parse(bytes + [0x0A] + bytes)
        #expect(out.quarantined.isEmpty)
        #expect(out.events.count == 2)
        #expect(out.events.first?.raw == bytes)
        #expect(out.events.first?.userAgent == "aws-cli/\u{FFFD}(\u{FFFD}\u{FFFD} end")
        #expect(out.events.first?.userAgent == out.events.last?.userAgent)
    }

    @Test func refusalReasonsQuoteNoPayload() {
        let secret = "AKIA-SECRET-TOKEN-VALUE"
        let inputs = [
            #"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","recipientAccountId":"1","userAgent":""# + secret + "\u{01}\"}",
            #"{"eventName":"X","recipientAccountId":"1","p":""# + secret + #""}"#,
            #"{"eventName":"X","eventTime":"2024-01-01T00:00:00Z","p":""# + secret + #""}"#,
            #"{"eventName":"X","eventTime":"2024-01-01T00:00:00Z","p":""# + secret + #"", }"#,
        ]
        let out = parse(inputs.joined(separator: "\n"))
        #expect(out.quarantined.count == 4)
        for q in out.quarantined { #expect(!q.reason.contains(secret)) }
    }

    @Test func malformedInputsNeverCrash() {
        let bases = [Fixtures.recordsDocument([Fixtures.record(1), Fixtures.assumedRole]), Fixtures.eventBridge,
                     "[" + Fixtures.s3GetObject + "]"]
        var rng = SystemRandomNumberGenerator()
        var total = 0
        for base in bases {
            let b = Fixtures.bytes(base)
            for cut in stride(from: 0, to: b.count, by: 7) {
                let out = parse(Array(b[..<cut]))
                total += out.records
                #expect(out.records == out.events.count + out.quarantined.count)
            }
            for _ in 0 ..< 300 {
                var m = b
                for _ in 0 ..< 3 { m[Int.random(in: 0 ..< m.count, using: &rng)] = UInt8.random(in: 0 ... 255, using: &rng) }
                let out = parse(m)
                #expect(out.records == out.events.count + out.quarantined.count)
                for ev in out.events { #expect(m.firstRange(of: ev.raw) != nil) }
            }
        }
        #expect(total > 0)
    }
}

@Suite struct RecoveryTests {
    /// Records 0...5 of a compact document, with record 1 mangled as given.
    func run(mangle: (String) -> String) -> (ParseOutput, [String]) {
        var records = (0 ..< 6).map { Fixtures.record($0) }
        records[1] = mangle(records[1])
        return (parse(Fixtures.recordsDocument(records)), records)
    }

    @Test(arguments: [
        (#""readOnly":true"#, #""readOnly":true}]"#, "unbalanced ']'"),
        (#""readOnly":true"#, #""readOnly":true}"#, "expected ',' or ']'"),
        (#""readOnly":true"#, #""readOnly":true}}"#, "expected ',' or ']'"),
        (#""readOnly":true"#, #""readOnly":true]"#, "expected ',' or '}'"),
        (#""eventTime":"#, #""eventTime"#, "expected ':'"),
        (#""maxResults":1"#, #""maxResults":01"#, "expected ',' or '}'"),
        (#""maxResults":1"#, #""maxResults":1.e3"#, "invalid number"),
        (#""aws-cli/2.15.30""#, #""aws-cli\x/2.15.30""#, "invalid escape"),
        (#""aws-cli/2.15.30""#, #""aws-cli\u12G4""#, #"invalid \u escape"#),
        (#""aws-cli/2.15.30""#, "\"aws-cli\t\"", "control character in string"),
        (#""readOnly":true"#, #""readOnly":true,"#, "expected '\"' to start a key"),
        (#""readOnly":true"#, #""readOnly":TRUE"#, "expected a value"),
    ] as [(String, String, String)])
    func recordBrokenMidDocument(find: String, replace: String, message: String) {
        let (out, records) = run { $0.replacingOccurrences(of: find, with: replace) }
        #expect(out.events.map(\.eventID) == [0, 2, 3, 4, 5].map(Fixtures.eventID))
        #expect(out.quarantined.count == 1)
        #expect(out.quarantined.first.map { String(decoding: $0.bytes, as: UTF8.self) } == records[1])
        #expect(out.quarantined.first?.reason.hasSuffix("of record: " + message) == true,
                "\(out.quarantined.first?.reason ?? "")")
        #expect(out.records == 6)
    }

    @Test func nonObjectElementsAreRefusedAlone() {
        let doc = #"{"Records":["# + Fixtures.record(0) + #","text",42,null,[1,2],"# + Fixtures.record(1) + "]}"
        let out = parse(doc)
        #expect(out.events.map(\.eventID) == [0, 1].map(Fixtures.eventID))
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == [#""text""#, "42", "null", "[1,2]"])
        #expect(Set(out.quarantined.map(\.reason)) == ["not a CloudTrail record (array element is not an object)"])
    }

    @Test func brokenLastRecordOfAnArray() {
        let doc = Fixtures.recordsDocument([Fixtures.record(0), String(Fixtures.record(1).dropLast(5))])
        let out = parse(doc)
        #expect(out.events.count == 1)
        #expect(out.quarantined.count == 1)
    }
}

@Suite struct TopLevelRecoveryTests {
    @Test func strayClosersInACompactDocumentDoNotHalfReadARecord() {
        var records = (0 ..< 6).map { Fixtures.record($0) }
        records[1] = records[1].replacingOccurrences(of: #""readOnly":true"#, with: #""readOnly":true}]}"#)
        let out = parse(Fixtures.recordsDocument(records))
        #expect(out.events.map(\.eventID) == [0, 2, 3, 4, 5].map(Fixtures.eventID))
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == [records[1]])
        #expect(out.quarantined.first?.reason.hasSuffix("of record: unbalanced ']'") == true)
    }

    @Test func junkBeforeARecordOnAnNDJSONLine() {
        let text = Fixtures.record(0) + "\nxx," + Fixtures.record(1) + "\n" + Fixtures.record(2) + "\n" + Fixtures.record(3)
        let out = parse(text)
        #expect(out.events.map(\.eventID) == [0, 1, 2, 3].map(Fixtures.eventID))
        #expect(out.quarantined.map { String(decoding: $0.bytes, as: UTF8.self) } == ["xx"]) // the separating comma is not part of the piece
        #expect(out.quarantined.first?.line == 2)
    }

    @Test func brokenRecordsDocumentsOnePerLine() {
        var a = (0 ..< 3).map { Fixtures.record($0) }
        a[1] = String(a[1].dropLast(30))
        let b = (3 ..< 6).map { Fixtures.record($0) }
        let text = Fixtures.recordsDocument(a) + "\n" + Fixtures.recordsDocument(b) + "\n"
        let out = parse(text)
        #expect(out.events.map(\.eventID) == [0, 2, 3, 4, 5].map(Fixtures.eventID))
        #expect(out.quarantined.count == 1)
    }

    @Test func truncatedLineInNDJSONOfDocuments() {
        let first = Fixtures.recordsDocument((0 ..< 3).map { Fixtures.record($0) })
        let cut = String(first.prefix(first.utf8.count - 200))
        let text = cut + "\n" + Fixtures.recordsDocument((3 ..< 5).map { Fixtures.record($0) }) + "\n"
        let out = parse(text)
        #expect(out.events.map(\.eventID) == [0, 1, 3, 4].map(Fixtures.eventID))
        #expect(out.quarantined.count == 1)
    }
}

@Test func nestedRecordsDocumentsAreBounded() {
    var doc = Fixtures.recordsDocument([Fixtures.record(0)])
    for _ in 0 ..< 3 { doc = #"{"Records":["# + doc + "]}" }
    #expect(parse(doc).events.count == 1)
    for _ in 0 ..< 5 { doc = #"{"Records":["# + doc + "]}" }
    let out = parse(doc)
    #expect(out.events.isEmpty)
    #expect(out.quarantined.map(\.reason) == ["not a CloudTrail record (Records documents nested too deep)"])
}
