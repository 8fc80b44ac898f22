import Foundation
import SecModel
import Testing
@testable import SecIngest

// Helpers shared by the tests of the line-oriented formats.

/// Parses a whole text input in one piece, as ``IngestParser`` does for a small file.
func parseText(_ text: String, format: InputFormat, file: String, account: String? = nil) -> ParseOutput {
    parseText(Array(text.utf8), format: format, file: file, account: account)
}

func parseText(_ bytes: [UInt8], format: InputFormat, file: String, account: String? = nil) -> ParseOutput {
    let out = bytes.withUnsafeBytes { IngestParser.parse(bytes: $0, file: file, format: format, account: account) }
    #expect(out.records == out.events.count + out.quarantined.count)
    return out
}

/// Parses an input in pieces that end after the given line numbers (1-based), through one
/// context, then finishes it: what a pipeline does with an input's chunks.
func parseInPieces(_ text: String, format: InputFormat, file: String, cutAfter cuts: [Int],
                   account: String? = nil) -> ParseOutput {
    let bytes = Array(text.utf8)
    var ends: [Int] = []
    var line = 0
    for (i, b) in bytes.enumerated() where b == 0x0A {
        line += 1
        if cuts.contains(line) { ends.append(i + 1) }
    }
    ends.append(bytes.count)
    let context = ParseContext(file: file, defaultAccount: account)
    var out = ParseOutput()
    var start = 0, firstLine = 1
    for end in ends where end > start {
        let piece = Array(bytes[start ..< end])
        out.append(piece.withUnsafeBytes {
            IngestParser.parse(bytes: $0, format: format, offset: Int64(start), line: firstLine, context: context)
        })
        firstLine += piece.filter { $0 == 0x0A }.count
        start = end
    }
    out.append(IngestParser.finish(format: format, context: context))
    #expect(out.records == out.events.count + out.quarantined.count)
    return out
}

/// An event's raw record as text.
func rawText(_ ev: Event) -> String { String(decoding: ev.raw, as: UTF8.self) }

/// `-` (AWS's missing value) and the empty string as nil.
func dashless(_ s: Substring) -> String? { s == "-" || s.isEmpty ? nil : String(s) }

/// Milliseconds since the epoch of a date in a Foundation date format (the oracle for
/// the text formats' own time parsers).
func oracleMillis(_ text: String, format: String) -> Int64? {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = format
    return f.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
}
