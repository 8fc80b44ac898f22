import CIsal

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
    /// ISA-L's inflate state (large: its tables and window), on the heap at a fixed address.
    private var zs: UnsafeMutablePointer<inflate_state>?
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
        zs?.deallocate()
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
            let p = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
            isal_inflate_init(p)
            p.pointee.crc_flag = UInt32(ISAL_GZIP) // parse the gzip header, check CRC and size
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
                    isal_inflate_reset(zs)
                    zs.pointee.crc_flag = UInt32(ISAL_GZIP)
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
            let room = min(out.count, Int(UInt32.max))
            zs.pointee.next_in = inBuf.baseAddress!.advanced(by: inStart).assumingMemoryBound(to: UInt8.self)
            zs.pointee.avail_in = UInt32(availIn)
            zs.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            zs.pointee.avail_out = UInt32(room)
            // isal_inflate: ISAL_DECOMP_OK / ISAL_END_INPUT / ISAL_OUT_OVERFLOW on progress
            // or a need for input; negative on corrupt data (bad block, symbol, distance,
            // wrapper, method or checksum). block_state is ISAL_BLOCK_FINISH once a
            // member's trailer (CRC-32 and size) has been read and checked.
            let rc = isal_inflate(zs)
            let consumed = availIn - Int(zs.pointee.avail_in)
            let produced = room - Int(zs.pointee.avail_out)
            inStart += consumed
            if rc < 0 {
                let offset = rawByteCount - Int64(inEnd - inStart)
                fail(InputError(.gzipCorrupt, path: name,
                                message: "gzip data corrupt at byte \(offset): \(Self.describe(rc)) (\(outByteCount + Int64(produced)) bytes inflated)",
                                offset: offset))
                return produced
            }
            if zs.pointee.block_state == ISAL_BLOCK_FINISH { memberEnded = true }
            if produced > 0 { return produced }
            if memberEnded { continue }
            if consumed == 0 && inStart == inEnd && !refill() {
                if error == nil {
                    fail(InputError(.gzipTruncated, path: name,
                                    message: "gzip stream truncated after \(rawByteCount) bytes (\(outByteCount) bytes inflated)",
                                    offset: rawByteCount))
                }
                return 0
            }
        }
    }

    private static func describe(_ rc: Int32) -> String {
        switch rc {
        case ISAL_INVALID_BLOCK: return "invalid deflate block"
        case ISAL_INVALID_SYMBOL: return "invalid deflate symbol"
        case ISAL_INVALID_LOOKBACK: return "invalid distance too far back"
        case ISAL_INVALID_WRAPPER: return "invalid gzip header"
        case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method"
        case ISAL_INCORRECT_CHECKSUM: return "incorrect data check"
        default: return "inflate error \(rc)"
        }
    }
}
