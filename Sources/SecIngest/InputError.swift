/// A problem reading an input: the file is missing or unreadable, or its compressed
/// stream is cut or corrupt.
///
/// Reading errors that happen after some data was read do not throw: the reader
/// returns what it read and carries the error alongside (``FileBytes/error``,
/// ``InputReader/error``), so records before the cut are ingested and the file is
/// still reported.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a stable code callers can match (`catch InputError.Code.notFound`).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The path does not exist.
        public static let notFound = Code(rawValue: "not_found")
        /// The path exists but cannot be opened or read (permissions, I/O error).
        public static let unreadable = Code(rawValue: "unreadable")
        /// The path is neither a regular file nor a directory (socket, device...).
        public static let notAFile = Code(rawValue: "not_a_file")
        /// The gzip stream ends before its end marker.
        public static let gzipTruncated = Code(rawValue: "gzip_truncated")
        /// The gzip stream holds data that cannot be inflated.
        public static let gzipCorrupt = Code(rawValue: "gzip_corrupt")

        public var description: String { rawValue }

        /// Lets `catch InputError.Code.notFound` match an `InputError` with that code.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? InputError)?.code == code
        }
    }

    public var code: Code
    /// The input's path (`-` for standard input).
    public var path: String
    /// Short, exact description without any file contents, e.g.
    /// `gzip stream truncated after 5120 bytes (81920 bytes inflated)`.
    public var message: String
    /// Offset in the raw (compressed) input where the problem was found, when known.
    public var offset: Int64?
    /// The `errno` of a failed system call, when there was one.
    public var errno: Int32?

    public init(_ code: Code, path: String, message: String, offset: Int64? = nil, errno: Int32? = nil) {
        self.code = code
        self.path = path
        self.message = message
        self.offset = offset
        self.errno = errno
    }

    public var description: String { "\(path): \(message)" }
}
