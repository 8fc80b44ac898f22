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
/// records leave the quarantine; the others stay with their new reason. An entry that
/// held several records (a whole file of a format detection missed) stores the good
/// ones and leaves one entry per record still refused. Retried
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
        var leftovers: [Store.QuarantineEntry] = []
        for q in try store.quarantined(withBytes: true) {
            if let ids, !ids.contains(q.id) { continue }
            if q.kept == true { result.skipped += 1; continue }
            result.retried += 1
            guard !q.bytes.isEmpty else {
                outcomes.append((q.id, q.reason)) // a file that could not be read, a cut: nothing to parse
                continue
            }
            guard q.bytes.count >= q.size else {
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
            // What still cannot go in: refused pieces, and events whose account no bank owns.
            let skip = Int64(input.count - q.bytes.count) // the header in front of the record
            var left: [(offset: Int64, reason: String, bytes: [UInt8])] = out.quarantined.map {
                ($0.offset - skip, $0.reason, $0.bytes)
            }
            var placed: [(String, Event)] = []
            for (i, var e) in out.events.enumerated() {
                guard let owner = owners[e.account] else {
                    let offset = i < out.eventOffsets.count ? out.eventOffsets[i] - skip : 0
                    left.append((offset, "account '\(e.account)' belongs to no registered bank", e.raw))
                    continue
                }
                e.bank = owner.bank
                e.ou = owner.ou
                placed.append((owner.bank, e))
            }
            if placed.isEmpty {
                // Nothing goes in: the entry stays, with the first reason.
                outcomes.append((q.id, left.first?.reason ?? "no record in these bytes"))
                continue
            }
            // Some records go in: the entry is settled by the commit, and what is left of
            // it becomes entries of its own, each at its place in the original file.
            for (bank, e) in placed { byBank[bank, default: []].append(e) }
            idsByBank[placed[0].0, default: []].append(q.id)
            leftovers += left.map { l in
                var e = Store.QuarantineEntry(file: q.file, offset: q.offset + l.offset, reason: l.reason,
                                              at: Int64(Date().timeIntervalSince1970 * 1000), bytes: l.bytes)
                e.format = fmt.rawValue
                e.header = q.header
                return e
            }
        }
        for (bank, events) in byBank.sorted(by: { $0.key < $1.key }) {
            let r = try store.bank(bank).append(events)
            result.stored += r.stored
            result.duplicates += r.duplicates
            outcomes += idsByBank[bank, default: []].map { ($0, nil) }
        }
        result.stillQuarantined = outcomes.filter { $0.reason != nil }.count + leftovers.count
        try store.settleQuarantine(outcomes, adding: leftovers)
        return result
    }
}
