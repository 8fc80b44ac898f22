import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Every mdb_* call of the project lives in this file.

/// An LMDB result code, matchable in `catch`: `catch LMDBError.mapFull`.
public struct LMDBError: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let notFound = LMDBError(rawValue: MDB_NOTFOUND)
    public static let keyExists = LMDBError(rawValue: MDB_KEYEXIST)
    public static let mapFull = LMDBError(rawValue: MDB_MAP_FULL)
    public static let mapResized = LMDBError(rawValue: MDB_MAP_RESIZED)
    public static let readersFull = LMDBError(rawValue: MDB_READERS_FULL)
    public static let corrupted = LMDBError(rawValue: MDB_CORRUPTED)

    public static func ~= (pattern: LMDBError, error: any Error) -> Bool {
        (error as? LMDBError)?.rawValue == pattern.rawValue
    }

    public var description: String { "LMDB: " + String(cString: mdb_strerror(rawValue)) }
}

@inline(__always)
func check(_ rc: Int32) throws(LMDBError) {
    if rc != 0 { throw LMDBError(rawValue: rc) }
}

/// A named database inside an environment.
package struct DB: Sendable, Hashable {
    package var dbi: MDB_dbi
}

/// Read the bytes of an `MDB_val` (valid only while its transaction lives).
@inline(__always)
func bytes(_ v: MDB_val) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
}

