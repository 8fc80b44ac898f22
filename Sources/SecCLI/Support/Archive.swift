#if canImport(Glibc)
import Glibc
#endif
import CDeflate
import Foundation
import SecIngest
import SecModel
import SecStore

/// The archive retention writes before it deletes: Hive-partitioned NDJSON.gz,
/// `source=S/bank=B/account=A/region=R/day=YYYY-MM-DD/seq-FIRST-LAST.ndjson.gz`, one line
/// per event (the event as `secq query --format json` prints it, plus `raw`, the original
/// record), and a manifest per bank, `_manifest-BANK.json` (files, event counts,
/// SHA-256), that `secq archive verify` checks.
enum Archive {
    /// Region partition of events without a region (Hive's name for a null partition).
    static let nullPartition = "__HIVE_DEFAULT_PARTITION__"

    static func manifestName(bank: String) -> String { "_manifest-\(bank).json" }

    /// One archive line: every non-null field, then the raw record (as text when it is
    /// UTF-8, else `raw_base64`), then `log`, the identity of the bank's log
    /// (`BankStore.lineage`), so a restore knows whether `seq` is a number of its log.
    static func line(_ e: Event, ou: String?, log: String?) -> String {
        var fields: [(String, JSONLine.Scalar)] = []
        for f in Field.allCases {
            var v = e.value(of: f)
            if f == .ou, let ou { v = .string(ou) }
            if v.isNull { continue }
            fields.append((f.rawValue, JSONLine.scalar(v)))
        }
        if let text = String(validating: e.raw, as: UTF8.self) {
            fields.append(("raw", .string(text)))
        } else {
            fields.append(("raw_base64", .string(Data(e.raw).base64EncodedString())))
        }
        if let log { fields.append(("log", .string(log))) }
        return JSONLine.object(fields)
    }

    static func partition(_ e: Event, bank: String) -> String {
        let region = e.region.flatMap { $0.isEmpty ? nil : $0 } ?? nullPartition
        let day = String(Timestamp.rfc3339(millis: e.time).prefix(10))
        return "source=\(e.source.rawValue)/bank=\(bank)/account=\(e.account)/region=\(region)/day=\(day)"
    }

    /// Writes the events, grouped by partition, one file per partition named by the
    /// sequence range of its events: written to a temporary name, synced, renamed, and
    /// the directory synced, so a file under its final name is always whole. Writing the
    /// same events again writes the same files.
    ///
    /// - Returns: the files, paths relative to `dir`.
    static func write(_ events: [Event], bank: String, log: String?, ous: [String: String], to dir: String) throws -> [ArchiveFile] {
        var groups: [String: [Int]] = [:]
        for (i, e) in events.enumerated() { groups[partition(e, bank: bank), default: []].append(i) }
        var out: [ArchiveFile] = []
        for (part, rows) in groups.sorted(by: { $0.key < $1.key }) {
            let sorted = rows.sorted { events[$0].seq < events[$1].seq }
            let first = events[sorted.first!].seq, last = events[sorted.last!].seq
            var text = ""
            for i in sorted { text += line(events[i], ou: ous[events[i].account], log: log); text += "\n" }
            let gz = try gzip(Array(text.utf8))
            let rel = "\(part)/seq-\(first)-\(last).ndjson.gz"
            let partDir = dir + "/" + part
            try FileManager.default.createDirectory(atPath: partDir, withIntermediateDirectories: true)
            try writeDurably(gz, to: dir + "/" + rel)
            out.append(ArchiveFile(path: rel, events: sorted.count, bytes: gz.count,
                                   sha256: SHA256Digest.hex(SHA256Digest.hash(gz)), firstSeq: first, lastSeq: last))
        }
        return out
    }

