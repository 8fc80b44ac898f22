extension ProjectionDatabase {
    /// The entries whose keys start with `prefix`, in key order, copied out (an empty
    /// prefix gives every entry).
    public func entries(prefix: [UInt8]) throws -> [(key: [UInt8], value: [UInt8])] {
        let c = try Cursor(txn: txn.txn, db: db)
        var rows: [(key: [UInt8], value: [UInt8])] = []
        var e = try prefix.isEmpty ? c.first() : prefix.withUnsafeBytes { try c.seek($0) }
        while let cur = e, cur.key.starts(with: prefix) {
            rows.append((Array(cur.key), Array(cur.value)))
            e = try c.next()
        }
        return rows
    }
}
