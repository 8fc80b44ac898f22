import Foundation

/// A bank's compliance policy (schemas/compliance.schema.json): which rules are off and
/// the parameters of the others; a rule or parameter not named keeps AWS's default.
///
/// ```json
/// {"disabled": ["s3-bucket-versioning-enabled"],
///  "parameters": {"restricted-common-ports": {"blockedPorts": "20,21,3389,3306,4333,5432"},
///                 "access-keys-rotated": {"maxAccessKeyAge": 60}}}
/// ```
public struct CompliancePolicy: Sendable, Equatable {
    public var disabled: Set<String>
    public var parameters: [String: [String: JSONValue]]

    public init(disabled: Set<String> = [], parameters: [String: [String: JSONValue]] = [:]) {
        self.disabled = disabled
        self.parameters = parameters
    }

    /// AWS's defaults for every rule.
    public static let defaults = CompliancePolicy()

    /// What is wrong with a policy file.
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses and checks a policy file: known keys, known rules, known parameters of the
    /// right type.
    public init(json bytes: [UInt8]) throws {
        guard let doc = JSONValue(parsing: bytes), let top = doc.object else {
            throw Error(message: "the policy is not a JSON object")
        }
        for k in top.keys where !["disabled", "parameters", "$schema", "description"].contains(k) {
            throw Error(message: "unknown key '\(k)' (expected 'disabled', 'parameters')")
        }
        var disabled: Set<String> = []
        for v in top["disabled"]?.array ?? [] {
            guard let name = v.string else { throw Error(message: "'disabled' must be a list of rule names") }
            guard ManagedRules.named(name) != nil else { throw Error(message: "unknown rule '\(name)' in 'disabled'") }
            disabled.insert(name)
        }
        var parameters: [String: [String: JSONValue]] = [:]
        for (rule, p) in top["parameters"]?.object ?? [:] {
            guard let r = ManagedRules.named(rule) else { throw Error(message: "unknown rule '\(rule)' in 'parameters'") }
            guard let values = p.object else { throw Error(message: "parameters of '\(rule)' must be an object") }
            for (name, value) in values {
                guard let spec = r.parameters.first(where: { $0.name == name }) else {
                    let known = r.parameters.map(\.name)
                    throw Error(message: "unknown parameter '\(name)' of '\(rule)'"
                                + (known.isEmpty ? " (it takes none)" : " (expected \(known.map { "'\($0)'" }.joined(separator: ", ")))"))
                }
                guard spec.kind.accepts(value) else {
                    throw Error(message: "parameter '\(name)' of '\(rule)' must be \(spec.kind.description)")
                }
            }
            parameters[rule] = values
        }
        self.init(disabled: disabled, parameters: parameters)
    }

    /// The rules this policy evaluates.
    public var rules: [ManagedRule] { ManagedRules.all.filter { !disabled.contains($0.name) } }

    /// A rule's parameters: the policy's over AWS's defaults.
    public func parameters(of rule: ManagedRule) -> RuleParameters {
        var values: [String: JSONValue] = [:]
        for p in rule.parameters { if let d = p.defaultValue { values[p.name] = d } }
        for (k, v) in parameters[rule.name] ?? [:] { values[k] = v }
        return RuleParameters(values: values)
    }

    /// A stable text of the policy: when it changes, every resource is evaluated again.
    public var fingerprint: String {
        var s = "disabled=" + disabled.sorted().joined(separator: ",")
        for rule in parameters.keys.sorted() {
            for (k, v) in parameters[rule]!.sorted(by: { $0.key < $1.key }) { s += ";\(rule).\(k)=\(v)" }
        }
        return s
    }
}

/// A rule parameter's declaration.
public struct ParameterSpec: Sendable {
    public enum Kind: Sendable, CustomStringConvertible {
        case int, bool, string, ports

        func accepts(_ v: JSONValue) -> Bool {
            switch self {
            case .int: if case .number(let n) = v { return n == n.rounded() } else { return Int(v.string ?? "") != nil }
            case .bool: return v.bool != nil
            case .string: return v.string != nil
            case .ports: return RuleParameters.ports(v) != nil
            }
        }

        public var description: String {
            switch self {
            case .int: return "a whole number"
            case .bool: return "true or false"
            case .string: return "a string"
            case .ports: return "a list of ports (numbers, or a comma-separated string like \"20,21,3389\")"
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var defaultValue: JSONValue?

    public init(_ name: String, _ kind: Kind, _ defaultValue: JSONValue? = nil) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
    }
}

/// The parameters a rule is evaluated with.
public struct RuleParameters: Sendable, Equatable {
    public var values: [String: JSONValue]

    public init(values: [String: JSONValue] = [:]) { self.values = values }

    public func int(_ name: String) -> Int? {
        guard let v = values[name] else { return nil }
        if case .number(let n) = v { return Int(n) }
        return v.string.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    public func bool(_ name: String) -> Bool? { values[name]?.bool }

    public func string(_ name: String) -> String? {
        guard let s = values[name]?.string, !s.isEmpty else { return nil }
        return s
    }

    /// A comma-separated list (`excludedPublicBuckets`).
    public func list(_ name: String) -> [String] {
        (string(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func ports(_ v: JSONValue) -> [Int]? {
        switch v {
        case .array(let a):
            let ports = a.compactMap { x -> Int? in x.number.map(Int.init) }
            return ports.count == a.count && ports.allSatisfy { (0...65535).contains($0) } ? ports : nil
        case .string(let s):
            let ports = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            return ports.allSatisfy { $0 != nil && (0...65535).contains($0!) } ? ports.map { $0! } : nil
        case .number(let n): return (0...65535).contains(Int(n)) ? [Int(n)] : nil
        default: return nil
        }
    }

    public func ports(_ name: String) -> [Int]? { values[name].flatMap(RuleParameters.ports) }
}