    /// Writes `bytes` to a temporary file, syncs it, renames it to `path` and syncs the
    /// directory.
    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CLIError(message: "cannot write '\(tmp)' (errno \(errno))") }
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                close(fd)
                throw CLIError(message: "cannot write '\(tmp)' (errno \(errno))")
            }
            off += n
        }
        guard fsync(fd) == 0 else { close(fd); throw CLIError(message: "cannot sync '\(tmp)' (errno \(errno))") }
        close(fd)
        guard rename(tmp, path) == 0 else { throw CLIError(message: "cannot rename '\(tmp)' (errno \(errno))") }
        try Store.fsync((path as NSString).deletingLastPathComponent)
    }

    static func gzip(_ input: [UInt8]) throws -> [UInt8] {
        guard let c = libdeflate_alloc_compressor(6) else { throw CLIError(message: "cannot allocate a gzip compressor") }
        defer { libdeflate_free_compressor(c) }
        let bound = libdeflate_gzip_compress_bound(c, input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = input.withUnsafeBytes { i in out.withUnsafeMutableBytes { o in
            libdeflate_gzip_compress(c, i.baseAddress, i.count, o.baseAddress, o.count)
        } }
        guard n > 0 else { throw CLIError(message: "gzip compression failed") }
        out.removeSubrange(n...)
        return out
    }

    /// Writes the bank's manifest into the archive: every file recorded in the store
    /// for this directory.
    static func writeManifest(bank: BankStore, dir: String) throws {
        let prefix = dir + "/"
        let files = try bank.archivedFiles().filter { $0.path.hasPrefix(prefix) }.map(\.file).sorted { $0.path < $1.path }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        struct Manifest: Encodable { var bank: String; var events: Int; var files: [ArchiveFile] }
        let data = try enc.encode(Manifest(bank: bank.id, events: files.reduce(0) { $0 + $1.events }, files: files))
        try writeDurably(Array(data), to: dir + "/" + manifestName(bank: bank.id))
    }

    /// Files of this bank in `dir` that its manifest does not name: left by an apply
    /// interrupted between writing the archive and deleting from the store (their events
    /// are still in the store and are archived again). Removed.
    static func removeUnrecorded(bank: BankStore, dir: String) throws -> Int {
        let prefix = dir + "/"
        let recorded = Set(try bank.archivedFiles().map(\.path).filter { $0.hasPrefix(prefix) })
        var removed = 0
        for rel in dataFiles(in: dir) where rel.contains("/bank=\(bank.id)/") && !recorded.contains(prefix + rel) {
            try FileManager.default.removeItem(atPath: prefix + rel)
            removed += 1
        }
        return removed
    }

    /// Every `.ndjson.gz` (and leftover `.tmp`) file under `dir`, relative paths, sorted.
    static func dataFiles(in dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var out: [String] = []
        while let p = e.nextObject() as? String {
            if p.hasSuffix(".ndjson.gz") || p.hasSuffix(".ndjson.gz.tmp") { out.append(p) }
        }
        return out.sorted()
    }

    /// Checks an archive against its manifests: every file listed is there with its
    /// SHA-256 and its number of lines, and no data file is unlisted.
    static func verify(dir: String) throws -> (files: Int, events: Int, problems: [String]) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir) else { throw CLIError(message: "cannot read archive directory '\(dir)'") }
        let manifests = names.filter { $0.hasPrefix("_manifest-") && $0.hasSuffix(".json") }.sorted()
        if manifests.isEmpty { throw CLIError(message: "'\(dir)' holds no manifest (_manifest-BANK.json): not a secq archive") }
        var problems: [String] = [], listed = Set<String>(), files = 0, events = 0
        struct Manifest: Decodable { var bank: String; var events: Int; var files: [ArchiveFile] }
        for m in manifests {
            guard let data = fm.contents(atPath: dir + "/" + m), let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else {
                problems.append("\(m): not a valid manifest"); continue
            }
            for f in manifest.files {
                listed.insert(f.path)
                files += 1
                guard let bytes = fm.contents(atPath: dir + "/" + f.path) else { problems.append("\(f.path): missing"); continue }
                if SHA256Digest.hex(SHA256Digest.hash(Array(bytes))) != f.sha256 {
                    problems.append("\(f.path): SHA-256 differs from the manifest (altered)"); continue
                }
                let text = try IngestInput.read(path: dir + "/" + f.path).bytes
                let lines = text.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
                if lines != f.events { problems.append("\(f.path): \(lines) lines, the manifest says \(f.events)") }
                events += lines
            }
        }
        for p in dataFiles(in: dir) where !listed.contains(p) { problems.append("\(p): not in any manifest") }
        return (files, events, problems)
    }
}
