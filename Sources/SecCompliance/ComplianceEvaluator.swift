/// Evaluates a policy's rules over configuration items. Pure: the same items give the
/// same evaluations, whatever order they came in.
public struct ComplianceEvaluator: Sendable {
    public var policy: CompliancePolicy
    public let rules: [ManagedRule]

    public init(policy: CompliancePolicy = .defaults) {
        self.policy = policy
        rules = policy.rules
    }

    /// One resource rule for one item (deleted: NOT_APPLICABLE; no longer recorded:
    /// INSUFFICIENT_DATA); nil when the rule does not look at the item's type.
    public func evaluate(_ rule: ManagedRule, item: ConfigItem, account: [ConfigItem] = []) -> Evaluation? {
        guard rule.resourceTypes.contains(item.resourceType) else { return nil }
        let verdict: Verdict
        if item.isDeleted {
            verdict = .notApplicable("resource deleted (\(item.status))")
        } else if item.isNotRecorded {
            verdict = .insufficient("resource no longer recorded (ResourceNotRecorded)")
        } else {
            verdict = rule.evaluate(item, RuleContext(parameters: policy.parameters(of: rule), accountItems: account))
        }
        return Evaluation(rule: rule.name, key: item.key, resource: item.resource, verdict: verdict, at: item.captureTime)
    }

    /// The evaluations due when `changed` items (their latest state) changed in one
    /// account whose current items, the changed ones included, are `account`: the
    /// resource rules of each changed item, the resource rules of items that read a
    /// changed related type, and (with `accountRules`) the account-wide rules.
    public func evaluate(changed: [ConfigItem], account: [ConfigItem], accountRules: Bool = true) -> [Evaluation] {
        guard !changed.isEmpty else { return [] }
        var out: [String: Evaluation] = [:]
        let changedTypes = Set(changed.map(\.resourceType))
        for rule in rules {
            switch rule.scope {
            case .resource(let types, let related):
                var items = changed.filter { types.contains($0.resourceType) }
                // Evaluated again because a related item changed (a VPC's flow log): the
                // verdict is as of that change, not of the item's own older capture.
                var relatedTime: Int64? = nil
                if !related.isDisjoint(with: changedTypes) {
                    items = account.filter { types.contains($0.resourceType) }
                    relatedTime = changed.filter { related.contains($0.resourceType) }.map(\.captureTime).max()
                }
                for item in items {
                    guard var e = evaluate(rule, item: item, account: account) else { continue }
                    if let t = relatedTime, t > e.evaluatedAt { e.evaluatedAt = t }
                    out[e.pairKey] = e
                }
            case .account:
                guard accountRules else { continue }
                for e in evaluateAccount(rule, account: account) { out[e.pairKey] = e }
            }
        }
        return out.keys.sorted().map { out[$0]! }
    }

    /// Every rule over every current item of one account (a periodic evaluation).
    public func evaluateAll(account: [ConfigItem]) -> [Evaluation] {
        evaluate(changed: account, account: account)
    }

    /// Every account-wide rule over one account's current items.
    public func evaluateAccountRules(account: [ConfigItem]) -> [Evaluation] {
        rules.flatMap { evaluateAccount($0, account: account) }
    }

    /// An account-wide rule over the account's items: per region holding items
    /// (`regional`), else once in region `global`.
    func evaluateAccount(_ rule: ManagedRule, account: [ConfigItem]) -> [Evaluation] {
        guard case .account(let regional) = rule.scope, let id = account.first?.account else { return [] }
        let at = account.map(\.captureTime).max() ?? 0
        let regions = regional ? Set(account.map(\.region)).subtracting(["", "global"]).sorted() : ["global"]
        let ctx = RuleContext(parameters: policy.parameters(of: rule), accountItems: account)
        return regions.map { region in
            let scope = ConfigItem(resourceType: accountResourceType, resourceId: id, account: id, region: region,
                                   captureTime: at, configuration: nil)
            return Evaluation(rule: rule.name, key: scope.key, resource: id, verdict: rule.evaluate(scope, ctx), at: at)
        }
    }
}
