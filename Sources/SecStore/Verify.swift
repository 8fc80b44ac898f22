import Foundation
import SecModel

/// The result of checking one bank's integrity chain.
public struct VerifyReport: Sendable, Equatable {
    public var bank: String
    public var blocks = 0
    public var events: UInt64 = 0
    /// Blocks deleted by retention (tombstones in the chain) and the events they held.
    public var tombstones = 0
    public var deletedEvents: UInt64 = 0
    public var head: [UInt8] = []
    /// The first problem found, naming the block; nil when the bank verifies.
    public var problem: String?
    public var badBlock: BlockKey?

    public var ok: Bool { problem == nil }
}

extension BankStore {
    /// Recomputes every block's content hash and the chain over them, in sequence order.
    ///
    /// Stops at the first problem and names the block: a content hash that does not
    /// match, a chain link that does not follow, a gap in the sequence, a block that is
    /// missing or malformed, or a chain head that differs from the one recorded.
    public func verify(progress: ((Int) -> Void)? = nil) throws -> VerifyReport {
        let tombstones = try projectionDBs.open([BankStore.tombstonesDB], in: env)[BankStore.tombstonesDB]!
        return try read { snap in
            var report = VerifyReport(bank: id)
            let st = try snap.state()
            var prev = [UInt8](repeating: 0, count: 32)
            var expectedSeq: UInt64 = 1
            func fail(_ key: BlockKey?, _ first: UInt64, _ last: UInt64, _ what: String) {
                let name = key.map { "block \($0.blockSeq) (seq \(first)-\(last), account \($0.accountID), t_min \(Timestamp.rfc3339(millis: $0.tMin)))" }
                    ?? "seq \(first)-\(last)"
                report.problem = "\(name): \(what)"
                report.badBlock = key
            }
            try snap.chain { first, link in
                if first != expectedSeq {
                    fail(link.key, first, link.lastSeq, "sequence gap: expected a block starting at seq \(expectedSeq)")
                    return false
                }
                let recomputed = ChainLink.next(previous: prev, blockHash: link.blockHash, firstSeq: first, lastSeq: link.lastSeq)
                if recomputed != link.link {
                    fail(link.key, first, link.lastSeq, "chain link does not follow from the previous block")
                    return false
                }
                if link.kind == .block {
                    let ok: String? = try snap.block(link.key) { value -> String? in
                        let header: BlockHeader
                        do { header = try BlockHeader(decoding: value) } catch { return "malformed header (\(error))" }
                        if header.firstSeq != first || header.lastSeq != link.lastSeq { return "header sequence range does not match the chain" }
                        guard let h = try snap.rawStored(link.key, { raw in BlockDraft.contentHash(value: value, raw: raw) }) else {
                            return "raw section is missing"
                        }
                        if h != header.hash || h != link.blockHash { return "content hash mismatch (block was altered)" }
                        return nil
                    } ?? "block is missing from the log, with no retention tombstone (deleted outside retention: tampering)"
                    if let problem = ok {
                        fail(link.key, first, link.lastSeq, problem)
                        return false
                    }
                    report.events += link.lastSeq - first + 1
                } else {
                    // A tombstone: the block must be gone and retention must have recorded
                    // why; anything else is a deletion outside retention.
                    let record = try BE.bytes(first).withUnsafeBytes { k in
                        try ReadTxn.get(snap.txn, tombstones, k) { try JSONDecoder().decode(Tombstone.self, from: Data($0)) }
                    }
                    guard let record, record.firstSeq == first, record.lastSeq == link.lastSeq,
                          record.blockHash == SHA256Digest.hex(link.blockHash) else {
                        fail(link.key, first, link.lastSeq, "tombstone without a retention record (the block was removed outside retention)")
                        return false
                    }
                    if try snap.block(link.key, { _ in true }) == true {
                        fail(link.key, first, link.lastSeq, "block is marked deleted by retention but is still stored")
                        return false
                    }
                    report.tombstones += 1
                    report.deletedEvents += UInt64(record.eventsDeleted)
                }
                report.blocks += 1
                progress?(report.blocks)
                prev = link.link
                expectedSeq = link.lastSeq + 1
                return true
            }
            report.head = prev
            if report.ok {
                if prev != st.chainHead {
                    report.problem = "chain head differs from the recorded head (blocks after seq \(expectedSeq - 1) were removed, or the head was altered)"
                } else if expectedSeq != st.nextSeq {
                    report.problem = "the log ends at seq \(expectedSeq - 1) but the bank records \(st.nextSeq - 1) events"
                }
            }
            return report
        }
    }
}
