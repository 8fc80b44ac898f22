import Foundation
import Testing
@testable import SecIngest

/// The scanner against Foundation's parser: what one accepts the other accepts.
@Suite struct JSONScannerTests {
    func scan(_ text: String) -> (end: Int, offset: Int, message: String) {
        let s = JSONScanner()
        let bytes = Array(text.utf8)
        let end = bytes.withUnsafeBytes { s.scan($0) }
        return (end, s.failureOffset, "\(s.failureMessage)")
    }

    static let valid = [
        "{}", "[]", #"{"a":1}"#, #"[1,-2,3.5,-0.25e+3,0,1E9,true,false,null,"s"]"#, #"{"a":{"b":[{"c":[]}]}}"#,
        #""\u00e9\ud83d\ude00\n\t\"\\\/""#, " { \"a\" : [ 1 , 2 ] } ", #"{"":""}"#, "0", "-0", "1.5e-7",
        #"{"dup":1,"dup":2}"#, #""\ud800""#, // lone surrogate: allowed by the grammar
    ]

    static let invalid = [
        "{", "[1,]", #"{"a":1,}"#, "{a:1}", "{'a':1}", #"{"a" 1}"#, "[01]", "[1.]", "[.5]", "[-]", "[1e]", "[+1]",
        "[tru]", "[nul]", "[True]", #"["\x"]"#, #"["\u12"]"#, "[\"a\tb\"]", "[\"a\nb\"]", #"{"a":1}}"#, "[1 2]",
        "{\"a\":1 \"b\":2}", "[NaN]", "[Infinity]", "[0x10]", "\"abc", "[\"\u{0}\"]",
    ]

    @Test(arguments: valid)
    func acceptsWhatFoundationAccepts(_ text: String) {
        let r = scan(text.trimmingCharacters(in: .whitespaces))
        #expect(r.end == text.trimmingCharacters(in: .whitespaces).utf8.count, "\(r.message) at \(r.offset)")
        // Deliberate leniency: lone surrogate escapes (Foundation refuses them).
        guard text != #""\ud800""# else { return }
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) != nil)
    }

    @Test(arguments: invalid)
    func refusesWhatFoundationRefuses(_ text: String) {
        let r = scan(text)
        // `{"a":1}}` is a valid value followed by junk: the scanner stops after the value.
        if text == #"{"a":1}}"# { #expect(r.end == 7); return }
        #expect(r.end == -1)
        // Foundation on Linux accepts trailing commas; RFC 8259 does not.
        guard text != "[1,]" && text != #"{"a":1,}"# else { return }
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) == nil)
    }

    @Test func errorOffsetsAndMessages() {
        #expect(scan(#"{"a":1,}"#) == (-1, 7, "expected '\"' to start a key"))
        #expect(scan(#"{"a":1 "b":2}"#) == (-1, 7, "expected ',' or '}'"))
        #expect(scan("[1,2") == (-1, 4, "unexpected end of input"))
        #expect(scan(#"{"a":[1,2}"#) == (-1, 9, "expected ',' or ']'"))
        #expect(scan(#"{"a":"b"# ) == (-1, 5, "unterminated string"))
        #expect(scan(#"{"a":tx}"#) == (-1, 5, "invalid literal"))
        #expect(scan(String(repeating: "[", count: 600)).message == "nesting deeper than 512 levels")
    }

    @Test func tapeLinksSkipSubtrees() {
        let s = JSONScanner()
        let text = Array(#"{"a":{"x":[1,{"y":2}]},"b":[true,null],"c":"s\"q"}"#.utf8)
        text.withUnsafeBytes { buf in
            #expect(s.scan(buf) == buf.count)
            let b = s.member(0, "b")
            let c = s.member(0, "c")
            #expect(s[b].kind == .array && s[c].kind == .string)
            #expect(s[s.element(b, 1)].kind == .null)
            #expect(s.element(b, 2) == -1)
            #expect(s.member(0, "y") == -1) // nested keys are not members of the root
            var scratch: [UInt8] = []
            #expect(s.withStringBytes(c, scratch: &scratch) { Array($0) } == Array(#"s"q"#.utf8))
        }
    }

    @Test func unescapeMatchesFoundation() throws {
        func ours(_ body: String) -> String {
            var out: [UInt8] = []
            Array(body.utf8).withUnsafeBytes { JSONScanner.unescape($0, into: &out) }
            return String(decoding: out, as: UTF8.self)
        }
        let body = #"a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u4e2d\ud83d\ude00z"#
        let foundation = try #require(JSONSerialization.jsonObject(with: Data(("\"" + body + "\"").utf8),
                                                                   options: .fragmentsAllowed) as? String)
        #expect(ours(body) == foundation)
        #expect(ours(#"\ud83dX\udc00Y\ud83d"#) == "\u{FFFD}X\u{FFFD}Y\u{FFFD}")
    }
}

