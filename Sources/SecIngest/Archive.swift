import Foundation
import SecModel

/// secq's own archive (`secq retention apply --archive DIR`): NDJSON lines, each an event
/// as `secq query --format json` prints it plus its original record (`raw`, or
/// `raw_base64` when it was not UTF-8), under
/// `source=S/bank=B/account=A/region=R/day=D/seq-FIRST-LAST.ndjson.gz`, beside a manifest
/// per bank (`_manifest-B.json`).
///
/// Re-importing rebuilds each event from its line, field for field, with its original
/// record, so a restored event is the event that was archived. It keeps its bank
/// (`Event.bank`, checked against the bank that owns the account now) and, when the line
/// comes from the log it is restored to (its `log` is the bank's `lineage`), its old
/// sequence number (`Event.originSeq`, from `seq`), so the store keeps it apart from
/// everything else: a CloudTrail record (or any record with an idempotency key) by its
/// key as before, a text log line by its old sequence number. A line from another log
/// (another store, or a bank created again) is restored as a new event.
enum ArchiveParser {
    /// Whether the path is an archive's: a Hive partition `source=.../bank=...` or a
    /// manifest `_manifest-BANK.json`.
    static func recognises(path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        if name.hasPrefix("_manifest-") && name.hasSuffix(".json") { return true }
        return path.contains("source=") && path.contains("/bank=") && (name.hasSuffix(".ndjson.gz") || name.hasSuffix(".ndjson"))
    }

    /// Whether an input starts with an archive line: `{"time":"...","seq":N,"bank":"...`.
    static func recognises(_ content: UnsafeRawBufferPointer) -> Bool {
        let head = String(decoding: content.prefix(256), as: UTF8.self)
        return head.hasPrefix("{\"time\":\"") && head.contains("\",\"seq\":") && head.contains(",\"bank\":\"")
    }

    /// Whether an input is a manifest (a pretty-printed object with `bank` and `files`).
    static func isManifest(_ content: UnsafeRawBufferPointer) -> Bool {
        let head = String(decoding: content.prefix(4096), as: UTF8.self)
        return head.hasPrefix("{") && !head.hasPrefix("{\"time\"") && head.contains("\"files\"") && head.contains("\"bank\"")
    }

    static func parse(bytes: UnsafeRawBufferPointer, offset: Int64, line: Int, context: ParseContext) -> ParseOutput {
        if offset == 0 && isManifest(bytes) {
            var out = ParseOutput()
            out.inputBytes = bytes.count
            out.warnings.append("\(context.file): archive manifest, not events; skipped (use 'secq archive verify' to check it)")
            return out
        }
        var walker = DocumentWalker(buf: bytes, context: context, baseOffset: offset, baseLine: line,
                                    norm: context.scratch.archive)
        return walker.run()
    }
}

/// Turns one archive line back into the event it was.
final class ArchiveNormaliser: JSONRecordNormaliser {
    let tape = TapeReader()
    var scanner: JSONScanner { tape.scanner }

    static let layout = JSONLayout(
        recordName: "secq archive line", documentKeys: [], documentFirstKeys: [],
        recordStartKeys: ["time"], recordKeys: Field.allCases.map(\.rawValue) + ["raw", "raw_base64", "log"])

    func normalise(_ record: UnsafeRawBufferPointer, context: ParseContext, into events: inout [Event]) -> JSONRecordResult {
        guard scanner.count > 0, scanner[0].kind == .object else { return .refused("not a secq archive line (not a JSON object)") }
        var slots: [Field: Int] = [:]
        var raw = -1, raw64 = -1, log = -1
        tape.forEachMember(0) { k, i in
            let key = String(decoding: k, as: UTF8.self)
            switch key {
            case "raw": raw = i
            case "raw_base64": raw64 = i
            case "log": log = i
            default: if let f = Field(rawValue: key) { slots[f] = i }
            }
        }
        func string(_ f: Field) -> String? {
            guard let i = slots[f], tape.isKind(i, .string) else { return nil }
            return tape.isText(i) ? tape.text(i) : ""
        }
        guard let t = slots[.time], let time = tape.time(t) else { return .refused("archive line has no RFC 3339 time") }
        guard let s = slots[.seq], let seq = tape.integer(s), seq > 0 else { return .refused("archive line has no seq (its sequence number in its bank)") }
        guard let bank = string(.bank), !bank.isEmpty else { return .refused("archive line has no bank") }
        guard let account = string(.account), Org.isAccountID(account) else { return .refused("archive line has no 12-digit account") }
        guard let source = string(.source).flatMap(Source.init(rawValue:)) else { return .refused("archive line has no known source") }
        guard let cls = string(.eventClass).flatMap(EventClass.init(rawValue:)) else { return .refused("archive line has no known class") }
        let bytes: [UInt8]
        if raw >= 0, tape.isKind(raw, .string) {
            bytes = tape.withText(raw) { Array($0) }
        } else if raw64 >= 0, tape.isKind(raw64, .string), let d = tape.withText(raw64, { Data(base64Encoded: Data($0)) }) {
            bytes = Array(d)
        } else {
            return .refused("archive line has no raw record (raw or raw_base64)")
        }
        var e = Event(time: time, account: account, source: source, eventClass: cls, raw: bytes)
        e.bank = bank
        if let from = tape.text(log), context.bankLogs[bank] == from { e.originSeq = UInt64(seq) }
        for (f, i) in slots {
            switch f {
            case .time, .seq, .bank, .account, .source, .eventClass, .ou: continue
            default: break
            }
            switch f.kind {
            case .time: if let v = tape.time(i) { e.set(f, .time(v)) }
            case .int: if let v = tape.integer(i) { e.set(f, .int(v)) }
            case .double: if let v = tape.double(i) { e.set(f, .double(v)) }
            case .bool: if tape.isKind(i, .true) || tape.isKind(i, .false) { e.set(f, .bool(tape.isKind(i, .true))) }
            case .ip: if let v = tape.ip(i) { e.set(f, .ip(v)) }
            case .string: if let v = string(f) { e.set(f, .string(v)) }
            }
        }
        events.append(e)
        return .events
    }
}
