import CDeflate

/// Inflates a whole gzip file in memory with libdeflate.
///
/// Only for intact inputs: anything libdeflate refuses (a cut or corrupt stream, data
/// after the members) returns nil, and the caller reads the file with the streaming
/// `InputReader`, which keeps what comes before a cut and says where it was.
public enum WholeGzip {
    /// The decompressed content of every member, or nil.
    public static func inflate(_ compressed: [UInt8], limit: Int = 1 << 30) -> [UInt8]? {
        guard compressed.count >= 18, compressed[0] == 0x1f, compressed[1] == 0x8b,
              let d = libdeflate_alloc_decompressor() else { return nil }
        defer { libdeflate_free_decompressor(d) }
        // ISIZE of the last member: the exact size of a single-member file.
        let n = compressed.count
        let isize = Int(compressed[n - 4]) | Int(compressed[n - 3]) << 8 | Int(compressed[n - 2]) << 16 | Int(compressed[n - 1]) << 24
        // Uninitialised: libdeflate writes every byte that is kept.
        var out = [UInt8](unsafeUninitializedCapacity: max(isize, 1024)) { _, n in n = max(isize, 1024) }
        var outLen = 0
        var inPos = 0
        return compressed.withUnsafeBytes { src -> [UInt8]? in
            while inPos < n {
                var used = 0, produced = 0
                let rc = out.withUnsafeMutableBytes { dst in
                    libdeflate_gzip_decompress_ex(d, src.baseAddress! + inPos, n - inPos,
                                                  dst.baseAddress! + outLen, dst.count - outLen, &used, &produced)
                }
                switch rc {
                case LIBDEFLATE_SUCCESS:
                    inPos += used
                    outLen += produced
                    // Another member follows only if its magic does.
                    if inPos < n && !(n - inPos >= 18 && src[inPos] == 0x1f && src[inPos + 1] == 0x8b) { return nil }
                    if inPos < n && out.count - outLen < 1024 { out += [UInt8](repeating: 0, count: out.count) }
                case LIBDEFLATE_INSUFFICIENT_SPACE:
                    guard out.count < limit else { return nil }
                    out += [UInt8](repeating: 0, count: out.count)
                default:
                    return nil
                }
            }
            out.removeSubrange(outLen...)
            return out
        }
    }
}