@Suite struct JSONPathTests {
    let raw = Array(Fixtures.assumedRole.utf8)

    @Test func parsesPaths() {
        #expect(JSONPath("userIdentity.sessionContext.attributes.mfaAuthenticated")?.segments
                == [.key("userIdentity"), .key("sessionContext"), .key("attributes"), .key("mfaAuthenticated")])
        #expect(JSONPath("resources[0].ARN")?.segments == [.key("resources"), .index(0), .key("ARN")])
        #expect(JSONPath(#"a["b.c"][2]["q\"x"]"#)?.segments == [.key("a"), .key("b.c"), .index(2), .key("q\"x")])
        #expect(JSONPath(#"a["b.c"][2]"#)?.description == #"a["b.c"][2]"#)
        for bad in ["", ".", "a.", "a..b", "a[", "a[x]", "a[1", #"a["b"#, ".a", "a]"] {
            #expect(JSONPath(bad) == nil, "\(bad)")
        }
    }

    @Test func looksUpEveryKind() throws {
        let r = oracle(Fixtures.assumedRole)
        func at(_ p: String) -> JSONValue? { JSONPath(p)!.lookup(in: raw) }
        #expect(at("userIdentity.sessionContext.attributes.mfaAuthenticated") == .string("true"))
        #expect(at("resources[0].ARN") == .string((r["resources"] as! [[String: Any]])[0]["ARN"] as! String))
        #expect(at("responseElements.instancesSet.items[0].currentState.code") == .number("0"))
        #expect(at("responseElements.instancesSet.items[0].previousState.code")?.int64 == 80)
        #expect(at("readOnly") == .bool(false))
        #expect(at("managementEvent") == .bool(true))
        #expect(at("userIdentity.sessionContext.webIdFederationData") == .object("{}"))
        #expect(at("resources")?.kind == .array)
        let obj = try #require(at("requestParameters"))
        #expect(obj == .object(#"{"instancesSet":{"items":[{"instanceId":"i-0abcd1234example"}]}}"#))
        #expect(at("resources[1]") == nil)
        #expect(at("nope") == nil)
        #expect(at("eventName.x") == nil)
        #expect(JSONPath.lookup(raw: Array(#"{"a":null,"b\u0041":"\u00e9"}"#.utf8), path: [.key("a")]) == .null)
        #expect(JSONPath.lookup(raw: Array(#"{"a":null,"b\u0041":"\u00e9"}"#.utf8), path: [.key("bA")]) == .string("é"))
    }

    @Test func agreesWithFoundationOnEveryLeaf() throws {
        // Walk every path Foundation sees in every fixture and compare.
        for (name, json) in Fixtures.all {
            let root = try JSONSerialization.jsonObject(with: Data(json.utf8))
            var checked = 0
            func walk(_ v: Any, _ path: [PathSegment]) {
                if let d = v as? [String: Any] {
                    for (k, x) in d { walk(x, path + [.key(k)]) }
                    return
                }
                if let a = v as? [Any] {
                    for (i, x) in a.enumerated() { walk(x, path + [.index(i)]) }
                    return
                }
                let got = JSONPath.lookup(raw: Array(json.utf8), path: path)
                checked += 1
                switch v {
                case let s as String: #expect(got == .string(s), "\(name) \(JSONPath(path))")
                case is NSNull: #expect(got == .null, "\(name) \(JSONPath(path))")
                case let n as NSNumber:
                    if case .bool(let b)? = got {
                        #expect(b == n.boolValue, "\(name) \(JSONPath(path))")
                    } else {
                        #expect(got?.double == n.doubleValue, "\(name) \(JSONPath(path))")
                    }
                default: Issue.record("unexpected leaf in \(name)")
                }
            }
            walk(root, [])
            #expect(checked > 10)
        }
    }

    @Test func envelopeFieldsAreFoundUnderDetail() {
        let raw = Array(Fixtures.eventBridge.utf8)
        #expect(JSONPath.lookupInRecord(raw: raw, path: [.key("requestParameters"), .key("bucketName")]) == .string("acme-public-site"))
        #expect(JSONPath.lookupInRecord(raw: raw, path: [.key("account")]) == .string("111122223333"))
        #expect(JSONPath.lookup(raw: raw, path: [.key("requestParameters")]) == nil)
    }

    @Test func malformedDocumentsNeverCrash() {
        let base = Array(Fixtures.s3GetObject.utf8)
        let paths = ["requestParameters.key", "resources[1].ARN", "additionalEventData.bytesTransferredOut", "x"].compactMap(JSONPath.init)
        for cut in 0 ..< base.count {
            for p in paths { _ = p.lookup(in: Array(base[..<cut])) }
        }
    }
}
