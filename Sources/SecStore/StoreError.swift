/// An error of the store, with a code callers match and a message people read.
///
/// Messages name files, banks, blocks and keys but never event payloads: they end up
/// in tickets.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let corrupt = Code(rawValue: "corrupt")
        public static let notInitialised = Code(rawValue: "not-initialised")
        public static let unknownBank = Code(rawValue: "unknown-bank")
        public static let invalidOrg = Code(rawValue: "invalid-org")
        public static let io = Code(rawValue: "io")
        public static let lmdb = Code(rawValue: "lmdb")
        public static let invalidPolicy = Code(rawValue: "invalid-policy")
        public static let busy = Code(rawValue: "busy")
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code; self.message = message; self.underlying = underlying
    }

    public var description: String {
        if let u = underlying { return "\(message): \(u)" }
        return message
    }
}
