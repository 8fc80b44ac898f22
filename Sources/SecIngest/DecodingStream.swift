import CZlib

/// Turns a ``ByteSource`` into the bytes of the input: gzip data (recognised by its
/// magic `1f 8b`, several members in a row allowed) is inflated, anything else passes
/// through unchanged.
///
/// A cut or corrupt gzip stream does not throw: ``read(into:)`` returns everything
/// inflated before the cut, then reports the end of input and sets ``error``. So do
/// read errors from the source. Every raw byte read is passed to `onRawBytes` (for the
/// file digest) and counted in ``rawByteCount``, including trailing data after the last
/// gzip member, which is read to the end so a digest covers the whole file.
///
/// Not thread-safe: one stream per reader.
final class DecodingStream {
    private var source: any ByteSource
    private let name: String
    private let onRawBytes: ((UnsafeRawBufferPointer) -> Void)?

    private let inBuf: UnsafeMutableRawBufferPointer
    private var inStart = 0
    private var inEnd = 0
    private var sourceEOF = false

    private enum Mode { case undecided, plain, gzip, done }
    private var mode = Mode.undecided
    private var zs: UnsafeMutablePointer<z_stream>?
    private var memberEnded = false

    /// Bytes read from the source (the compressed size for gzip).
    private(set) var rawByteCount: Int64 = 0
    /// Bytes returned by `read(into:)`.
    private(set) var outByteCount: Int64 = 0
    /// Why the input ended early, when it did.
    private(set) var error: InputError?
    /// Problems that lost no data (trailing bytes after the gzip stream).
    private(set) var warnings: [String] = []

    /// Whether the input is gzip (known after the first read).
    var isCompressed: Bool { zs != nil }

    init(source: any ByteSource, name: String, bufferSize: Int = 256 << 10,
         onRawBytes: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.source = source
        self.name = name
        self.onRawBytes = onRawBytes
        inBuf = .allocate(byteCount: max(bufferSize, 64), alignment: 16)
    }

    deinit {
        if let zs {
            inflateEnd(zs)
            zs.deinitialize(count: 1)
            zs.deallocate()
        }
        inBuf.deallocate()
    }

    /// Reads more raw input after the buffered bytes, moving them to the front first.
    /// - Returns: false at the end of the source (or after a read error).
    @discardableResult
    private func refill() -> Bool {
        if sourceEOF { return false }
        if inStart > 0 {
            let live = inEnd - inStart
            if live > 0 { inBuf.baseAddress!.copyMemory(from: inBuf.baseAddress! + inStart, byteCount: live) }
            inStart = 0
            inEnd = live
        }
        guard inEnd < inBuf.count else { return true }
        let space = UnsafeMutableRawBufferPointer(rebasing: inBuf[inEnd...])
        do {
            let n = try source.read(into: space)
            if n == 0 { sourceEOF = true; return false }
            onRawBytes?(UnsafeRawBufferPointer(rebasing: inBuf[inEnd ..< inEnd + n]))
            inEnd += n
            rawByteCount += Int64(n)
            return true
        } catch {
            sourceEOF = true
            fail(error as? InputError ?? InputError(.unreadable, path: name, message: "read failed"))
            return false
        }
    }

    private func fail(_ e: InputError) {
        if error == nil { error = e }
        mode = .done
    }

    /// Fills `out` with the next bytes of the input.
    /// - Returns: the number of bytes written; 0 only at the end of the input.
    func read(into out: UnsafeMutableRawBufferPointer) -> Int {
        guard out.count > 0 else { return 0 }
        if mode == .undecided { decide() }
        let n: Int
        switch mode {
        case .undecided, .done: n = 0
        case .plain: n = readPlain(into: out)
        case .gzip: n = readGzip(into: out)
        }
        outByteCount += Int64(n)
        return n
    }

