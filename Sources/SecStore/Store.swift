#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SecModel

/// A secq store: a catalog environment (org registry, file digests, quarantine) and one
/// LMDB environment per bank under `banks/<bank-id>/`.
///
/// `@unchecked Sendable`: the catalog and bank handles are thread-safe (see
/// `Environment`); the table of open banks is guarded by `lock`.
public final class Store: @unchecked Sendable {
    public let path: String
    let catalog: Environment
    let orgDB, files, quarantine, quarantineKeys, catalogMeta: DB
    private let lock = PThreadCondition()
    private var openBanks: [String: BankStore] = [:]
    /// The initial map size of new environments; maps grow on demand.
    let mapSize: Int

    /// Opens the store at `path`. With `create`, makes the directories (owner-only).
    ///
    /// - Throws: `StoreError(.notInitialised)` when there is no store and `create` is false.
    public init(path: String, create: Bool = false, mapSize: Int = 1 << 36) throws {
        self.path = path
        self.mapSize = mapSize
        let fm = FileManager.default
        let catalogPath = path + "/catalog"
        if !fm.fileExists(atPath: catalogPath) {
            guard create else {
                throw StoreError(.notInitialised, "no store at '\(path)' (run 'secq init --org FILE' first, or pass --store)")
            }
            for dir in [path, catalogPath, path + "/banks"] {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
        }
        catalog = try EnvironmentRegistry.open(path: catalogPath, maxDBs: 8, mapSize: 1 << 32)
        orgDB = try catalog.openDB("org")
        files = try catalog.openDB("files")
        quarantine = try catalog.openDB("quarantine")
        quarantineKeys = try catalog.openDB("quarantine-keys")
        catalogMeta = try catalog.openDB("meta")
        try checkFormat()
    }

    /// The layout of the store's databases and blocks. A store written in another
    /// layout is refused rather than misread.
    public static let format: UInt32 = 1
    static let formatKey = Array("format".utf8)

    private func checkFormat() throws {
        let found = try catalog.read { txn in
            try Store.formatKey.withUnsafeBytes { k in try txn.get(catalogMeta, k) { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) } }
        }
        if let found {
            guard found == Store.format else {
                throw StoreError(.corrupt, "store '\(path)' has format \(found); this secq reads format \(Store.format) (ingest the logs into a new store)")
            }
            return
        }
        let empty = try catalog.read { txn in txn.count(orgDB) == 0 && txn.count(files) == 0 }
        guard empty else {
            throw StoreError(.corrupt, "store '\(path)' has no format mark; it was made by an older secq (ingest the logs into a new store)")
        }
        try catalog.write { txn in try txn.put(catalogMeta, Store.formatKey, withUnsafeBytes(of: Store.format.littleEndian) { Array($0) }) }
    }

    // MARK: - Organisation

    static let orgKey = Array("org".utf8)

    /// The registered organisation (empty when none).
    public func org() throws -> Org {
        let data = try catalog.read { txn in try Store.orgKey.withUnsafeBytes { k in try txn.get(orgDB, k) { Data($0) } } }
        guard let data else { return Org(banks: []) }
        return try JSONDecoder().decode(Org.self, from: data)
    }

    /// Registers banks and accounts, merging with what is registered: new banks and
    /// accounts are added, names and OUs updated; an account never changes bank.
    ///
    /// - Returns: the merged organisation.
    /// - Throws: `StoreError(.invalidOrg)` naming every problem.
    @discardableResult
    public func register(_ incoming: Org) throws -> Org {
        let problems = incoming.validate()
        guard problems.isEmpty else { throw StoreError(.invalidOrg, problems.joined(separator: "; ")) }
        let merged = try catalog.write { txn -> Org in
            var current = Org(banks: [])
            if let d = try Store.orgKey.withUnsafeBytes({ k in try txn.get(orgDB, k) { Data($0) } }) {
                current = try JSONDecoder().decode(Org.self, from: d)
            }
            for b in incoming.banks {
                for a in b.accounts {
                    if let owner = current.owner(ofAccount: a.id), owner.bank.id != b.id {
                        throw StoreError(.invalidOrg, "account '\(a.id)' already belongs to bank '\(owner.bank.id)'; it cannot move to '\(b.id)'")
                    }
                }
                if let i = current.banks.firstIndex(where: { $0.id == b.id }) {
                    current.banks[i].name = b.name
                    for a in b.accounts {
                        if let j = current.banks[i].accounts.firstIndex(where: { $0.id == a.id }) {
                            current.banks[i].accounts[j] = a
                        } else {
                            current.banks[i].accounts.append(a)
                        }
                    }
                } else {
                    current.banks.append(b)
                }
            }
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            try txn.put(orgDB, Store.orgKey, Array(try enc.encode(current)))
            return current
        }
        for b in merged.banks { _ = try bank(b.id) }
        return merged
    }