/// An LMDB environment: one memory-mapped file with its named databases.
///
/// `@unchecked Sendable`: the handle is used from any thread. The environment is opened
/// with `MDB_NOTLS`, so read transactions are not tied to the thread that began them
/// (Swift tasks hop threads), and LMDB serialises writers itself with its own mutex.
/// `mapSize` is only changed under `resizeLock` while no transaction of this process is
/// open (LMDB's contract for `mdb_env_set_mapsize`), which `activeTxns` tracks.
package final class Environment: @unchecked Sendable {
    package let handle: OpaquePointer
    package let path: String
    private let state = LockedState()
    /// For a bank's environment: the lock every writing process holds, so compaction
    /// never swaps the file from under a writer (see `WriterGate`).
    package var gate: WriterGate?

    /// Opens (creating when needed) the environment in the directory `path`.
    ///
    /// - Parameters:
    ///   - path: an existing directory; LMDB keeps `data.mdb` and `lock.mdb` there.
    ///   - maxDBs: the number of named databases it may hold.
    ///   - mapSize: the initial map size in bytes; it grows on `MDB_MAP_FULL`.
    /// - Throws: `LMDBError` from `mdb_env_open`.
    package init(path: String, maxDBs: UInt32, mapSize: Int, readOnly: Bool = false) throws {
        var env: OpaquePointer?
        try check(mdb_env_create(&env))
        guard let env else { throw LMDBError(rawValue: 12) } // ENOMEM
        do {
            try check(mdb_env_set_maxdbs(env, maxDBs))
            try check(mdb_env_set_maxreaders(env, 254))
            try check(mdb_env_set_mapsize(env, mapSize))
            // MDB_NOTLS: read transactions may move between threads. The file mode is
            // owner-only: a bank's data is readable by the store's owner alone.
            var flags = UInt32(MDB_NOTLS)
            if readOnly { flags |= UInt32(MDB_RDONLY) }
            try check(mdb_env_open(env, path, flags, 0o600))
        } catch {
            // "If this function fails, mdb_env_close() must be called to discard the
            // MDB_env handle." (lmdb.h, mdb_env_open)
            mdb_env_close(env)
            throw error
        }
        handle = env
        self.path = path
        // Clear reader slots left by processes that died (kill -9) holding a snapshot.
        var dead: Int32 = 0
        mdb_reader_check(env, &dead)
    }

    deinit { mdb_env_close(handle) }

    /// Transactions of this process open now (tests assert none is left open).
    package var openTransactions: Int { state.count }

    /// The current map size in bytes.
    package var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Opens or creates a named database. Call once per name, at open time.
    ///
    /// An existing database is opened in a read transaction (a write transaction would
    /// wait for the writer and commit); only a missing one takes a write transaction.
    package func openDB(_ name: String, create: Bool = true) throws -> DB {
        try state.enter()
        let txn: OpaquePointer
        do { txn = try beginRead() } catch { state.leave(); throw error }
        var dbi: MDB_dbi = 0
        let found = mdb_dbi_open(txn, name, 0, &dbi)
        if found == 0 {
            // "The handle may only be used after the transaction commits" holds for
            // handles opened in a write txn; one opened in a read txn stays valid for the
            // environment once that txn ends with commit (lmdb.h, mdb_dbi_open).
            let rc = mdb_txn_commit(txn)
            state.leave()
            try check(rc)
            return DB(dbi: dbi)
        }
        mdb_txn_abort(txn)
        state.leave()
        guard found == MDB_NOTFOUND else { throw LMDBError(rawValue: found) }
        // Not through the writers' gate: an empty database created in a generation a
        // compaction replaced holds nothing to lose, and a reading process that creates
        // one must not hold the writers' lock for the rest of its life.
        return try write(gated: false) { txn in try txn.openDB(name, create: create) }
    }

    /// Runs `body` in a read-only snapshot. Values lent to `body` live only until it returns.
    package func read<T>(_ body: (borrowing ReadTxn) throws -> T) throws -> T {
        try state.enter()
        defer { state.leave() }
        let txn = try beginRead()
        let r = ReadTxn(txn)
        defer { mdb_txn_abort(txn) }
        return try body(r)
    }

    /// Begins a read-only transaction, adopting the map size when another process grew it.
    private func beginRead() throws(LMDBError) -> OpaquePointer {
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn)
        if rc == MDB_MAP_RESIZED {
            // Another process grew the map: adopt its size (size 0 means "as the file
            // says", which LMDB permits while readers of ours may be open).
            mdb_env_set_mapsize(handle, 0)
            rc = mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn)
        }
        try check(rc)
        return txn!
    }

    /// Runs `body` in a write transaction: commits when it returns, aborts when it throws.
    ///
    /// When the map is full, the transaction is aborted, the map doubled and `body`
    /// run again from the start, so `body` must only depend on what it reads in `txn`.
    package func write<T>(gated: Bool = true, _ body: (inout WriteTxn) throws -> T) throws -> T {
        if gated { try gate?.enter() }
        while true {
            do {
                try state.enter()
                defer { state.leave() }
                var txn = try WriteTxn(env: handle)
                let result = try body(&txn)
                try txn.commit()
                return result
            } catch LMDBError.mapFull {
                try grow()
            } catch LMDBError.mapResized {
                try state.exclusively { mdb_env_set_mapsize(handle, 0) }
            }
        }
    }

    /// Doubles the map. Waits until no transaction of this process is open.
    package func grow() throws {
        let current = mapSize
        try state.exclusively {
            // "This function may only be called if no transactions are active in the
            // current process." (lmdb.h, mdb_env_set_mapsize)
            try check(mdb_env_set_mapsize(handle, current * 2))
        }
    }

    /// Flushes buffers to disk.
    package func sync() throws { try check(mdb_env_sync(handle, 1)) }

    /// Writes a copy of the environment into the directory `dir` (as `data.mdb`) without
    /// its free pages, renumbering pages as it goes (`mdb_env_copy2` with
    /// `MDB_CP_COMPACT`). "This call can trigger significant file size growth if run in
    /// parallel with write transactions, because it employs a read-only transaction."
    /// (lmdb.h): callers make sure no writer runs.
    package func copyCompacted(to dir: String) throws {
        try state.enter()
        defer { state.leave() }
        try check(mdb_env_copy2(handle, dir, UInt32(MDB_CP_COMPACT)))
    }

    /// An exclusive record lock on the first byte of a file (LMDB's own lock on `lock.mdb`).
    private static func firstByteWriteLock() -> flock {
        var fl = flock()
        fl.l_type = Int16(F_WRLCK)
        fl.l_whence = Int16(SEEK_SET)
        fl.l_start = 0
        fl.l_len = 1
        return fl
    }

    /// The process (other than this one) that has the environment in `dir` open, if any.
    ///
    /// Every process that opens an environment holds a shared `fcntl` lock on the first
    /// byte of its `lock.mdb` for as long as it has it open (LMDB's `mdb_env_excl_lock`);
    /// `F_GETLK` for an exclusive lock reports such a holder. Locks of this process are
    /// never reported (POSIX record locks belong to the process).
    package static func otherHolder(dir: String) -> Int32? {
        let fd = open(dir + "/lock.mdb", O_RDWR)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var fl = firstByteWriteLock()
        guard fcntl(fd, F_GETLK, &fl) == 0 else { return nil }
        return fl.l_type == Int16(F_UNLCK) ? nil : fl.l_pid
    }

    /// Takes an exclusive lock on the first byte of `dir/lock.mdb` without waiting, so no
    /// process opens the environment (LMDB waits for it) until `body` returns.
    ///
    /// `body` is given a function that takes the lock again: opening the environment in
    /// this process turns the process's lock into a shared one (LMDB shares its lock
    /// once set up, and record locks belong to the process), so call it after opening.
    ///
    /// - Throws: `StoreError(.busy)` when another process holds the environment.
    package static func exclusively<T>(dir: String, _ body: (_ relock: () throws -> Void) throws -> T) throws -> T {
        let fd = open(dir + "/lock.mdb", O_RDWR)
        guard fd >= 0 else { return try body({}) }
        // Closing any descriptor of the file releases the lock: keep this one open.
        defer { close(fd) }
        func lock() throws {
            var fl = firstByteWriteLock()
            guard fcntl(fd, F_SETLK, &fl) == 0 else {
                throw StoreError(.busy, "'\(dir)' is open in another process")
            }
        }
        try lock()
        return try body(lock)
    }

    /// Drops this process's mapping of the file's pages (not the data: it stays in the
    /// OS page cache and is mapped again on the next access), so the resident size of
    /// a long ingest does not grow with the store. LMDB maps the file read-only and
    /// writes through `pwrite`, so no page of the map is ever dirty here.
    ///
    /// LMDB does not expose where it mapped the file (`me_mapaddr` is only set with
    /// `MDB_FIXEDMAP`), so the mapping of `data.mdb` is found in `/proc/self/maps`.
    package func releaseMappedPages() {
        #if os(Linux)
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return }
        let file = path + "/data.mdb"
        for line in maps.split(separator: "\n") where line.hasSuffix(file) {
            let range = line.prefix { $0 != " " }.split(separator: "-")
            guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16), hi > lo,
                  let addr = UnsafeMutableRawPointer(bitPattern: lo) else { continue }
            _ = madvise(addr, Int(hi - lo), MADV_DONTNEED)
        }
        #endif
    }

    /// With `deferred`, commits no longer wait for the disk (`MDB_NOSYNC`): a process
    /// crash loses nothing committed (the data is in the OS page cache), a power loss
    /// may lose commits since the last `sync()`. Whoever acknowledges data must sync.
    package func setDeferredSync(_ deferred: Bool) throws {
        try check(mdb_env_set_flags(handle, UInt32(MDB_NOSYNC), deferred ? 1 : 0))
    }
}

