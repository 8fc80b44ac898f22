import CCrypto
import CZstd

/// zstd one-shot compression of a byte buffer.
package enum Zstd {
    /// Compression contexts kept for reuse: `ZSTD_compress` builds and frees one per
    /// call, and an ingest compresses a block's raw section and each of its columns,
    /// tens of thousands of calls a second.
    private static let pool = ContextPool()

    private final class ContextPool: @unchecked Sendable {
        // `@unchecked Sendable`: `free` is only touched with `lock` held.
        private let lock = PThreadCondition()
        private var free: [OpaquePointer] = []

        func take() -> OpaquePointer {
            lock.lock()
            let c = free.popLast()
            lock.unlock()
            return c ?? ZSTD_createCCtx()!
        }

        func give(_ c: OpaquePointer) {
            lock.lock()
            if free.count < 16 { free.append(c); lock.unlock(); return }
            lock.unlock()
            ZSTD_freeCCtx(c)
        }
    }

    package static func compress(_ input: UnsafeRawBufferPointer, level: Int32) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        let cctx = pool.take()
        defer { pool.give(cctx) }
        return [UInt8](unsafeUninitializedCapacity: bound) { o, count in
            let n = ZSTD_compressCCtx(cctx, o.baseAddress, bound, input.baseAddress, input.count, level)
            precondition(ZSTD_isError(n) == 0, "zstd compress: " + String(cString: ZSTD_getErrorName(n)))
            count = n
        }
    }

    package static func compress(_ input: [UInt8], level: Int32) -> [UInt8] {
        input.withUnsafeBytes { compress($0, level: level) }
    }

    /// Decompresses a frame whose content size was recorded at compression.
    package static func decompress(_ input: UnsafeRawBufferPointer) throws(StoreError) -> [UInt8] {
        let size = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN, size < 1 << 34 else {
            throw StoreError(.corrupt, "zstd frame has no valid content size")
        }
        if size == 0 { return [] }
        var out = [UInt8](repeating: 0, count: Int(size))
        let n = out.withUnsafeMutableBytes { o in
            ZSTD_decompress(o.baseAddress, Int(size), input.baseAddress, input.count)
        }
        guard ZSTD_isError(n) == 0, n == Int(size) else {
            throw StoreError(.corrupt, "zstd frame does not decompress")
        }
        return out
    }
}

/// SHA-256 digests (OpenSSL's libcrypto, through its EVP interface).
package enum SHA256Digest {
    package static func hash(_ parts: UnsafeRawBufferPointer...) -> [UInt8] {
        let d = FileDigest()
        for p in parts { d.update(p) }
        return d.finish()
    }

    package static func hash(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { hash($0) } }

    package static func hex(_ d: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var s = [UInt8](); s.reserveCapacity(d.count * 2)
        for b in d { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return String(decoding: s, as: UTF8.self)
    }
}

/// Appends little-endian integers and varints to a byte array.
package struct ByteWriter {
    package var bytes: [UInt8] = []
    package init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    @inline(__always) package mutating func u8(_ v: UInt8) { bytes.append(v) }
    @inline(__always) package mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    @inline(__always) package mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    @inline(__always) package mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    @inline(__always) package mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    @inline(__always) package mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 { bytes.append(UInt8(x & 0x7f) | 0x80); x >>= 7 }
        bytes.append(UInt8(x))
    }
    @inline(__always) package mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
    package mutating func append(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
}

/// Reads what `ByteWriter` wrote, bounds-checked: a short buffer throws, never traps.
package struct ByteReader {
    package let buf: UnsafeRawBufferPointer
    package var pos: Int

    package init(_ buf: UnsafeRawBufferPointer, at pos: Int = 0) { self.buf = buf; self.pos = pos }

    @inline(__always) private mutating func need(_ n: Int) throws(StoreError) {
        if pos + n > buf.count { throw StoreError(.corrupt, "truncated value (need \(n) bytes at \(pos) of \(buf.count))") }
    }
    @inline(__always) package mutating func u8() throws(StoreError) -> UInt8 { try need(1); defer { pos += 1 }; return buf[pos] }
    @inline(__always) package mutating func u16() throws(StoreError) -> UInt16 { try need(2); defer { pos += 2 }; return UInt16(littleEndian: buf.loadUnaligned(fromByteOffset: pos, as: UInt16.self)) }
    @inline(__always) package mutating func u32() throws(StoreError) -> UInt32 { try need(4); defer { pos += 4 }; return UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: pos, as: UInt32.self)) }
    @inline(__always) package mutating func u64() throws(StoreError) -> UInt64 { try need(8); defer { pos += 8 }; return UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: pos, as: UInt64.self)) }
    @inline(__always) package mutating func i64() throws(StoreError) -> Int64 { Int64(bitPattern: try u64()) }
    @inline(__always) package mutating func varint() throws(StoreError) -> UInt64 {
        var shift: UInt64 = 0, out: UInt64 = 0
        while true {
            try need(1)
            let b = buf[pos]; pos += 1
            out |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return out }
            shift += 7
            if shift > 63 { throw StoreError(.corrupt, "varint too long") }
        }
    }
    @inline(__always) package mutating func zigzag() throws(StoreError) -> Int64 {
        let u = try varint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }
    package mutating func bytes(_ n: Int) throws(StoreError) -> UnsafeRawBufferPointer {
        try need(n); defer { pos += n }
        return UnsafeRawBufferPointer(rebasing: buf[pos..<pos + n])
    }
}

/// Big-endian fixed-width keys, so byte order is numeric order in LMDB.
package enum BE {
    @inline(__always) package static func put(_ v: UInt64, into out: inout [UInt8]) {
        withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
    }
    @inline(__always) package static func put(_ v: UInt32, into out: inout [UInt8]) {
        withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
    }
    @inline(__always) package static func u64(_ b: UnsafeRawBufferPointer, at o: Int = 0) -> UInt64 {
        UInt64(bigEndian: b.loadUnaligned(fromByteOffset: o, as: UInt64.self))
    }
    @inline(__always) package static func u32(_ b: UnsafeRawBufferPointer, at o: Int = 0) -> UInt32 {
        UInt32(bigEndian: b.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }
    package static func bytes(_ v: UInt64) -> [UInt8] { var o = [UInt8](); put(v, into: &o); return o }
}

/// An incremental SHA-256, for file digests and block hashes.
///
/// `@unchecked Sendable` is not claimed: one digest belongs to one thread.
public final class FileDigest {
    private let ctx: OpaquePointer

    public init() {
        ctx = EVP_MD_CTX_new()
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func update(_ b: UnsafeRawBufferPointer) {
        if b.count > 0 { EVP_DigestUpdate(ctx, b.baseAddress, b.count) }
    }

    public func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var n: UInt32 = 0
        out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(ctx, $0.baseAddress, &n) }
        return out
    }

    public static func hex(_ d: [UInt8]) -> String { SHA256Digest.hex(d) }
}