    /// The bank's partition, opened once per process.
    public func bank(_ id: String) throws -> BankStore {
        lock.lock(); defer { lock.unlock() }
        if let b = openBanks[id] { return b }
        guard Org.isValidBankID(id) else { throw StoreError(.unknownBank, "'\(id)' is not a bank id") }
        let dir = path + "/banks/" + id
        if !FileManager.default.fileExists(atPath: dir) {
            guard try org().banks.contains(where: { $0.id == id }) else {
                throw StoreError(.unknownBank, "unknown bank '\(id)'")
            }
            // A new bank's path links to its first generation (see `compact`).
            let first = Store.generationName(id, 1)
            try FileManager.default.createDirectory(atPath: path + "/banks/" + first, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            if symlink(first, dir) != 0 && errno != EEXIST {
                throw StoreError(.io, "cannot create '\(dir)' (errno \(errno))")
            }
        }
        // maxDBs is a limit of this process's handle, not stored in the file: raising it
        // (projections own databases of their own) opens existing stores unchanged.
        let env: Environment
        do {
            env = try EnvironmentRegistry.open(path: dir, maxDBs: 64, mapSize: mapSize)
        } catch let e as LMDBError where e.rawValue == ENOENT {
            // The generation it linked to was replaced by a compaction meanwhile.
            env = try EnvironmentRegistry.open(path: dir, maxDBs: 64, mapSize: mapSize)
        }
        if env.gate == nil && Store.isLink(dir) {
            env.gate = WriterGate(lockPath: Store.writersLock(path, id), link: dir, opened: env.path)
        }
        let b = try BankStore(id: id, env: env)
        openBanks[id] = b
        return b
    }

    /// A bank's generation directory, `.<id>.g<n>` in `banks/`: `banks/<id>` links to the
    /// current one. (Banks created before generations are a directory `banks/<id>`.)
    static func generationName(_ id: String, _ n: Int) -> String { ".\(id).g\(n)" }

    /// The lock file writers of the bank hold (see `WriterGate`).
    static func writersLock(_ store: String, _ id: String) -> String { store + "/banks/.\(id).writers" }

    static func isLink(_ p: String) -> Bool {
        var st = stat()
        return lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    /// What `compact` did.
    public struct CompactResult: Sendable, Equatable {
        public var bank: String
        public var bytesBefore: Int
        public var bytesAfter: Int
    }

    /// Rewrites a bank's environment without its free pages and swaps it in.
    ///
    /// `banks/<id>` links to the bank's current generation `banks/.<id>.g<n>/`. The
    /// compacted copy is written as generation n+1, synced, and the link replaced by
    /// one pointing to it in one rename; generation n is then removed (its files stay
    /// readable to the processes that have them open). Holding the bank's writers lock
    /// (see `WriterGate`) from before the copy until after the swap, it refuses while
    /// another process writes to the bank, and no process begins writing meanwhile (it
    /// waits, then finds the new generation). Readers are not waited for: a process
    /// reading generation n goes on reading it, unchanged, until it closes the bank; one
    /// that opens the bank after the swap reads n+1. A crash at any point leaves the link
    /// on one whole generation (a leftover one is removed by the next run).
    ///
    /// A bank created before generations (a directory `banks/<id>`) is compacted in place
    /// (the copy renamed over `data.mdb`) and only while no other process has it open.
    ///
    /// Refuses when this process has opened the bank (call before `bank(_:)`).
    ///
    /// - Throws: `StoreError(.busy)`, `StoreError(.unknownBank)`, `LMDBError`.
    public func compact(bank id: String) throws -> CompactResult {
        lock.lock()
        let openHere = openBanks[id] != nil
        lock.unlock()
        guard Org.isValidBankID(id) else { throw StoreError(.unknownBank, "'\(id)' is not a bank id") }
        let dir = path + "/banks/" + id
        let fm = FileManager.default
        guard fm.fileExists(atPath: dir + "/data.mdb") else { throw StoreError(.unknownBank, "bank '\(id)' has no data yet") }
        let resolved = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        if openHere || EnvironmentRegistry.isOpen(resolved) {
            throw StoreError(.busy, "bank '\(id)' is open in this process; compact it before opening it")
        }
        func size(_ p: String) -> Int { ((try? fm.attributesOfItem(atPath: p))?[.size] as? NSNumber)?.intValue ?? 0 }
        let before = size(dir + "/data.mdb")
        guard Store.isLink(dir) else { return try compactInPlace(id, dir: dir, before: before) }
        do {
            return try WriterGate.exclusively(Store.writersLock(path, id)) {
                let current = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
                let name = (current as NSString).lastPathComponent
                let prefix = ".\(id).g"
                guard name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)) else {
                    throw StoreError(.corrupt, "'\(dir)' links to '\(current)', not a generation of bank '\(id)'")
                }
                let banks = path + "/banks"
                let next = Store.generationName(id, n + 1)
                try? fm.removeItem(atPath: banks + "/" + next)
                try fm.createDirectory(atPath: banks + "/" + next, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                do {
                    let env = try Environment(path: current, maxDBs: 64, mapSize: mapSize)
                    try env.copyCompacted(to: banks + "/" + next)
                }
                // mdb_env_copy2 creates the file with mode 0666 less the umask: a bank is its owner's alone.
                chmod(banks + "/" + next + "/data.mdb", 0o600)
                try Store.fsync(banks + "/" + next + "/data.mdb")
                try Store.fsync(banks + "/" + next)
                try Store.fsync(banks) // the new generation's directory entry, before the link names it
                let link = banks + "/." + id + ".link"
                unlink(link)
                guard symlink(next, link) == 0, rename(link, dir) == 0 else {
                    throw StoreError(.io, "cannot point '\(dir)' at the compacted copy (errno \(errno))")
                }
                try Store.fsync(banks)
                // Older generations (and copies a crash left): their readers keep their files.
                // Each is renamed away first, so a process about to open it finds nothing
                // (and opens the bank again) rather than an emptied directory.
                for other in (try? fm.contentsOfDirectory(atPath: banks)) ?? [] where other.hasPrefix(prefix) && other != next {
                    let gone = other.hasSuffix(".gone") ? other : other + ".gone"
                    if gone == other || rename(banks + "/" + other, banks + "/" + gone) == 0 {
                        try? fm.removeItem(atPath: banks + "/" + gone)
                    }
                }
                return CompactResult(bank: id, bytesBefore: before, bytesAfter: size(dir + "/data.mdb"))
            }
        } catch let e as StoreError where e.code == .busy && e.message.hasPrefix("is being written") {
            throw StoreError(.busy, "bank '\(id)' \(e.message); stop it and run compact again")
        }
    }

    /// `compact` of a bank created before generations: the copy renamed over `data.mdb`,
    /// only while no other process has the bank open.
    private func compactInPlace(_ id: String, dir: String, before: Int) throws -> CompactResult {
        let fm = FileManager.default
        if let pid = Environment.otherHolder(dir: dir) {
            throw StoreError(.busy, "bank '\(id)' is open in another process (pid \(pid)); stop it and run compact again")
        }
        let tmp = path + "/banks/." + id + ".compact"
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // The exclusive lock is held from before the copy until after the rename, so no
        // other process opens the bank (LMDB waits for the lock) and commits to the old
        // file after the copy's snapshot. The environment opened here for the copy stays
        // open until the new file is in place: closing it releases this process's locks
        // on lock.mdb (POSIX record locks belong to the process, not the descriptor).
        try Environment.exclusively(dir: dir) { relock in
            let env = try Environment(path: dir, maxDBs: 64, mapSize: mapSize)
            try relock()
            try env.copyCompacted(to: tmp)
            // mdb_env_copy2 creates the file with mode 0666 less the umask: a bank is its owner's alone.
            chmod(tmp + "/data.mdb", 0o600)
            try Store.fsync(tmp + "/data.mdb")
            guard rename(tmp + "/data.mdb", dir + "/data.mdb") == 0 else {
                throw StoreError(.io, "cannot move the compacted copy of bank '\(id)' into place (errno \(errno))")
            }
            try Store.fsync(dir)
            withExtendedLifetime(env) {}
        }
        try? fm.removeItem(atPath: tmp)
        let after = ((try? fm.attributesOfItem(atPath: dir + "/data.mdb"))?[.size] as? NSNumber)?.intValue ?? 0
        return CompactResult(bank: id, bytesBefore: before, bytesAfter: after)
    }

    /// Flushes a file or directory to disk.
    package static func fsync(_ p: String) throws {
        let fd = open(p, O_RDONLY)
        guard fd >= 0 else { throw StoreError(.io, "cannot open '\(p)' to sync it (errno \(errno))") }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw StoreError(.io, "cannot sync '\(p)' (errno \(errno))") }
    }

