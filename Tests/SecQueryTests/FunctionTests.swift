import Foundation
import Testing
import SecModel
@testable import SecQuery

/// Binds `events | eval x = EXPR` and evaluates it over one event with `fields` set
/// (every other field null), through the row pipeline the engine uses.
func evaluate(_ expr: String, _ fields: [Field: Value] = [:]) throws -> Value {
    let bound = try Binder(now: 0).bind(try Parser.parse("events | eval x = " + expr))
    let row = Field.allCases.map { fields[$0] ?? .null }
    let out = try #require(RowPipeline.streamOne(bound.stages, row: row))
    return try #require(out.last)
}


/// Texts the string functions are checked on: empty, ASCII, separators at the ends and
/// doubled, and characters of more than one scalar (é as e + combining accent, a flag).
let sampleTexts = ["", "a", "arn:aws:iam::123456789012:user/alice", "/a//b/", "ünïcödé", "e\u{301}te\u{301}", "🇫🇷/🇩🇪", "  x  "]

@Suite struct StringFunctionTests {
    @Test func substrCountsCharactersFromZeroAndClamps() throws {
        for s in sampleTexts {
            let chars = Array(s)
            for start in [-2, 0, 1, 3, chars.count, chars.count + 2] {
                // Oracle: slicing the array of characters, clamped.
                let from = min(max(start, 0), chars.count)
                #expect(try evaluate("substr(principal, \(start))", [.principal: .string(s)]) == .string(String(chars[from...])), "\(s) \(start)")
                for length in [-1, 0, 1, 2, 100] {
                    let to = length <= 0 ? from : min(from + length, chars.count)
                    #expect(try evaluate("substr(principal, \(start), \(length))", [.principal: .string(s)]) == .string(String(chars[from..<to])),
                            "\(s) \(start) \(length)")
                }
            }
        }
        #expect(try evaluate("substr(principal, 0, 2)") == .null)
        #expect(try evaluate("substr(action, bytes)", [.action: .string("GetObject")]) == .null)
        #expect(try evaluate("substr(action, bytes, 3)", [.action: .string("GetObject"), .bytes: .int(3)]) == .string("Obj"))
        #expect(try evaluate("substr(action, 1.9, 2)", [.action: .string("GetObject")]) == .string("et"))
    }

    @Test func splitKeepsEmptyPiecesLikeFoundation() throws {
        for s in sampleTexts {
            for sep in ["/", ":", "::", "a", "🇫🇷", "zz"] {
                // Oracle: Foundation's components(separatedBy:).
                let pieces = s.components(separatedBy: sep)
                #expect(try evaluate("split(principal, \"\(sep)\")", [.principal: .string(s)]) == .list(pieces.map(Value.string)), "\(s) \(sep)")
                for i in [-1, 0, 1, pieces.count - 1, pieces.count] {
                    let want: Value = i >= 0 && i < pieces.count ? .string(pieces[i]) : .null
                    #expect(try evaluate("split(principal, \"\(sep)\", \(i))", [.principal: .string(s)]) == want, "\(s) \(sep) \(i)")
                }
            }
            #expect(try evaluate("split(principal, \"\")", [.principal: .string(s)]) == .list([.string(s)]))
        }
        #expect(try evaluate("split(principal, \"/\")") == .null)
        #expect(try evaluate("split(principal, action)", [.principal: .string("a/b")]) == .null)
    }

    @Test func concatJoinsTextWithNullsAsEmpty() throws {
        let fields: [Field: Value] = [.action: .string("GetObject"), .bytes: .int(42), .srcIP: .ip(IPAddress("10.1.2.3")!),
                                      .time: .time(1_700_000_000_000)]
        #expect(try evaluate("concat(action, \"-\", bytes, \"-\", src_ip)", fields) == .string("GetObject-42-10.1.2.3"))
        #expect(try evaluate("concat(action, principal, \"!\")", fields) == .string("GetObject!"))
        #expect(try evaluate("concat(principal)", fields) == .string(""))
        #expect(try evaluate("concat(time)", fields) == .string(Timestamp.rfc3339(millis: 1_700_000_000_000)))
        for s in sampleTexts {
            #expect(try evaluate("concat(principal, action, principal)", [.principal: .string(s), .action: .string("|")]) == .string(s + "|" + s))
        }
    }

    @Test func lenLowerUpperAgreeWithSwift() throws {
        for s in sampleTexts {
            #expect(try evaluate("len(principal)", [.principal: .string(s)]) == .int(Int64(s.count)))
            #expect(try evaluate("lower(principal)", [.principal: .string(s)]) == .string(s.lowercased()))
            #expect(try evaluate("upper(principal)", [.principal: .string(s)]) == .string(s.uppercased()))
        }
        #expect(try evaluate("len(principal)") == .null)
    }

    @Test func ifTakesOneBranchAndNullIsFalse() throws {
        #expect(try evaluate("if(bytes > 100, \"big\", \"small\")", [.bytes: .int(101)]) == .string("big"))
        #expect(try evaluate("if(bytes > 100, \"big\", \"small\")", [.bytes: .int(100)]) == .string("small"))
        // A missing value compares false: the else branch.
        #expect(try evaluate("if(bytes > 100, \"big\", \"small\")") == .string("small"))
        #expect(try evaluate("if(exists(principal), principal, action)", [.action: .string("a")]) == .string("a"))
        #expect(try evaluate("if(true, bytes, 2.5)", [.bytes: .int(3)]) == .int(3))
        #expect(try evaluate("if(false, bytes / 0, null)", [.bytes: .int(3)]) == .null)
        // As a condition.
        #expect(try evaluate("if(bytes > 1, action == \"a\", action == \"b\")", [.bytes: .int(0), .action: .string("b")]) == .bool(true))
    }
}

