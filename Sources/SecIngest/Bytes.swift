#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small byte-search helpers over raw buffers (memchr underneath).
public enum Bytes {
    /// Index of the first `byte` in `buf[from..<to]`, or nil.
    @inline(__always)
    public static func firstIndex(of byte: UInt8, in buf: UnsafeRawBufferPointer, from: Int = 0, to: Int? = nil) -> Int? {
        let end = to ?? buf.count
        guard from < end, let base = buf.baseAddress else { return nil }
        guard let q = memchr(base + from, Int32(byte), end - from) else { return nil }
        return UnsafeRawPointer(q) - base
    }

    /// Index of the last `byte` in `buf[..<to]`, or nil.
    public static func lastIndex(of byte: UInt8, in buf: UnsafeRawBufferPointer, to: Int? = nil) -> Int? {
        var i = (to ?? buf.count) - 1
        while i >= 0 {
            if buf[i] == byte { return i }
            i -= 1
        }
        return nil
    }

    /// Number of `byte` in `buf[from..<to]`.
    public static func count(of byte: UInt8, in buf: UnsafeRawBufferPointer, from: Int = 0, to: Int? = nil) -> Int {
        var n = 0
        var i = from
        let end = to ?? buf.count
        while let k = firstIndex(of: byte, in: buf, from: i, to: end) {
            n += 1
            i = k + 1
        }
        return n
    }

    /// Whether a piece looks like binary data rather than (broken) text: a NUL byte, or
    /// at least 10% control bytes, in its first 4 KiB.
    static func isBinary(_ piece: UnsafeRawBufferPointer) -> Bool {
        let head = piece.prefix(4096)
        var control = 0
        for c in head {
            if c == 0 { return true }
            if (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) || c == 0x7F { control += 1 }
        }
        return control * 10 >= head.count && control > 0
    }
}
