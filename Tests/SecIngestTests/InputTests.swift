import Foundation
import SecModel
import Testing
@testable import SecIngest

/// Every accepted input form gives the same events, with raw bytes sliced verbatim.
@Suite struct InputFormTests {
    static let three = [Fixtures.record(1), Fixtures.record(2), Fixtures.record(3)]

    func checkThree(_ out: ParseOutput, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(out.quarantined.isEmpty, "\(out.quarantined.map(\.reason))", sourceLocation: sourceLocation)
        #expect(out.records == 3, sourceLocation: sourceLocation)
        #expect(out.events.map(\.eventID) == [1, 2, 3].map(Fixtures.eventID), sourceLocation: sourceLocation)
        #expect(out.events.map(\.raw) == InputFormTests.three.map(Fixtures.bytes), sourceLocation: sourceLocation)
    }

    @Test func recordsDocument() {
        checkThree(parse(Fixtures.recordsDocument(Self.three)))
    }

    @Test func recordsDocumentWithOtherKeysAndPrettyPrinting() {
        let doc = "{\n  \"Digest\": {\"a\": [1, 2]},\n  \"Records\": [\n    " + Self.three.joined(separator: ",\n    ")
            + "\n  ],\n  \"Count\": 3\n}\n"
        checkThree(parse(doc))
    }

    @Test func topLevelArray() {
        checkThree(parse("[\n" + Self.three.joined(separator: ",\n") + "\n]"))
    }

    @Test func ndjson() {
        checkThree(parse(Self.three.joined(separator: "\n") + "\n"))
        checkThree(parse("\r\n" + Self.three.joined(separator: "\r\n\r\n"))) // CRLF, blank lines, no final newline
    }

    @Test func singleRecordObject() {
        let out = parse(Fixtures.record(7))
        #expect(out.events.count == 1 && out.events[0].eventID == Fixtures.eventID(7))
    }

    @Test func prettyPrintedSingleRecord() throws {
        let obj = try JSONSerialization.jsonObject(with: Data(Fixtures.assumedRole.utf8))
        let pretty = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
        let out = parse(Array(pretty))
        #expect(out.events.count == 1)
        #expect(out.events.first?.raw == Array(pretty))
        #expect(out.events.first?.principal == "arn:aws:sts::111122223333:assumed-role/Ops/ops-session")
    }

    @Test func eventBridgeEnvelopesAsNDJSON() {
        let other = Fixtures.eventBridge.replacingOccurrences(of: "AWS API Call via CloudTrail",
                                                              with: "AWS Console Sign In via CloudTrail")
        let out = parse(Fixtures.eventBridge + "\n" + other + "\n")
        #expect(out.events.count == 2)
        #expect(out.events.map(\.raw) == [Fixtures.bytes(Fixtures.eventBridge), Fixtures.bytes(other)])
        let notCloudTrail = #"{"version":"0","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"111122223333","time":"2024-01-01T00:00:00Z","detail":{"state":"running"}}"#
        #expect(parse(notCloudTrail).quarantined.first?.reason == "not a CloudTrail record (EventBridge event not from CloudTrail)")
    }

    @Test func byteOrderMarkIsSkipped() {
        let out = parse([0xEF, 0xBB, 0xBF] + Fixtures.bytes(Fixtures.recordsDocument(Self.three)))
        checkThree(out)
    }