/// Counts open transactions so the map is resized only when none is.
private final class LockedState: @unchecked Sendable {
    // Guarded by `cond`'s mutex.
    private var active = 0
    private var resizing = false
    private let cond = PThreadCondition()

    func enter() throws(LMDBError) {
        cond.lock(); defer { cond.unlock() }
        while resizing { cond.wait() }
        active += 1
    }

    func leave() {
        cond.lock(); defer { cond.unlock() }
        active -= 1
        cond.broadcast()
    }

    var count: Int {
        cond.lock(); defer { cond.unlock() }
        return active
    }

    func exclusively(_ body: () throws -> Void) throws {
        cond.lock()
        while resizing || active > 0 { cond.wait() }
        resizing = true
        cond.unlock()
        defer {
            cond.lock(); resizing = false; cond.broadcast(); cond.unlock()
        }
        try body()
    }
}

/// A read-only snapshot. Borrowed only inside `Environment.read`.
package struct ReadTxn: ~Copyable {
    package let txn: OpaquePointer
    init(_ txn: OpaquePointer) { self.txn = txn }

    /// The value at `key`, lent to `body`; nil when absent.
    package func get<T>(_ db: DB, _ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try lmdbGet(txn, db, key, body)
    }

    package func cursor(_ db: DB) throws -> Cursor { try Cursor(txn: txn, db: db) }

    package func count(_ db: DB) -> Int {
        var st = MDB_stat()
        mdb_stat(txn, db.dbi, &st)
        return st.ms_entries
    }

    static func get<T>(_ txn: OpaquePointer, _ db: DB, _ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try lmdbGet(txn, db, key, body)
    }
}

