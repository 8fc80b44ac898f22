/// One managed-rule equivalent: its AWS Config name, what it evaluates, its parameters
/// (with AWS's defaults) and its CIS AWS Foundations Benchmark v1.4.0 control, if any.
public struct ManagedRule: Sendable {
    /// What a rule is evaluated over.
    public enum Scope: Sendable {
        /// Each current item of these resource types, on its own. `related` types are
        /// items the verdict also reads (through `RuleContext.accountItems`): when one of
        /// them changes, every item of `types` in its account is evaluated again.
        case resource(types: Set<String>, related: Set<String>)
        /// The account as a whole (resource `AWS::::Account`), over all its current items:
        /// once per region that holds items when `regional`, else once (region `global`).
        case account(regional: Bool)
    }

    public var name: String
    public var scope: Scope
    public var parameters: [ParameterSpec]
    public var cis: String?
    /// One line: what is checked.
    public var summary: String
    /// The verdict for one item (resource rules) or one account scope (`item` is then the
    /// pseudo item of resource type `AWS::::Account`, id the account, in the region).
    public var evaluate: @Sendable (ConfigItem, RuleContext) -> Verdict

    public init(_ name: String, _ scope: Scope, cis: String? = nil, parameters: [ParameterSpec] = [], summary: String,
                evaluate: @escaping @Sendable (ConfigItem, RuleContext) -> Verdict) {
        self.name = name
        self.scope = scope
        self.parameters = parameters
        self.cis = cis
        self.summary = summary
        self.evaluate = evaluate
    }

    /// The resource types evaluated (empty for account rules).
    public var resourceTypes: Set<String> {
        if case .resource(let t, _) = scope { return t } else { return [] }
    }
}

/// What a rule is evaluated with besides the item.
public struct RuleContext: Sendable {
    public var parameters: RuleParameters
    /// The current items of the item's account (all regions), deleted ones included.
    public var accountItems: [ConfigItem]

    public init(parameters: RuleParameters = RuleParameters(), accountItems: [ConfigItem] = []) {
        self.parameters = parameters
        self.accountItems = accountItems
    }

    /// Current, not deleted, items of a type in the account.
    public func live(_ type: String) -> [ConfigItem] {
        accountItems.filter { $0.resourceType == type && !$0.isDeleted && !$0.isNotRecorded }
    }
}

/// The account pseudo resource type account-wide rules report on, as AWS Config does.
public let accountResourceType = "AWS::::Account"