    @Test func gzipFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let raw = gzip(Fixtures.bytes(Fixtures.recordsDocument(Self.three)))
        let path = dir.appendingPathComponent("111122223333_CloudTrail_us-east-1_20240401T0000Z_abc.json.gz").path
        try Data(raw).write(to: URL(fileURLWithPath: path))
        var hashed: [UInt8] = []
        let fb = try IngestInput.read(path: path) { hashed.append(contentsOf: $0) }
        #expect(fb.isCompressed && fb.error == nil)
        #expect(fb.rawByteCount == Int64(raw.count))
        #expect(hashed == raw, "the digest callback sees the compressed bytes")
        checkThree(parse(fb.bytes))
    }

    @Test func multiMemberGzip() {
        let parts = Self.three.map { gzip(Fixtures.bytes($0 + "\n")) }
        let fb = IngestInput.read(source: BytesSource(parts.flatMap { $0 }, maxRead: 7), name: "multi.gz")
        #expect(fb.error == nil && fb.warnings.isEmpty)
        checkThree(parse(fb.bytes))
    }

    @Test func plainFileThroughReader() {
        let text = Fixtures.bytes(Self.three.joined(separator: "\n"))
        let fb = IngestInput.read(source: BytesSource(text, maxRead: 1000), name: "plain.json")
        #expect(!fb.isCompressed && fb.bytes == text && fb.rawByteCount == Int64(text.count))
    }

    @Test func standardInputPath() throws {
        #expect(try IngestInput.files(under: ["-"]) == ["-"])
        let doc = Fixtures.bytes(Fixtures.recordsDocument(Self.three))
        let fb = try IngestInput.read(path: "-", standardInput: BytesSource(gzip(doc), maxRead: 100))
        #expect(fb.path == "-" && fb.bytes == doc)
        let reader = try InputReader(path: "-", standardInput: BytesSource(Fixtures.bytes(Self.three.joined(separator: "\n"))))
        var out = ParseOutput()
        while let chunk = reader.next() { out.append(CloudTrailParser.parse(chunk: chunk, file: "-")) }
        checkThree(out)
    }

    @Test func directoryRecursionSortedSkippingHidden() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for sub in ["AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/02", "AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/01",
                    ".git/objects", "b"] {
            try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let files = ["AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/02/x.json.gz",
                     "AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/01/y.json.gz",
                     "AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/01/a.json",
                     "b/Z.json", "b/.hidden.json", ".git/objects/pack", ".DS_Store", "a.json"]
        for f in files { try Data("{}".utf8).write(to: dir.appendingPathComponent(f)) }
        try fm.createSymbolicLink(at: dir.appendingPathComponent("b/loop"), withDestinationURL: dir)
        let found = try IngestInput.files(under: [dir.path])
        let rel = found.map { String($0.dropFirst(dir.path.count + 1)) }
        #expect(rel == ["AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/01/a.json",
                        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/01/y.json.gz",
                        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/02/x.json.gz",
                        "a.json", "b/Z.json"])
        // A named hidden file is taken; a path given twice is listed once.
        let hidden = dir.appendingPathComponent("b/.hidden.json").path
        #expect(try IngestInput.files(under: [hidden, dir.path + "/a.json", hidden]) == [hidden, dir.path + "/a.json"])
        #expect(throws: InputError.self) { try IngestInput.files(under: [dir.path + "/missing"]) }
        #expect(throws: InputError.self) { try IngestInput.read(path: dir.path) }
        #expect(throws: InputError.self) { try IngestInput.read(path: dir.path + "/missing") }
        do {
            _ = try IngestInput.files(under: [dir.path + "/missing"])
        } catch let e as InputError {
            #expect(e.code == .notFound)
            #expect(e.description == dir.path + "/missing: no such file or directory")
        }
    }

    @Test func readerChunksAtLineEnds() throws {
        let lines = (0 ..< 2000).map { Fixtures.record($0) }
        let text = Fixtures.bytes(lines.joined(separator: "\n") + "\n")
        let reader = InputReader(source: BytesSource(gzip(text), maxRead: 4096), name: "big.jsonl.gz",
                                 chunkSize: 64 << 10)
        var out = ParseOutput()
        var chunks = 0
        var offset: Int64 = 0
        while let chunk = reader.next() {
            chunks += 1
            #expect(chunk.offset == offset)
            #expect(chunk.bytes.last == 0x0A)
            #expect(chunk.bytes.count <= 64 << 10)
            offset += Int64(chunk.bytes.count)
            out.append(CloudTrailParser.parse(chunk: chunk, file: "big.jsonl.gz"))
        }
        #expect(reader.error == nil && reader.isCompressed)
        #expect(chunks > 10)
        #expect(out.events.count == 2000 && out.quarantined.isEmpty)
        #expect(out.events.map(\.eventID) == (0 ..< 2000).map(Fixtures.eventID))
    }

    @Test func readerGivesDocumentsWhole() {
        let doc = Fixtures.bytes(Fixtures.recordsDocument((0 ..< 500).map { Fixtures.record($0) }))
        let reader = InputReader(source: BytesSource(doc, maxRead: 5000), name: "doc.json", chunkSize: 16 << 10)
        let chunk = reader.next()
        #expect(chunk?.isWholeInput == true && chunk?.bytes == doc)
        #expect(reader.next() == nil)
    }

    @Test func formatDetection() {
        let doc = Fixtures.bytes(Fixtures.recordsDocument(Self.three))
        #expect(InputFormat.detect(prefix: doc, path: "x.json") == .cloudtrail)
        #expect(InputFormat.detect(prefix: gzip(doc), path: "x.gz") == .cloudtrail)
        #expect(InputFormat.detect(prefix: Fixtures.bytes(Fixtures.record(1) + "\n"), path: "-") == .cloudtrail)
        #expect(InputFormat.detect(prefix: Fixtures.bytes(Fixtures.eventBridge), path: "-") == .cloudtrail)
        #expect(InputFormat.detect(prefix: Fixtures.bytes("[\n  {\n    \"awsRegion\": \"us-east-1\",\n    \"eventName\": \"X\""), path: "a.json") == .cloudtrail)
        #expect(InputFormat.detect(prefix: Fixtures.bytes(#"{"foo": 1}"#), path: "a.json") == nil)
        #expect(InputFormat.detect(prefix: [], path: "bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/01/f.json.gz") == .cloudtrail)
        #expect(InputFormat.detect(prefix: [], path: "AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2024/04/01/f.json.gz") == .cloudtrail)
        #expect(InputFormat.detect(prefix: doc, path: "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/04/01/d.json.gz") == .cloudtrailDigest)
        #expect(InputFormat.detect(prefix: [], path: "AWSLogs/111122223333/vpcflowlogs/us-east-1/f.log.gz") == .vpcflow)
        #expect(InputFormat.detect(prefix: [], path: "AWSLogs/111122223333/vpcdnsquerylogs/vpc-1/2024/04/01/f.log.gz") == .route53)
        #expect(InputFormat.detect(prefix: [], path: "AWSLogs/111122223333/GuardDuty/us-east-1/2024/04/01/f.jsonl.gz") == .guardduty)
        #expect(InputFormat.detect(prefix: [], path: "AWSLogs/111122223333/Config/us-east-1/2024/4/1/ConfigSnapshot/f.json.gz") == .config)
        #expect(InputFormat.detect(prefix: [], path: "AWSLogs/111122223333/elasticloadbalancing/us-east-1/2024/04/01/f.log.gz") == .alb)
    }

    @Test func pathHints() {
        let ct = PathHints(path: "logs/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2024/04/01/f.json.gz")
        #expect(ct.account == "111122223333" && ct.region == "eu-west-1" && ct.service == "CloudTrail")
        let s3 = PathHints(path: "access/444455556666/us-east-2/my-bucket/2024/04/01/2024-04-01-00-00-00-ABCD")
        #expect(s3.account == "444455556666" && s3.region == "us-east-2" && s3.service == nil)
        let none = PathHints(path: "cf/E2ABCDEF.2024-04-01-10.abcd1234.gz")
        #expect(none.account == nil && none.region == nil)
        // A file named by 12 digits is not a directory naming an account.
        #expect(PathHints(path: "x/123456789012").account == nil)
    }
}

