#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The log formats SecIngest reads. More sources (VPC flow, ALB, S3 access, CloudFront,
/// Route 53, RDS, GuardDuty, Config) are added as cases here and branches of
/// ``IngestParser/parse(bytes:file:format:offset:line:scratch:)``.
public enum InputFormat: String, Sendable, CaseIterable {
    /// CloudTrail records: S3 log files, NDJSON, single records, EventBridge envelopes.
    case cloudtrail
    /// CloudTrail digest files (`AWSLogs/<account>/CloudTrail-Digest/...`): integrity
    /// proofs of the log files, not events. Callers skip them; parsing one yields nothing.
    case cloudtrailDigest = "cloudtrail-digest"

    /// Recognises an input's format by its S3 key layout, then by its content.
    ///
    /// The path decides when it has the AWS layout `AWSLogs/[o-org/]<account>/CloudTrail/...`
    /// (or `CloudTrail-Digest`). Otherwise the content decides: CloudTrail when the first
    /// JSON object opens a `Records` document, or a record holding `eventVersion`,
    /// `eventSource` or `eventName`, or an EventBridge envelope whose `detail-type` ends
    /// in "via CloudTrail".
    ///
    /// - Parameters:
    ///   - prefix: the first bytes of the input, decompressed or not (a gzip prefix is
    ///     inflated here); only the first 64 KiB of content are looked at, so a whole
    ///     chunk can be passed.
    ///   - path: the input's path (`-` for standard input).
    /// - Returns: nil when neither says what the input is.
    public static func detect(prefix: UnsafeRawBufferPointer, path: String) -> InputFormat? {
        if let byPath = detect(path: path) { return byPath }
        if prefix.count >= 2 && prefix[0] == 0x1f && prefix[1] == 0x8b {
            let inflated = inflatePrefix(prefix, limit: 64 << 10)
            return inflated.withUnsafeBytes { detect(content: $0) }
        }
        return detect(content: prefix)
    }

    public static func detect(prefix: [UInt8], path: String) -> InputFormat? {
        prefix.withUnsafeBytes { detect(prefix: $0, path: path) }
    }

    /// The format an S3 key layout implies, if any.
    static func detect(path: String) -> InputFormat? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let logs = parts.lastIndex(of: "AWSLogs") else { return nil }
        var k = logs + 1
        if k < parts.count, parts[k].hasPrefix("o-") { k += 1 } // organisation trail
        guard k + 1 < parts.count, parts[k].utf8.count == 12, parts[k].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            return nil
        }
        switch parts[k + 1] {
        case "CloudTrail", "CloudTrail-Insight": return .cloudtrail
        case "CloudTrail-Digest": return .cloudtrailDigest
        default: return nil
        }
    }

    static func detect(content b: UnsafeRawBufferPointer) -> InputFormat? {
        var i = 0
        if b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { i = 3 }
        while i < b.count && JSONScanner.isSpace(b[i]) { i += 1 }
        while i < b.count && b[i] == UInt8(ascii: "[") {
            i += 1
            while i < b.count && JSONScanner.isSpace(b[i]) { i += 1 }
        }
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        if JSONScanner.objectStartsWithKey(b, at: i, key: "Records") { return .cloudtrail }
        let window = UnsafeRawBufferPointer(rebasing: b[i ..< min(b.count, i + 65536)])
        for key: StaticString in ["\"eventVersion\"", "\"eventSource\"", "\"eventName\""] where contains(window, key) {
            return .cloudtrail
        }
        if contains(window, "\"detail-type\"") && contains(window, "via CloudTrail\"") { return .cloudtrail }
        return nil
    }

    private static func contains(_ hay: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        let m = needle.utf8CodeUnitCount
        guard hay.count >= m else { return false }
        let first = needle.utf8Start.pointee
        var k = 0
        while let j = Bytes.firstIndex(of: first, in: hay, from: k, to: hay.count - m + 1) {
            if memcmp(hay.baseAddress! + j, needle.utf8Start, m) == 0 { return true }
            k = j + 1
        }
        return false
    }

    /// Inflates at most `limit` bytes of a gzip prefix (a cut stream is fine here).
    private static func inflatePrefix(_ prefix: UnsafeRawBufferPointer, limit: Int) -> [UInt8] {
        let stream = DecodingStream(source: BytesSource(Array(prefix.prefix(2 * limit))), name: "prefix")
        var out = [UInt8](repeating: 0, count: limit)
        var len = 0
        while len < limit {
            let n = out.withUnsafeMutableBytes { stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[len...])) }
            if n == 0 { break }
            len += n
        }
        out.removeSubrange(len...)
        return out
    }
}
