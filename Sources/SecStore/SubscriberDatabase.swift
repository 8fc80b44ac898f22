extension BankStore {
    /// Runs `body` in one write transaction of the bank on a subscriber's own database
    /// (`sub.<name>.<database>`, the one `consume` writes): for changes made outside the
    /// subscriber's run, such as archiving a finding. The subscriber's checkpoint does not
    /// move.
    public func writeSubscriberDatabase<T>(_ name: String, database: String,
                                           _ body: (ProjectionDatabase) throws -> T) throws -> T {
        let full = "sub.\(name).\(database)"
        let db = try projectionDBs.open([full], in: env)[full]!
        return try env.write { txn in try body(ProjectionDatabase(txn: TxnRef(txn.txn), db: db)) }
    }
}