/// A write transaction. Owns its handle: `commit()` consumes it; dropping it aborts.
///
/// `mdb_txn_commit` frees the handle even when it fails, so a failed commit is never
/// followed by an abort.
package struct WriteTxn: ~Copyable {
    package let txn: OpaquePointer
    private var done = false

    init(env: OpaquePointer) throws(LMDBError) {
        var t: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &t))
        txn = t!
    }

    /// A view of a write transaction another `WriteTxn` owns (lent through a `TxnRef`):
    /// it never commits or aborts it.
    init(borrowing txn: OpaquePointer) {
        self.txn = txn
        done = true
    }

    deinit { if !done { mdb_txn_abort(txn) } }

    package consuming func commit() throws(LMDBError) {
        done = true
        // "The transaction handle is freed. It and its cursors must not be used again
        // after this call" — whatever the result (lmdb.h, mdb_txn_commit).
        try check(mdb_txn_commit(txn))
    }

    func openDB(_ name: String, create: Bool) throws(LMDBError) -> DB {
        var dbi: MDB_dbi = 0
        try check(mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi))
        return DB(dbi: dbi)
    }

    package func get<T>(_ db: DB, _ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try lmdbGet(txn, db, key, body)
    }

    /// Stores `value` at `key`. `append` uses `MDB_APPEND` (keys must be increasing).
    package func put(_ db: DB, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, append: Bool = false, noOverwrite: Bool = false) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        var flags: UInt32 = 0
        if append { flags |= UInt32(MDB_APPEND) }
        if noOverwrite { flags |= UInt32(MDB_NOOVERWRITE) }
        try check(mdb_put(txn, db.dbi, &k, &v, flags))
    }

    package func put(_ db: DB, _ key: [UInt8], _ value: [UInt8], append: Bool = false) throws {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try put(db, k, v, append: append) } }
    }

    /// Deletes `key`; returns false when it was absent.
    @discardableResult
    package func delete(_ db: DB, _ key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        try TxnRef(txn).delete(db, key)
    }

    package func cursor(_ db: DB) throws -> Cursor { try Cursor(txn: txn, db: db) }

    package func drop(_ db: DB) throws(LMDBError) { try TxnRef(txn).empty(db) }
}

private func lmdbGet<T>(_ txn: OpaquePointer, _ db: DB, _ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
    var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
    var v = MDB_val()
    let rc = mdb_get(txn, db.dbi, &k, &v)
    if rc == MDB_NOTFOUND { return nil }
    try check(rc)
    return try body(bytes(v))
}

/// A cursor over one database, valid within its transaction.
package struct Cursor: ~Copyable {
    let cursor: OpaquePointer

    init(txn: OpaquePointer, db: DB) throws(LMDBError) {
        var c: OpaquePointer?
        try check(mdb_cursor_open(txn, db.dbi, &c))
        cursor = c!
    }

    deinit { mdb_cursor_close(cursor) }

    private func op(_ o: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws(LMDBError) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer)? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val()
        let rc = mdb_cursor_get(cursor, &k, &v, o)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return (bytes(k), bytes(v))
    }

    package func first() throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? { try op(MDB_FIRST) }
    package func last() throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? { try op(MDB_LAST) }
    package func next() throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? { try op(MDB_NEXT) }
    package func prev() throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? { try op(MDB_PREV) }
    /// Positions at the first key >= `key`.
    package func seek(_ key: UnsafeRawBufferPointer) throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? { try op(MDB_SET_RANGE, key: key) }
}

/// A copyable view of a transaction lent to a closure (read or write), for types that
/// are themselves lent (`BankSnapshot`, `ProjectionWriter`). Valid only while the
/// transaction that lends it is open; never kept beyond that closure.
package struct TxnRef {
    package let txn: OpaquePointer
    package init(_ txn: OpaquePointer) { self.txn = txn }

    package func get<T>(_ db: DB, _ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try lmdbGet(txn, db, key, body)
    }

    /// Stores `value` at `key` (write transactions only).
    package func put(_ db: DB, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(txn, db.dbi, &k, &v, 0))
    }

    /// Deletes `key`; false when it was absent (write transactions only).
    @discardableResult
    package func delete(_ db: DB, _ key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc = mdb_del(txn, db.dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try check(rc)
        return true
    }

    /// Empties the database, keeping it open ("0 to empty the DB", lmdb.h, mdb_drop).
    package func empty(_ db: DB) throws(LMDBError) { try check(mdb_drop(txn, db.dbi, 0)) }

    package func cursor(_ db: DB) throws -> Cursor { try Cursor(txn: txn, db: db) }

    /// Entries and bytes of pages (branch, leaf and overflow) of one database.
    package func statistics(_ db: DB) -> (entries: Int, bytes: Int) {
        var st = MDB_stat()
        mdb_stat(txn, db.dbi, &st)
        return (st.ms_entries, Int(st.ms_psize) * (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages))
    }
}

