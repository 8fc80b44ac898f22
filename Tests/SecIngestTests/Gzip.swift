import CDeflate

/// Compresses bytes as one gzip member (test helper; ingest only inflates). libdeflate's
/// compressor, an implementation apart from the ISA-L inflater the reader uses.
func gzip(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
    let c = libdeflate_alloc_compressor(level)!
    defer { libdeflate_free_compressor(c) }
    var out = [UInt8](repeating: 0, count: libdeflate_gzip_compress_bound(c, input.count) + 64)
    let produced = input.withUnsafeBytes { i in
        out.withUnsafeMutableBytes { o in libdeflate_gzip_compress(c, i.baseAddress, i.count, o.baseAddress, o.count) }
    }
    precondition(produced > 0, "libdeflate could not compress")
    return Array(out[..<produced])
}
