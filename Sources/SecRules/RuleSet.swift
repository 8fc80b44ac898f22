import Foundation
import SecDetect
import SecModel

/// What loading one file gave.
public struct RuleLoadResult: Sendable {
    public enum Status: String, Sendable { case loaded, invalid, unsupported }
    public var file: String
    /// `rule` or `sigma`.
    public var format: String
    public var status: Status
    public var rule: Rule?
    /// The error (rendered with the place) or the unsupported feature.
    public var message: String?

    public var ruleID: String? { rule?.id }
}

/// Loads rule files and Sigma rules from files and folders.
public enum RuleSet {
    /// The `rules` folder of a store.
    public static func storeFolder(_ storePath: String) -> String {
        URL(fileURLWithPath: storePath).appendingPathComponent("rules").path
    }

    /// Loads each `.yml`/`.yaml` file under the paths (files or folders, folders
    /// recursively, in name order). A file with top-level `logsource` and `detection` is
    /// read as Sigma, any other as a rule file; `sigma: true` reads every file as Sigma.
    /// Ids must not repeat (among themselves and the built-ins): a repeat is invalid.
    public static func load(_ paths: [String], sigma: Bool = false, reserved: Set<String> = builtInIDs) -> [RuleLoadResult] {
        var out: [RuleLoadResult] = []
        var ids = reserved
        for p in paths {
            for f in RuleLoader.ruleFiles(p) {
                var r = loadFile(f, sigma: sigma)
                if let id = r.rule?.id, !ids.insert(id).inserted {
                    r.status = .invalid
                    r.message = "\(f): rule id '\(id)' is already used by another rule"
                    r.rule = nil
                }
                out.append(r)
            }
        }
        return out
    }

    /// The ids of the built-in detectors, Swift and rule files (with and without threat intelligence).
    public static let builtInIDs: Set<String> = {
        let intel = ThreatIntel(threats: IndicatorList(), trusted: IndicatorList())
        return Set(BuiltInDetectors.all(intel: intel).map(\.id) + BuiltInRules.rules.map(\.id))
    }()

    public static func loadFile(_ path: String, sigma: Bool = false) -> RuleLoadResult {
        guard let data = FileManager.default.contents(atPath: path) else {
            return RuleLoadResult(file: path, format: sigma ? "sigma" : "rule", status: .invalid, message: "\(path): cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        if sigma || SigmaRule.looksLikeSigma(text) {
            do {
                return RuleLoadResult(file: path, format: "sigma", status: .loaded, rule: try SigmaRule.parse(text, file: path))
            } catch let e as SigmaUnsupported {
                return RuleLoadResult(file: path, format: "sigma", status: .unsupported, message: e.feature)
            } catch {
                return RuleLoadResult(file: path, format: "sigma", status: .invalid, message: "\(error)")
            }
        }
        do {
            return RuleLoadResult(file: path, format: "rule", status: .loaded, rule: try RuleLoader.parse(text, file: path))
        } catch {
            return RuleLoadResult(file: path, format: "rule", status: .invalid, message: "\(error)")
        }
    }

    /// The detectors the engine runs besides the Swift built-ins: the built-in rule files,
    /// then the loaded rules of `results`.
    public static func detectors(_ results: [RuleLoadResult] = []) -> [any Detector] {
        BuiltInRules.rules.map { $0.detector } + results.compactMap { $0.rule?.detector }
    }
}