@Suite struct AddressValueTests {
    /// Oracle for IPv4 membership: the address as a 32-bit number under the mask.
    func inNetwork(_ ip: String, _ net: String, _ bits: Int) -> Bool {
        func n(_ s: String) -> UInt32 { s.split(separator: ".").reduce(0) { $0 << 8 | UInt32($1)! } }
        let mask: UInt32 = bits == 0 ? 0 : ~0 << (32 - bits)
        return n(ip) & mask == n(net) & mask
    }

    @Test func ipAndCidrCompareAndMatchInLists() throws {
        let networks = [("10.0.0.0", 8), ("172.16.0.0", 12), ("192.168.0.0", 16), ("0.0.0.0", 0), ("10.1.2.3", 32)]
        for a in ["10.1.2.3", "10.255.0.1", "11.0.0.1", "172.31.255.255", "172.32.0.0", "192.168.1.1", "8.8.8.8"] {
            let fields: [Field: Value] = [.srcIP: .ip(IPAddress(a)!)]
            #expect(try evaluate("src_ip == ip(\"\(a)\")", fields) == .bool(true))
            #expect(try evaluate("src_ip != ip(\"1.1.1.1\")", fields) == .bool(a != "1.1.1.1"))
            #expect(try evaluate("ip(\"\(a)\") == src_ip", fields) == .bool(true))
            for (net, bits) in networks {
                let want = inNetwork(a, net, bits)
                #expect(try evaluate("src_ip == cidr(\"\(net)/\(bits)\")", fields) == .bool(want), "\(a) \(net)/\(bits)")
                #expect(try evaluate("cidr(\"\(net)/\(bits)\") != src_ip", fields) == .bool(!want), "\(a) \(net)/\(bits)")
            }
            let rfc1918 = inNetwork(a, "10.0.0.0", 8) || inNetwork(a, "172.16.0.0", 12) || inNetwork(a, "192.168.0.0", 16)
            #expect(try evaluate(#"src_ip in (cidr("10.0.0.0/8"), cidr("172.16.0.0/12"), cidr("192.168.0.0/16"))"#, fields) == .bool(rfc1918))
            #expect(try evaluate(#"src_ip not in (cidr("10.0.0.0/8"), cidr("172.16.0.0/12"), cidr("192.168.0.0/16"))"#, fields) == .bool(!rfc1918))
            #expect(try evaluate(#"src_ip in (cidr("10.0.0.0/8"), ip("8.8.8.8"), "192.168.1.1")"#, fields) == .bool(inNetwork(a, "10.0.0.0", 8) || a == "8.8.8.8" || a == "192.168.1.1"))
            #expect(try evaluate(#"src_ip not in (cidr("10.0.0.0/8"), ip("8.8.8.8"))"#, fields) == .bool(!(inNetwork(a, "10.0.0.0", 8) || a == "8.8.8.8")))
        }
        let v6: [Field: Value] = [.srcIP: .ip(IPAddress("2001:db8::1")!)]
        #expect(try evaluate(#"src_ip == cidr("2001:db8::/32")"#, v6) == .bool(true))
        #expect(try evaluate(#"src_ip == cidr("2001:db9::/32")"#, v6) == .bool(false))
        #expect(try evaluate(#"src_ip == ip("2001:0db8:0:0::1")"#, v6) == .bool(true))
        #expect(try evaluate(#"src_ip > ip("10.0.0.1")"#, [.srcIP: .ip(IPAddress("10.0.0.2")!)]) == .bool(true))
        // Text read as an address at run time; no address, no match.
        #expect(try evaluate(#"ip(principal) == cidr("10.0.0.0/8")"#, [.principal: .string("10.9.9.9")]) == .bool(true))
        #expect(try evaluate(#"ip(principal)"#, [.principal: .string("not an address")]) == .null)
        #expect(try evaluate(#"src_ip == cidr("10.0.0.0/8")"#) == .bool(false))
        #expect(try evaluate(#"cidr("10.0.0.0/8")"#) == .cidr(CIDR("10.0.0.0/8")!))
        #expect(try evaluate(#"cidr("10.0.0.0/8") == cidr("10.0.0.0/8")"#) == .bool(true))
    }
}