    private func decide() {
        while inEnd - inStart < 2 && refill() {}
        if error != nil { return }
        if inEnd - inStart >= 2 && inBuf[inStart] == 0x1f && inBuf[inStart + 1] == 0x8b {
            let p = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            p.initialize(to: z_stream())
            // inflateInit2_: windowBits 15 + 16 accepts a gzip wrapper only. zlib keeps a
            // pointer back to the z_stream, so it lives at a fixed heap address.
            let rc = inflateInit2_(p, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard rc == Z_OK else {
                p.deinitialize(count: 1)
                p.deallocate()
                fail(InputError(.gzipCorrupt, path: name, message: "zlib could not start (code \(rc))"))
                return
            }
            zs = p
            mode = .gzip
        } else {
            mode = .plain
        }
    }

    private func readPlain(into out: UnsafeMutableRawBufferPointer) -> Int {
        if inStart == inEnd {
            // Large reads go straight into the caller's buffer.
            if out.count >= inBuf.count {
                if sourceEOF { mode = .done; return 0 }
                do {
                    let n = try source.read(into: out)
                    if n == 0 { sourceEOF = true; mode = .done; return 0 }
                    onRawBytes?(UnsafeRawBufferPointer(rebasing: out[..<n]))
                    rawByteCount += Int64(n)
                    return n
                } catch {
                    fail(error as? InputError ?? InputError(.unreadable, path: name, message: "read failed"))
                    return 0
                }
            }
            if !refill() { mode = .done; return 0 }
        }
        let n = min(out.count, inEnd - inStart)
        out.baseAddress!.copyMemory(from: inBuf.baseAddress! + inStart, byteCount: n)
        inStart += n
        return n
    }

    private func readGzip(into out: UnsafeMutableRawBufferPointer) -> Int {
        guard let zs else { return 0 }
        while true {
            if memberEnded {
                // Another member follows only if the next bytes are the gzip magic.
                while inEnd - inStart < 2 && refill() {}
                let live = inEnd - inStart
                if live == 0 { mode = .done; return 0 }
                if live >= 2 && inBuf[inStart] == 0x1f && inBuf[inStart + 1] == 0x8b {
                    inflateReset(zs)
                    memberEnded = false
                    continue
                }
                var trailing = Int64(live)
                inStart = inEnd
                while refill() { trailing += Int64(inEnd - inStart); inStart = inEnd }
                warnings.append("ignored \(trailing) bytes of trailing data after the gzip stream")
                mode = .done
                return 0
            }
            if inStart == inEnd { refill() }
            if error != nil { return 0 }
            let availIn = inEnd - inStart
            zs.pointee.next_in = inBuf.baseAddress!.advanced(by: inStart).assumingMemoryBound(to: Bytef.self)
            zs.pointee.avail_in = uInt(availIn)
            zs.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            zs.pointee.avail_out = uInt(min(out.count, Int(UInt32.max)))
            // inflate: Z_OK on progress, Z_STREAM_END at the end of a member, Z_BUF_ERROR
            // when no progress was possible (needs input), Z_DATA_ERROR on corrupt data
            // (msg set), Z_NEED_DICT (never valid for gzip), Z_MEM_ERROR.
            let rc = inflate(zs, Z_NO_FLUSH)
            let consumed = availIn - Int(zs.pointee.avail_in)
            let produced = min(out.count, Int(UInt32.max)) - Int(zs.pointee.avail_out)
            inStart += consumed
            switch rc {
            case Z_STREAM_END:
                memberEnded = true
                if produced > 0 { return produced }
            case Z_OK, Z_BUF_ERROR:
                if produced > 0 { return produced }
                if consumed == 0 && inStart == inEnd && !refill() {
                    if error == nil {
                        fail(InputError(.gzipTruncated, path: name,
                                        message: "gzip stream truncated after \(rawByteCount) bytes (\(outByteCount) bytes inflated)",
                                        offset: rawByteCount))
                    }
                    return 0
                }
            default:
                let offset = rawByteCount - Int64(inEnd - inStart)
                let why = zs.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                fail(InputError(.gzipCorrupt, path: name,
                                message: "gzip data corrupt at byte \(offset): \(why) (\(outByteCount + Int64(produced)) bytes inflated)",
                                offset: offset))
                return produced
            }
        }
    }
}