/// Compaction and writers of one bank (see `Store.compact`). Every process that writes to
/// the bank holds a shared `fcntl` lock on the bank's writers file from its first write
/// transaction until it exits; compaction holds an exclusive one while it copies the
/// environment and swaps the copy in. A process whose environment is no longer the
/// bank's current generation (compacted since it opened the bank) is refused writing,
/// so nothing is written to a file that has been replaced; reading it goes on.
///
/// Record locks belong to the process, and closing any descriptor of the file drops
/// them, so each writers file is opened once per process (`Shared`) and never closed;
/// the lock is dropped (`F_UNLCK`) when no gate of the process holds it any more.
package final class WriterGate: @unchecked Sendable {
    // `@unchecked Sendable`: `entered` is only touched under `Shared.lock`.
    private var entered = false
    let lockPath: String
    /// The bank's path (`banks/<id>`, a link to its generation) and the generation this
    /// environment opened.
    let link: String
    let opened: String

    /// The descriptor of each writers file this process opened, and how many gates hold
    /// its lock.
    private enum Shared {
        static let lock = PThreadCondition()
        nonisolated(unsafe) static var files: [String: (fd: Int32, holders: Int)] = [:]
    }

    package init(lockPath: String, link: String, opened: String) {
        self.lockPath = lockPath; self.link = link; self.opened = opened
    }

    deinit {
        Shared.lock.lock(); defer { Shared.lock.unlock() }
        if entered { WriterGate.release(lockPath) }
    }

    private static func setLock(_ fd: Int32, _ type: Int32, wait: Bool) -> Int32 {
        var fl = flock()
        fl.l_type = Int16(type); fl.l_whence = Int16(SEEK_SET); fl.l_start = 0; fl.l_len = 1
        while fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) != 0 {
            if errno == EINTR && wait { continue }
            return errno
        }
        return 0
    }

    /// The process's descriptor of the writers file (under `Shared.lock`).
    private static func descriptor(_ path: String) throws -> Int32 {
        if let f = Shared.files[path] { return f.fd }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError(.io, "cannot open '\(path)' (errno \(errno))") }
        Shared.files[path] = (fd, 0)
        return fd
    }

    /// One gate less holds the lock (under `Shared.lock`): dropped when none does.
    private static func release(_ path: String) {
        guard var f = Shared.files[path] else { return }
        f.holders -= 1
        Shared.files[path] = f
        if f.holders == 0 { _ = setLock(f.fd, F_UNLCK, wait: false) }
    }

    /// Takes the shared lock the first time (waiting while a compaction holds the
    /// exclusive one), then checks the environment is still the bank's current one;
    /// when it is not, lets go of the lock (this process cannot write to the bank
    /// through this environment any more) and throws. Once taken, nothing is checked
    /// again: no compaction can swap the bank while this process holds the lock.
    package func enter() throws {
        Shared.lock.lock(); defer { Shared.lock.unlock() }
        if entered { return }
        let fd = try WriterGate.descriptor(lockPath)
        if Shared.files[lockPath]!.holders == 0 {
            let err = WriterGate.setLock(fd, F_RDLCK, wait: true)
            guard err == 0 else { throw StoreError(.io, "cannot lock '\(lockPath)' (errno \(err))") }
        }
        Shared.files[lockPath]!.holders += 1
        entered = true
        let current = URL(fileURLWithPath: link).resolvingSymlinksInPath().path
        guard current == opened else {
            WriterGate.release(lockPath)
            entered = false
            throw StoreError(.busy, "the bank was compacted after this process opened it ('\(link)' is now '\(current)'); run the command again")
        }
    }

    /// The other process holding the lock, if any.
    package static func holder(_ lockPath: String) -> Int32? {
        Shared.lock.lock(); defer { Shared.lock.unlock() }
        guard let fd = try? descriptor(lockPath) else { return nil }
        var fl = flock()
        fl.l_type = Int16(F_WRLCK); fl.l_whence = Int16(SEEK_SET); fl.l_start = 0; fl.l_len = 1
        guard fcntl(fd, F_GETLK, &fl) == 0 else { return nil }
        return fl.l_type == Int16(F_UNLCK) ? nil : fl.l_pid
    }

    /// Holds the exclusive lock (no other process may begin writing) while `body` runs.
    ///
    /// - Throws: `StoreError(.busy)` naming a process that writes to the bank, or when a
    ///   gate of this process holds the lock (the caller must not have the bank open).
    package static func exclusively<T>(_ lockPath: String, _ body: () throws -> T) throws -> T {
        Shared.lock.lock()
        let fd: Int32
        do { fd = try descriptor(lockPath) } catch { Shared.lock.unlock(); throw error }
        if Shared.files[lockPath]!.holders > 0 {
            Shared.lock.unlock()
            throw StoreError(.busy, "is being written by this process")
        }
        let err = setLock(fd, F_WRLCK, wait: false)
        Shared.lock.unlock()
        guard err == 0 else {
            let who = holder(lockPath).map { " (pid \($0))" } ?? ""
            throw StoreError(.busy, "is being written by another process\(who)")
        }
        defer {
            Shared.lock.lock()
            _ = setLock(fd, F_UNLCK, wait: false)
            Shared.lock.unlock()
        }
        return try body()
    }
}