    /// Transactions left open in this process on the catalog and the open banks.
    package var openTransactions: Int {
        lock.lock(); defer { lock.unlock() }
        return catalog.openTransactions + openBanks.values.reduce(0) { $0 + $1.env.openTransactions }
    }

    // MARK: - File digests

    /// Whether a file with this digest was ingested completely before.
    public func fileSeen(digest: [UInt8]) throws -> Bool {
        try catalog.read { txn in try digest.withUnsafeBytes { k in try txn.get(files, k) { _ in true } } } ?? false
    }

    /// Records that every record of these files (by SHA-256 of their bytes) is stored or
    /// quarantined, with the time it was recorded (ms). Only the digest is kept, not the
    /// path: 40 000 paths cost more than the 40 000 files' index entries themselves.
    public func recordFiles(_ digests: [[UInt8]], at time: Int64) throws {
        guard !digests.isEmpty else { return }
        try catalog.write { txn in
            for d in digests { try txn.put(files, d, withUnsafeBytes(of: time.littleEndian) { Array($0) }) }
        }
    }

    // MARK: - Quarantine

    /// A record secq refused, kept with the reason.
    public struct QuarantineEntry: Sendable, Codable, Equatable {
        public var id: UInt64 = 0
        public var file: String
        public var offset: Int64
        public var reason: String
        public var bank: String?
        public var account: String?
        public var at: Int64
        public var size: Int
        public var bytes: [UInt8] = []
        /// Identifies the same refusal when an interrupted ingest is run again, so it is
        /// kept once (for example a hash of file digest, offset and reason).
        public var dedupKey: [UInt8] = []
        /// The input format the record was read as, when known (for `quarantine retry`).
        public var format: String?
        /// Header lines that give the record its meaning (VPC flow, CloudFront), so it
        /// can be parsed again on its own.
        public var header: String?
        /// Set when the record was stored anyway and is listed only as a warning (a
        /// time far in the future): nothing to retry.
        public var kept: Bool?

