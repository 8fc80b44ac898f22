import ArgumentParser
import Foundation
import SecDetect
import SecRules

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Detection rules written as files (rule files and Sigma rules).",
        subcommands: [RulesCheckCommand.self])
}

struct RulesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load rule files and Sigma rules and say, per file, whether each loads.",
        discussion: """
        Without paths, checks the store's rules folder (STORE/rules). Folders are read \
        recursively (.yml and .yaml). A file with top-level 'logsource' and 'detection' \
        is read as a Sigma rule, any other as a rule file (schemas/rule.schema.json).

        Prints per file: loaded (with the rule id and kind), invalid (with the error, its \
        line and column and a caret under the place), or unsupported (a Sigma rule using \
        a feature outside the supported subset, named). Exits with status 1 when any rule \
        file is invalid; unsupported Sigma features are reported, not failures.

        Examples:
          secq rules check
          secq rules check rules/ sigma/cloudtrail/
          secq rules check --format json rules/ | jq -r 'select(.status != "loaded")'
        """)

    @OptionGroup var options: StoreOptions
    @Option(help: ArgumentHelp("Output format: table or json (one object per line).", valueName: "table|json"))
    var format: OutputFormat = .table
    @Argument(help: "Rule files or folders (default: the store's rules folder).") var paths: [String] = []

    func validate() throws {
        if format == .csv { throw ValidationError("--format must be table or json") }
    }

    func run() throws {
        try reportingErrors {
            let paths = self.paths.isEmpty ? [RuleSet.storeFolder(options.path)] : self.paths
            for p in paths where !FileManager.default.fileExists(atPath: p) {
                throw CLIError(message: "no such file or folder: '\(p)'", code: 2)
            }
            let results = RuleSet.load(paths)
            let out = Output()
            if format == .json {
                for r in results {
                    out.line(JSONLine.object([
                        ("file", .string(r.file)), ("format", .string(r.format)), ("status", .string(r.status.rawValue)),
                        ("id", r.rule.map { .string($0.id) } ?? .null), ("kind", r.rule.map { .string($0.kind) } ?? .null),
                        ("finding_type", r.rule.map { .string($0.findingType.description) } ?? .null),
                        ("severity", r.rule.map { .double($0.severity) } ?? .null),
                        ("message", r.message.map { .string($0) } ?? .null),
                    ]))
                }
            } else {
                let rows = results.map { r -> [String] in
                    [r.file, r.format, r.status.rawValue, r.rule?.id ?? "",
                     r.rule.map { "\($0.kind) \($0.findingType)" } ?? (r.status == .unsupported ? r.message ?? "" : "see below")]
                }
                out.write(TableRenderer.render(header: ["file", "format", "status", "id", "rule"], rows: rows))
                for r in results where r.status == .invalid {
                    out.line("")
                    out.write(r.message.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" } ?? "")
                }
                let n = { (s: RuleLoadResult.Status) in results.filter { $0.status == s }.count }
                out.line("\(results.count) file\(results.count == 1 ? "" : "s"): \(n(.loaded)) loaded, \(n(.invalid)) invalid, \(n(.unsupported)) unsupported")
            }
            out.flush()
            if results.contains(where: { $0.status == .invalid }) { throw ExitCode(1) }
        }
    }
}

/// The rule detectors `secq detect` and `secq ingest --detect` run: the built-in rule
/// files, STORE/rules and the `--rules`/`--sigma` folders. An invalid rule file stops the
/// command (exit 2, the error on standard error); an unsupported Sigma rule is skipped
/// with a warning.
func ruleDetectors(store: String, rules: [String], sigma: [String]) throws -> [any Detector] {
    var results: [RuleLoadResult] = []
    let folder = RuleSet.storeFolder(store)
    var paths = FileManager.default.fileExists(atPath: folder) ? [folder] : []
    for p in rules + sigma where !FileManager.default.fileExists(atPath: p) {
        throw CLIError(message: "no such file or folder: '\(p)'", code: 2)
    }
    paths += rules
    results = RuleSet.load(paths)
    var ids = RuleSet.builtInIDs.union(results.compactMap(\.ruleID))
    for r in RuleSet.load(sigma, sigma: true, reserved: ids) {
        results.append(r)
        if let id = r.ruleID { ids.insert(id) }
    }
    var bad = false
    for r in results {
        switch r.status {
        case .loaded: break
        case .unsupported: Terminal.err("warning: \(r.file): skipped, unsupported Sigma feature: \(r.message ?? "")")
        case .invalid:
            bad = true
            Terminal.err(r.message ?? "error: \(r.file)")
        }
    }
    if bad { throw ExitCode(2) }
    return RuleSet.detectors(results)
}