/// A small deterministic generator for randomised tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct InputReaderPropertyTests {
    /// Random lines (some over the cap), random chunk sizes, caps, read sizes, gzip or
    /// not: the chunks and quarantined lines give back every line, in order, with its
    /// offset and line number.
    @Test func linesComeBackExactly() {
        var rng = SplitMix64(state: 20_261_129)
        for _ in 0 ..< 400 {
            let cap = Int.random(in: 1 ... 300, using: &rng)
            let chunk = Int.random(in: 1 ... 300, using: &rng)
            var lines: [[UInt8]] = []
            for _ in 0 ..< Int.random(in: 0 ... 25, using: &rng) {
                let len = Int.random(in: 0 ... (Bool.random(using: &rng) ? cap + 40 : cap), using: &rng)
                lines.append((0 ..< len).map { _ in UInt8.random(in: 0x61 ... 0x7A, using: &rng) })
            }
            let trailingNewline = Bool.random(using: &rng)
            var input = Array(lines.joined(separator: [0x0A]))
            if trailingNewline && !lines.isEmpty { input.append(0x0A) }
            let compressed = Bool.random(using: &rng)
            let reader = InputReader(source: BytesSource(compressed ? gzip(input) : input, maxRead: Int.random(in: 1 ... 500, using: &rng)),
                                     name: "f", chunkSize: chunk, maxLineLength: cap)
            var got: [(line: Int, offset: Int64, bytes: [UInt8], long: Bool)] = []
            while let c = reader.next() {
                #expect(c.bytes.count <= max(chunk, cap + 1))
                for q in c.quarantined { got.append((q.line, q.offset, q.bytes, true)) }
                var offset = c.offset, line = c.line, start = 0
                for (i, b) in c.bytes.enumerated() where b == 0x0A {
                    got.append((line, offset, Array(c.bytes[start ..< i]), false))
                    line += 1
                    offset += Int64(i - start + 1)
                    start = i + 1
                }
                if start < c.bytes.count { got.append((line, offset, Array(c.bytes[start...]), false)) }
            }
            got.sort { $0.offset < $1.offset }
            var expected: [(line: Int, offset: Int64, bytes: [UInt8], long: Bool)] = []
            var offset: Int64 = 0
            for (i, l) in lines.enumerated() {
                if i == lines.count - 1 && l.isEmpty && !trailingNewline { break }
                expected.append((i + 1, offset, l, l.count > cap))
                offset += Int64(l.count + 1)
            }
            let same = got.count == expected.count && zip(got, expected).allSatisfy {
                $0.line == $1.line && $0.offset == $1.offset && $0.bytes == $1.bytes && $0.long == $1.long
            }
            #expect(same, "cap \(cap) chunk \(chunk) lines \(lines.map(\.count))")
            #expect(reader.error == nil)
            if !same { break }
        }
    }
}