@Suite struct FunctionBindingTests {
    @Test func typeErrorsNameBothTypes() {
        #expect(bindError("events | where src_ip == bytes") == """
            error: cannot compare an address ('src_ip') with a number ('bytes')
             --> query:1:16
              |
            1 | events | where src_ip == bytes
              |                ^^^^^^^^^^^^^^^ convert one side, for example with tostring(), toint() or ip()
            """)
        #expect(bindError(#"events | where bytes > ip("10.0.0.1")"#) == #"""
            error: cannot compare a number ('bytes') with an address ('ip("10.0.0.1")')
             --> query:1:16
              |
            1 | events | where bytes > ip("10.0.0.1")
              |                ^^^^^^^^^^^^^^^^^^^^^^ convert one side, for example with tostring(), toint() or ip()
            """#)
        #expect(bindError("events | where len(bytes) > 3") == """
            error: 'len' needs text, but 'bytes' is a number
             --> query:1:20
              |
            1 | events | where len(bytes) > 3
              |                    ^^^^^ convert it first: len(tostring(bytes))
            """)
        #expect(bindError("events | eval x = principal * 2") == """
            error: cannot apply '*' to text ('principal') and a number ('2')
             --> query:1:19
              |
            1 | events | eval x = principal * 2
              |                   ^^^^^^^^^ arithmetic takes numbers, and times with durations
            """)
        #expect(bindError("events | eval x = bytes - action") == """
            error: cannot apply '-' to a number ('bytes') and text ('action')
             --> query:1:27
              |
            1 | events | eval x = bytes - action
              |                           ^^^^^^ arithmetic takes numbers, and times with durations
            """)
        #expect(bindError(#"events | eval x = if(bytes > 1, bytes, "none")"#) == #"""
            error: the two values of 'if' differ: a number ('bytes') and text ('"none"')
             --> query:1:33
              |
            1 | events | eval x = if(bytes > 1, bytes, "none")
              |                                 ^^^^^^^^^^^^^ convert one, for example with tostring()
            """#)
        #expect(bindError(#"events | where bytes in (cidr("10.0.0.0/8"))"#) == #"""
            error: cannot test a number ('bytes') against a network ('cidr("10.0.0.0/8")')
             --> query:1:16
              |
            1 | events | where bytes in (cidr("10.0.0.0/8"))
              |                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ networks hold addresses, like src_ip
            """#)
        #expect(bindError("events | where principal == bytes").contains("cannot compare text ('principal') with a number ('bytes')"))
        #expect(bindError("events | where time == src_ip").contains("cannot compare a time ('time') with an address ('src_ip')"))
        #expect(bindError(#"events | where src_ip < cidr("10.0.0.0/8")"#).contains("cannot order an address and a network with '<'"))
        #expect(bindError("events | eval x = substr(bytes, 1)").contains("'substr' needs text, but 'bytes' is a number"))
        #expect(bindError(#"events | eval x = substr(action, "1")"#).contains("expected a number, but '\"1\"' is text"))
        #expect(bindError(#"events | eval x = split(src_ip, ".")"#).contains("'split' needs text, but 'src_ip' is an address"))
        #expect(bindError("events | eval x = upper(time)").contains("'upper' needs text, but 'time' is a time"))
        #expect(bindError("events | eval x = if(len(action), 1, 2)").contains("expected a condition, not 'len(action)'"))
    }

    @Test func badArgumentsAndLiterals() {
        #expect(bindError(#"events | where src_ip == ip("10.0.0.300")"#) == #"""
            error: '10.0.0.300' is not an IP address
             --> query:1:29
              |
            1 | events | where src_ip == ip("10.0.0.300")
              |                             ^^^^^^^^^^^^ write it like "10.0.0.1" or "2001:db8::1"
            """#)
        #expect(bindError(#"events | where src_ip == cidr("10.0.0.0/33")"#).contains(#"'"10.0.0.0/33"' is not a CIDR block"#))
        #expect(bindError(#"events | where src_ip == cidr(principal)"#).contains("'principal' is not a CIDR block"))
        #expect(bindError("events | eval x = substr(action)").contains("'substr' takes text, a start and an optional length, not 1 argument"))
        #expect(bindError("events | eval x = split(action)").contains("'split' takes text, a separator and an optional index, not 1 argument"))
        #expect(bindError("events | eval x = if(true, 1)").contains("'if' takes a condition and two values, not 2 arguments"))
        #expect(bindError("events | eval x = concat()").contains("'concat' takes at least one argument"))
        #expect(bindError("events | eval x = substrr(action, 1)").contains("did you mean 'substr'?"))
        #expect(bindError(#"events | eval a = substr(action, 0, 3), b = split(principal, "/", 1), c = concat(action, bytes), d = if(bytes > 1, "x", "y"), e = ip(raw.sourceIPAddress), f = split(action, "e") | where e == cidr("10.0.0.0/8") and a == "Get" and b == "x""#) == "bound")
    }
}
