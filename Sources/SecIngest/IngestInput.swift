import Foundation

/// A whole input, read into memory and decompressed.
public struct FileBytes: Sendable {
    /// The path read (`-` for standard input).
    public var path: String
    /// The decompressed content (the file itself when it is not gzip).
    public var bytes: [UInt8]
    /// Bytes read from the file: its compressed size for gzip.
    public var rawByteCount: Int64
    /// Whether the file was gzip.
    public var isCompressed: Bool
    /// Set when the input was cut (truncated or corrupt gzip, read error): `bytes` then
    /// holds everything that came before the cut. Report it; parse `bytes` anyway.
    public var error: InputError?
    /// Problems that lost no data, e.g. trailing bytes after the gzip stream.
    public var warnings: [String]
}

/// Finding and reading inputs: files, directory trees, standard input (`-`).
public enum IngestInput {
    /// The files to ingest under `paths`, in a deterministic order.
    ///
    /// Each path is taken in the order given: `-` stands for standard input and is
    /// returned as is; a file is returned as is (even a hidden one, since it was named);
    /// a directory is walked recursively and its regular files are returned sorted by
    /// their path's bytes. Inside directories, hidden entries (names starting with `.`)
    /// are skipped, and symbolic links to directories are not followed (no loops);
    /// links to files are. A path given twice is returned once.
    ///
    /// - Throws: ``InputError`` with code `notFound` for a missing path, `unreadable`
    ///   for a directory that cannot be listed, `notAFile` for a socket, device or FIFO
    ///   named explicitly.
    public static func files(under paths: [String]) throws -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        func add(_ p: String) { if seen.insert(p).inserted { out.append(p) } }
        for path in paths {
            if path == "-" { add(path); continue }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw InputError(.notFound, path: path, message: "no such file or directory")
            }
            if isDir.boolValue {
                var found: [String] = []
                try walk(path, into: &found)
                found.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                found.forEach(add)
            } else if kind(of: path, followLinks: true) == .file {
                add(path)
            } else {
                throw InputError(.notAFile, path: path, message: "not a regular file or directory")
            }
        }
        return out
    }

    private enum Kind { case file, directory, linkToDirectory, other }

    private static func kind(of path: String, followLinks: Bool) -> Kind {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
              let type = attrs[.type] as? FileAttributeType else { return .other }
        switch type {
        case .typeRegular: return .file
        case .typeDirectory: return .directory
        case .typeSymbolicLink:
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return .other }
            if isDir.boolValue { return followLinks ? .directory : .linkToDirectory }
            return .file
        default: return .other
        }
    }

    private static func walk(_ dir: String, into found: inout [String]) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir)
        } catch {
            throw InputError(.unreadable, path: dir, message: "cannot list directory")
        }
        let base = dir.hasSuffix("/") ? dir : dir + "/"
        for name in names where !name.hasPrefix(".") {
            let p = base + name
            switch kind(of: p, followLinks: false) {
            case .file: found.append(p)
            case .directory: try walk(p, into: &found)
            case .linkToDirectory, .other: continue
            }
        }
    }

    /// Reads a whole input into memory, inflating gzip (detected by content, several
    /// members allowed).
    ///
    /// A truncated or corrupt gzip stream, or a read error part-way, does not throw:
    /// the result holds the bytes before the cut and ``FileBytes/error`` says what
    /// happened. For large line-oriented inputs prefer ``InputReader``, which keeps
    /// memory bounded.
    ///
    /// - Parameters:
    ///   - path: a file, or `-` for standard input.
    ///   - standardInput: where `-` reads from; the process's standard input by default.
    ///   - onRawBytes: called with every raw (compressed) byte of the file, in order,
    ///     for the file digest.
    /// - Throws: ``InputError`` when the file cannot be opened.
    public static func read(path: String, standardInput: (any ByteSource)? = nil,
                            onRawBytes: ((UnsafeRawBufferPointer) -> Void)? = nil) throws -> FileBytes {
        if path == "-" {
            return read(source: standardInput ?? FileDescriptorSource.standardInput, name: "-", onRawBytes: onRawBytes)
        }
        let file = try OpenFile(path: path)
        return withExtendedLifetime(file) {
            read(source: file.source, name: path, onRawBytes: onRawBytes)
        }
    }

    /// Reads everything a source serves (see ``read(path:standardInput:onRawBytes:)``).
    public static func read(source: any ByteSource, name: String,
                            onRawBytes: ((UnsafeRawBufferPointer) -> Void)? = nil) -> FileBytes {
        let stream = DecodingStream(source: source, name: name, onRawBytes: onRawBytes)
        var out = [UInt8](repeating: 0, count: 1 << 20)
        var len = 0
        while true {
            if out.count - len < 64 << 10 { out.append(contentsOf: [UInt8](repeating: 0, count: out.count)) }
            let n = out.withUnsafeMutableBytes { stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[len...])) }
            if n == 0 { break }
            len += n
        }
        // Doubling leaves up to half the buffer unused: copy out when that is much.
        if out.count - len > max(len / 4, 1 << 20) { out = Array(out[..<len]) } else { out.removeSubrange(len...) }
        return FileBytes(path: name, bytes: out, rawByteCount: stream.rawByteCount, isCompressed: stream.isCompressed,
                         error: stream.error, warnings: stream.warnings)
    }
}
