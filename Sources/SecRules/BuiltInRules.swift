import SecDetect

/// The built-in detectors written as rule files, compiled into the binary and loaded at
/// start (same ids, finding types and titles as the Swift rules they replaced).
public enum BuiltInRules {
    /// File name and text of each.
    public static let files: [(name: String, text: String)] = [
        ("password-policy-change.yml", """
        # Stealth:IAMUser/PasswordPolicyChange: the account password policy was updated or deleted.
        id: cloudtrail.password-policy-change
        finding_type: Stealth:IAMUser/PasswordPolicyChange
        severity: 2.0
        title: The password policy of account {account} was changed
        description: "{action} by {principal}."
        sources: [cloudtrail]
        aggregation_key: []
        where: >-
          source == "cloudtrail" and outcome == "success" and service == "iam.amazonaws.com"
          and action in ("UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy")
        """),
        ("pentest-kali.yml", penTest("kali", "KaliLinux", "Kali Linux")),
        ("pentest-parrot.yml", penTest("parrot", "ParrotLinux", "Parrot Security Linux")),
        ("pentest-pentoo.yml", penTest("pentoo", "PentooLinux", "Pentoo Linux")),
    ] + coverageFiles

    /// PenTest:IAMUser/KaliLinux and its kin: the distribution's name as a word of the
    /// user agent (no letter on either side, so `alkaline` does not count). The cheap
    /// `contains` goes first so that the pattern runs only on candidates.
    static func penTest(_ word: String, _ family: String, _ name: String) -> String {
        """
        # PenTest:IAMUser/\(family): a call from a \(name) machine, by its user agent.
        id: cloudtrail.pentest-\(word)
        finding_type: PenTest:IAMUser/\(family)
        severity: 5.0
        title: "{action|An API} was called from a \(name) machine"
        description: "User agent: {user_agent}."
        sources: [cloudtrail]
        aggregation_key: [principal]
        where: 'source == "cloudtrail" and user_agent contains "\(word)" and user_agent matches "(?i)(^|\\\\P{L})\(word)(\\\\P{L}|$)"'
        """
    }

    /// The parsed rules. A built-in that does not parse is a programming error.
    public static let rules: [Rule] = files.map { f in
        do { return try RuleLoader.parse(f.text, file: "built-in:" + f.name) } catch {
            fatalError("built-in rule \(f.name) does not load:\n\(error)")
        }
    }
}
