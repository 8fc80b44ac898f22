import Foundation
import SecIngest
import SecModel
import SecStore

/// Parses quarantined records again and stores those that now go in (the account was
/// registered since, `--account` names the one the path did not give, `--format` says
/// what detection could not).
///
/// A record is parsed on its own, after the header lines it was read under (VPC flow
/// log field names, CloudFront `#Fields`), with the format it was read as. Stored
/// records leave the quarantine; the others stay with their new reason. Retried
/// records are identified by content in the idempotency index, so retrying twice
/// stores nothing twice.
package struct QuarantineRetry {
    package var ids: Set<UInt64>?
    package var format: InputFormat?
    package var account: String?

    package init() {}

    package struct Result: Sendable, Equatable {
        package var retried = 0
        package var stored = 0
        package var duplicates = 0
        package var stillQuarantined = 0
        package var skipped = 0
    }

    package func run(store: Store) throws -> Result {
        var owners: [String: (bank: String, ou: String)] = [:]
        for b in try store.org().banks { for a in b.accounts { owners[a.id] = (b.id, a.ou) } }
        var result = Result()
        var outcomes: [(id: UInt64, reason: String?)] = []
        var byBank: [String: [Event]] = [:]
        var idsByBank: [String: [UInt64]] = [:]
        for q in try store.quarantined(withBytes: true) {
            if let ids, !ids.contains(q.id) { continue }
            if q.kept == true { result.skipped += 1; continue }
            result.retried += 1
            guard q.bytes.count >= q.size, !q.bytes.isEmpty else {
                outcomes.append((q.id, "only the first \(q.bytes.count) of \(q.size) bytes were kept; ingest the file again"))
                continue
            }
            let input = Array((q.header ?? "").utf8) + q.bytes
            let fmt = format ?? q.format.flatMap(InputFormat.init(rawValue:))
                ?? InputFormat.detect(prefix: input, path: q.file)
            guard let fmt else {
                outcomes.append((q.id, "unrecognised format; use --format to name it"))
                continue
            }
            let out = input.withUnsafeBytes { IngestParser.parse(bytes: $0, file: q.file, format: fmt, account: account) }
            if let bad = out.quarantined.first {
                outcomes.append((q.id, bad.reason))
                continue
            }
            guard !out.events.isEmpty else {
                outcomes.append((q.id, "no record in these bytes"))
                continue
            }
            var refused: String?
            var placed: [(String, Event)] = []
            for var e in out.events {
                guard let owner = owners[e.account] else {
                    refused = "account '\(e.account)' belongs to no registered bank"
                    break
                }
                e.bank = owner.bank
                e.ou = owner.ou
                placed.append((owner.bank, e))
            }
            if let refused { outcomes.append((q.id, refused)); continue }
            for (bank, e) in placed { byBank[bank, default: []].append(e) }
            if let bank = placed.first?.0 { idsByBank[bank, default: []].append(q.id) }
        }
        for (bank, events) in byBank.sorted(by: { $0.key < $1.key }) {
            let r = try store.bank(bank).append(events)
            result.stored += r.stored
            result.duplicates += r.duplicates
            outcomes += idsByBank[bank, default: []].map { ($0, nil) }
        }
        result.stillQuarantined = outcomes.filter { $0.reason != nil }.count
        try store.settleQuarantine(outcomes)
        return result
    }
}
