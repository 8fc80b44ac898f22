extension BankStore {
    /// Runs `body` in one write transaction of the bank with a subscriber's own
    /// databases (`sub.<name>.<db>`, the ones `consume` writes) and the right to append
    /// to the log: for changes made outside the subscriber's run, such as archiving a
    /// finding and recording that as an event. The subscriber's checkpoint does not move.
    public func writeSubscriber<T>(_ name: String, databases: [String],
                                   _ body: (ProjectionWriter) throws -> T) throws -> T {
        let full = databases.map { "sub.\(name).\($0)" }
        let opened = try projectionDBs.open(full, in: env)
        var dbs: [String: DB] = [:]
        for d in databases { dbs[d] = opened["sub.\(name).\(d)"]! }
        let appended = ProjectionWriter.AppendFlag()
        let result = try env.write { txn in
            appended.value = false
            return try body(ProjectionWriter(txn: TxnRef(txn.txn), dbs: dbs, bank: self, appended: appended))
        }
        if appended.value { notifyAppended() }
        return result
    }
}
