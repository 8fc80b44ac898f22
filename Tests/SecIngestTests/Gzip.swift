import CZlib

/// Compresses bytes as one gzip member (test helper; ingest only inflates).
func gzip(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
    let zs = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    zs.initialize(to: z_stream())
    defer { deflateEnd(zs); zs.deinitialize(count: 1); zs.deallocate() }
    // windowBits 15 + 16: write a gzip header and trailer.
    precondition(deflateInit2_(zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                               Int32(MemoryLayout<z_stream>.size)) == Z_OK)
    var out = [UInt8](repeating: 0, count: Int(deflateBound(zs, uLong(input.count))) + 64)
    var input = input
    let produced: Int = input.withUnsafeMutableBytes { inp in
        out.withUnsafeMutableBytes { o in
            zs.pointee.next_in = inp.baseAddress?.assumingMemoryBound(to: Bytef.self)
            zs.pointee.avail_in = uInt(inp.count)
            zs.pointee.next_out = o.baseAddress!.assumingMemoryBound(to: Bytef.self)
            zs.pointee.avail_out = uInt(o.count)
            precondition(deflate(zs, Z_FINISH) == Z_STREAM_END)
            return o.count - Int(zs.pointee.avail_out)
        }
    }
    return Array(out[..<produced])
}
