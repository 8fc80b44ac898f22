import ArgumentParser
import Foundation
import SecDetect
import SecEngine
import SecModel
import SecQuery

/// What a detection run uses besides the built-in detectors, read from the store and the
/// command line the same way by `secq detect` and `secq ingest --detect`:
///
/// - threat intelligence: every list in `STORE/threat-lists/` (`*.txt`, `*.csv`,
///   `*.list`, in name order) and `--threat-list`; trusted addresses from
///   `STORE/threat-lists/trusted/` and `--trusted-ips`;
/// - suppression rules: `STORE/suppressions.json` (``SuppressionRules``).
enum DetectionSetup {
    static let threatListsFolder = "threat-lists"
    static let trustedFolder = "trusted"
    static let listExtensions: Set<String> = ["txt", "csv", "list"]

    /// The engine for a store, or a clear error (a bad list line or suppression rule is
    /// shown with a caret, exit status 2).
    /// - Parameter learningPeriod: a span (`7d`) already validated by the command, or nil
    ///   for the default.
    ///   - extra: detectors after the built-in ones (rule files, Sigma rules).
    static func engine(store: String, threatList: String?, trustedIPs: String?,
                       learningPeriod: String? = nil, extra: [any Detector] = []) throws -> DetectionEngine {
        let intel = try intel(store: store, threatList: threatList, trustedIPs: trustedIPs)
        let rules = try SuppressionRules.load(store: store)
        let compiled = try rules.compiled()
        var engine = DetectionEngine(intel: intel, extra: extra)
        if !compiled.isEmpty {
            let names = compiled.map(\.name), filters = compiled.map(\.filter)
            @Sendable func suppress(_ f: Finding) -> String? {
                let row = FindingRows.row(f)
                guard let i = filters.firstIndex(where: { $0.matches(row) }) else { return nil }
                return names[i]
            }
            engine = DetectionEngine(intel: intel, extra: extra, suppress: suppress)
        }
        if let l = learningPeriod, let span = Span(l) { engine.learningPeriod = span.millis }
        return engine
    }

    /// The lists of the store's folder and the options, nil when there are none.
    static func intel(store: String, threatList: String?, trustedIPs: String?) throws -> ThreatIntel? {
        let folder = store + "/" + threatListsFolder
        let threatFiles = listFiles(folder) + (threatList.map { [$0] } ?? [])
        let trustedFiles = listFiles(folder + "/" + trustedFolder) + (trustedIPs.map { [$0] } ?? [])
        guard !threatFiles.isEmpty || !trustedFiles.isEmpty else { return nil }
        let threats = try read(threatFiles), trusted = try read(trustedFiles)
        Terminal.err("threat intelligence: \(threats.entries) threat entr\(threats.entries == 1 ? "y" : "ies") from \(threatFiles.count) file\(threatFiles.count == 1 ? "" : "s"), \(trusted.entries) trusted"
                     + (threats.nonPublic > 0 ? " (\(threats.nonPublic) private or reserved entries ignored)" : ""))
        return ThreatIntel(threats: threats, trusted: trusted)
    }

    /// The list files directly in `folder`, by name; none when it does not exist.
    static func listFiles(_ folder: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { listExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            .map { folder + "/" + $0 }
    }

    static func read(_ files: [String]) throws -> IndicatorList {
        var list = IndicatorList()
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError(message: "cannot read '\(path)'", code: 2)
            }
            do {
                try list.read(String(decoding: data, as: UTF8.self), file: path)
            } catch let e as ThreatListError {
                FileHandle.standardError.write(Data((e.description.hasSuffix("\n") ? e.description : e.description + "\n").utf8))
                throw ExitCode(2)
            }
        }
        return list
    }
}

/// Suppression rules (`STORE/suppressions.json`): each a name, a `where` expression over
/// the columns of the `findings` table and a reason. A finding that matches one when it
/// is created is stored archived, its `suppressed_by` the rule's name; it still counts
/// up when the activity recurs, and nothing is dropped. Findings created before a rule
/// was added are not touched (archive them with `secq findings archive`).
///
/// The file: `{"rules": [{"name": "...", "where": "...", "reason": "...", "created": "RFC 3339"}]}`.
struct SuppressionRules: Codable, Equatable {
    struct Rule: Codable, Equatable {
        var name: String
        var `where`: String
        var reason: String?
        var created: String?
    }

    var rules: [Rule] = []

    static let file = "suppressions.json"

    static func path(store: String) -> String { store + "/" + file }

    /// The store's rules; none when the file does not exist.
    static func load(store: String) throws -> SuppressionRules {
        let path = path(store: store)
        guard let data = FileManager.default.contents(atPath: path) else { return SuppressionRules() }
        do {
            return try JSONDecoder().decode(SuppressionRules.self, from: data)
        } catch {
            throw CLIError(message: "'\(path)' is not a suppression rule file ({\"rules\": [{\"name\", \"where\", \"reason\"}]}): \(error)", code: 2)
        }
    }

    /// Writes the file whole (a temporary file renamed over it).
    func save(store: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = SuppressionRules.path(store: store)
        var data = try enc.encode(self)
        data.append(0x0a)
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError(message: "cannot write '\(path)': \(error.localizedDescription)")
        }
    }

    /// Each rule's filter over `findings` rows; a rule that does not bind is an error
    /// naming it, with a caret under the fault.
    func compiled(now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws -> [(name: String, filter: RowFilter)] {
        try rules.map { r in (r.name, try Self.filter(r.where, name: "suppression rule '\(r.name)'", now: now)) }
    }

    /// A suppression expression bound over `findings`, or its error printed with a caret
    /// (exit status 2).
    static func filter(_ text: String, name: String, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) throws -> RowFilter {
        do throws(QueryError) {
            return try RowFilter(text, table: "findings", now: now)
        } catch {
            let shown = error.render(query: text, name: name)
            FileHandle.standardError.write(Data((shown.hasSuffix("\n") ? shown : shown + "\n").utf8))
            throw ExitCode(2)
        }
    }
}