        public init(file: String, offset: Int64, reason: String, bank: String? = nil, account: String? = nil, at: Int64,
                    bytes: [UInt8], size: Int? = nil, dedupKey: [UInt8] = []) {
            self.file = file; self.offset = offset; self.reason = reason; self.bank = bank
            self.account = account; self.at = at; self.size = size ?? bytes.count; self.bytes = bytes
            self.dedupKey = dedupKey
        }

        enum CodingKeys: String, CodingKey { case id, file, offset, reason, bank, account, at, size, format, header, kept }
    }

    /// Keeps refused records; returns how many were added (entries whose `dedupKey`
    /// is already kept are skipped).
    @discardableResult
    public func addToQuarantine(_ entries: [QuarantineEntry]) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        return try catalog.write { txn in try insertQuarantine(entries, txn: &txn) }
    }

    private static let nextQuarantineID: [UInt8] = Array("quarantine-next-id".utf8)

    /// Adds entries in `txn`. Ids come from a counter in the catalog, so an id settled
    /// (deleted) by a retry is never handed out again.
    private func insertQuarantine(_ entries: [QuarantineEntry], txn: inout WriteTxn) throws -> Int {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let c = try txn.cursor(quarantine)
        var next: UInt64 = 1
        if let last = try c.last() { next = BE.u64(last.key) + 1 }
        if let counted = try Store.nextQuarantineID.withUnsafeBytes({ k in try txn.get(catalogMeta, k) { BE.u64($0) } }) {
            next = max(next, counted)
        }
        var added = 0
        for var e in entries {
            if !e.dedupKey.isEmpty {
                let seen = try e.dedupKey.withUnsafeBytes { k in try txn.get(quarantineKeys, k) { _ in true } } ?? false
                if seen { continue }
                try txn.put(quarantineKeys, e.dedupKey, BE.bytes(next))
            }
            added += 1
            e.id = next
            let header = Array(try enc.encode(e))
            var w = ByteWriter()
            w.u32(UInt32(header.count)); w.append(header); w.append(e.bytes)
            try txn.put(quarantine, BE.bytes(next), w.bytes, append: true)
            next += 1
        }
        try txn.put(catalogMeta, Store.nextQuarantineID, BE.bytes(next))
        return added
    }

    /// Settles quarantined records after a retry: removes those now stored (`nil`
    /// reason) and gives the others their new reason. Their dedup keys stay, so the
    /// original ingest run again does not bring a settled record back.
    ///
    /// - Parameter adding: entries that take the place of settled ones (the records of a
    ///   retried entry that still fail), added in the same transaction, so a crash never
    ///   loses them.
    public func settleQuarantine(_ outcomes: [(id: UInt64, reason: String?)], adding: [QuarantineEntry] = []) throws {
        guard !outcomes.isEmpty || !adding.isEmpty else { return }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try catalog.write { txn in
            for (id, reason) in outcomes {
                let key = BE.bytes(id)
                guard let reason else { _ = try key.withUnsafeBytes { k in try txn.delete(quarantine, k) }; continue }
                let old = try key.withUnsafeBytes { k in try txn.get(quarantine, k) { Array($0) } }
                guard let old else { continue }
                let (header, body) = try old.withUnsafeBytes { b in
                    var r = ByteReader(b)
                    let n = Int(try r.u32())
                    return (Array(try r.bytes(n)), Array(b[r.pos...]))
                }
                var e = try JSONDecoder().decode(QuarantineEntry.self, from: Data(header))
                e.reason = reason
                let encoded = Array(try enc.encode(e))
                var w = ByteWriter()
                w.u32(UInt32(encoded.count)); w.append(encoded); w.append(body)
                try txn.put(quarantine, key, w.bytes)
            }
            _ = try insertQuarantine(adding, txn: &txn)
        }
    }

    /// Quarantined records in id order, with their bytes when `withBytes`.
    public func quarantined(withBytes: Bool = false, limit: Int = .max) throws -> [QuarantineEntry] {
        try catalog.read { txn in
            let c = try txn.cursor(quarantine)
            var out: [QuarantineEntry] = []
            var e = try c.first()
            while let cur = e, out.count < limit {
                var r = ByteReader(cur.value)
                let n = Int(try r.u32())
                var q = try JSONDecoder().decode(QuarantineEntry.self, from: Data(try r.bytes(n)))
                if withBytes { q.bytes = Array(UnsafeRawBufferPointer(rebasing: cur.value[r.pos...])) }
                out.append(q)
                e = try c.next()
            }
            return out
        }
    }
}

/// One `Environment` per path per process: LMDB forbids opening the same file twice.
enum EnvironmentRegistry {
    private static let lock = PThreadCondition()
    nonisolated(unsafe) private static var open: [String: WeakEnvironment] = [:]

    final class WeakEnvironment { weak var env: Environment?; init(_ e: Environment) { env = e } }

    /// Whether this process has the environment at `real` (a resolved path) open.
    static func isOpen(_ real: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return open[real]?.env != nil
    }

    static func open(path: String, maxDBs: UInt32, mapSize: Int) throws -> Environment {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        lock.lock(); defer { lock.unlock() }
        if let e = open[real]?.env { return e }
        let e = try Environment(path: real, maxDBs: maxDBs, mapSize: mapSize)
        open[real] = WeakEnvironment(e)
        return e
    }
}
