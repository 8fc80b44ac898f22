/// The organisation: banks and the AWS accounts each owns (`secq init --org org.json`).
public struct Org: Sendable, Codable, Equatable {
    public var banks: [Bank]
    public init(banks: [Bank]) { self.banks = banks }

    public struct Bank: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public var accounts: [Account]
        public init(id: String, name: String, accounts: [Account]) {
            self.id = id; self.name = name; self.accounts = accounts
        }
    }

    public struct Account: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public var ou: String
        public init(id: String, name: String, ou: String) { self.id = id; self.name = name; self.ou = ou }
    }

    /// The bank and account entry owning an account id.
    public func owner(ofAccount id: String) -> (bank: Bank, account: Account)? {
        for b in banks { if let a = b.accounts.first(where: { $0.id == id }) { return (b, a) } }
        return nil
    }

    /// Problems with the registry: bad ids, duplicates, an account claimed by two banks.
    public func validate() -> [String] {
        var problems: [String] = []
        var seenBanks = Set<String>(), seenAccounts = [String: String]()
        for b in banks {
            if !Org.isValidBankID(b.id) {
                problems.append("bank id '\(b.id)' must be 1-64 characters of a-z, 0-9 and '-'")
            }
            if !seenBanks.insert(b.id).inserted { problems.append("bank '\(b.id)' is listed twice") }
            for a in b.accounts {
                if !Org.isAccountID(a.id) {
                    problems.append("account id '\(a.id)' of bank '\(b.id)' is not 12 digits")
                }
                if let other = seenAccounts[a.id] {
                    problems.append(other == b.id ? "account '\(a.id)' is listed twice in bank '\(b.id)'"
                                    : "account '\(a.id)' is claimed by banks '\(other)' and '\(b.id)'")
                }
                seenAccounts[a.id] = b.id
            }
        }
        return problems
    }

    /// Whether a string is an AWS account id: exactly 12 ASCII digits.
    public static func isAccountID<S: StringProtocol>(_ s: S) -> Bool {
        s.utf8.count == 12 && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    public static func isValidBankID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy {
            ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45
        } && !id.hasPrefix("-")
    }
}
