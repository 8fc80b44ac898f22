#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Somewhere raw input bytes come from: a file, standard input, or memory (tests).
public protocol ByteSource {
    /// Reads up to `buffer.count` bytes into `buffer`.
    ///
    /// - Returns: the number of bytes read; 0 only at the end of the input.
    /// - Throws: ``InputError`` when the read fails.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Reads an open file descriptor (standard input is descriptor 0). Does not close it.
public struct FileDescriptorSource: ByteSource {
    public let fd: Int32
    /// The name used in errors (`-` for standard input).
    public let name: String

    public init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    /// Standard input, named `-`.
    public static var standardInput: FileDescriptorSource { FileDescriptorSource(fd: 0, name: "-") }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            // read(2): returns bytes read, 0 at end of file, -1 with errno set on error;
            // EINTR means a signal arrived before any data and the call can be retried.
            #if canImport(Glibc)
            let n = Glibc.read(fd, base, buffer.count)
            #else
            let n = Darwin.read(fd, base, buffer.count)
            #endif
            if n >= 0 { return n }
            let e = errno
            if e == EINTR { continue }
            throw InputError(.unreadable, path: name, message: "read failed: \(String(cString: strerror(e)))", errno: e)
        }
    }
}

/// Serves bytes held in memory, at most `maxRead` at a time (to exercise short reads).
public struct BytesSource: ByteSource {
    public let bytes: [UInt8]
    public private(set) var position = 0
    public let maxRead: Int

    public init(_ bytes: [UInt8], maxRead: Int = .max) {
        self.bytes = bytes
        self.maxRead = max(1, maxRead)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position, maxRead)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}

/// An open file that closes itself.
final class OpenFile {
    let fd: Int32
    let path: String

    init(path: String) throws {
        // open(2): -1 with errno on failure. O_CLOEXEC keeps the descriptor out of children.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            let code: InputError.Code = e == ENOENT ? .notFound : .unreadable
            throw InputError(code, path: path, message: String(cString: strerror(e)).lowercased(), errno: e)
        }
        // fstat(2): a directory opens fine for reading but every read fails (EISDIR).
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw InputError(.notAFile, path: path, message: "is a directory")
        }
        self.fd = fd
        self.path = path
    }

    var source: FileDescriptorSource { FileDescriptorSource(fd: fd, name: path) }

    deinit { close(fd) }
}
