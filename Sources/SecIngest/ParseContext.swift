import SecModel

/// What a parse knows about the input it is reading, beyond its bytes, and the state a
/// format carries from one chunk of an input to the next (a header line's columns, a
/// PostgreSQL entry continued on the next lines).
///
/// One per input. Chunks of an input that has a context must be parsed in order, on
/// one thread at a time; ``IngestParser/finish(context:)`` flushes what is left.
public final class ParseContext {
    /// The input's name (a path, or `-`).
    public let file: String
    /// Account named by the input's path (see ``PathHints``).
    public let pathAccount: String?
    /// Region named by the input's path.
    public let pathRegion: String?
    /// Account given by the operator (`secq ingest --account`), the last resort.
    public let defaultAccount: String?
    /// Buffers and caches of the thread parsing this input.
    public let scratch: ParseScratch
    /// Per bank, the identity of its log in the store being written (see
    /// `BankStore.lineage`): an archive line's old sequence number is kept only when
    /// the line comes from that log.
    public var bankLogs: [String: String] = [:]
    /// Per-format state carried between chunks; each parser keeps its own type here.
    var state: AnyObject?

    /// The parser's state for this input, made by `make` on the first piece.
    func state<T: AnyObject>(_ make: () -> T) -> T {
        if let s = state as? T { return s }
        let s = make()
        state = s
        return s
    }
    /// Offset of a record the parser holds open at the end of the last piece (its
    /// continuation may follow), so the caller does not count it as read yet.
    public internal(set) var openRecordOffset: Int64?
    /// The header lines that give later lines their meaning (a VPC flow log's field
    /// names, CloudFront's `#Version`/`#Fields`), verbatim with their line ends, so a
    /// quarantined line can be parsed again on its own.
    public internal(set) var header: [UInt8]?

    public init(file: String, defaultAccount: String? = nil, scratch: ParseScratch? = nil) {
        self.file = file
        let hints = PathHints(path: file)
        pathAccount = hints.account
        pathRegion = hints.region
        self.defaultAccount = defaultAccount
        self.scratch = scratch ?? ParseScratch()
    }

    /// The account of a record: its own when it carries one, else the path's, else the
    /// operator's; nil when none of them gives one (the record is then quarantined
    /// with ``ParseContext/noAccountReason``).
    @inline(__always)
    public func account(record: String?) -> String? {
        if let record, !record.isEmpty, record != "-" { return record }
        return pathAccount ?? defaultAccount
    }

    /// The reason given for a record no account can be found for.
    public static let noAccountReason =
        "no account: the record carries none and neither the path (AWSLogs/<account>/...) nor --account gives one"
}

/// What an S3 key layout says about a log file: the account and region it belongs to.
///
/// - `AWSLogs/[o-org/]<account>/<service>/<region>/...` (CloudTrail, VPC flow logs,
///   Elastic Load Balancing, GuardDuty, Config, Route 53 Resolver) gives both.
/// - Otherwise the last directory named by exactly 12 digits gives the account (S3
///   server access logs with date-based partitioning:
///   `<prefix><account>/<region>/<bucket>/YYYY/MM/DD/...`), and the directory after it
///   the region when it looks like one.
public struct PathHints: Sendable, Equatable {
    public var account: String?
    public var region: String?
    /// The AWSLogs service directory (`vpcflowlogs`, `CloudTrail`, ...).
    public var service: String?

    public init(path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let dirs = parts.dropLast()
        if let logs = dirs.lastIndex(of: "AWSLogs") {
            var k = logs + 1
            if k < dirs.endIndex, dirs[k].hasPrefix("o-") { k += 1 }
            if k < dirs.endIndex, PathHints.isAccount(dirs[k]) {
                account = String(dirs[k])
                if k + 1 < dirs.endIndex { service = String(dirs[k + 1]) }
                if k + 2 < dirs.endIndex, PathHints.isRegion(dirs[k + 2]) { region = String(dirs[k + 2]) }
                return
            }
        }
        if let k = dirs.lastIndex(where: PathHints.isAccount) {
            account = String(dirs[k])
            if k + 1 < dirs.endIndex, PathHints.isRegion(dirs[k + 1]) { region = String(dirs[k + 1]) }
        }
    }

    static func isAccount(_ s: Substring) -> Bool {
        Org.isAccountID(s)
    }

    /// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-4`...
    static func isRegion(_ s: Substring) -> Bool {
        let parts = s.split(separator: "-")
        guard parts.count >= 3, parts.count <= 4, let last = parts.last, Int(last) != nil else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 97 && $0 <= 122 } }
    }
}
