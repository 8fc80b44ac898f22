import Foundation

/// Detector state kept as many small entries, one per key (a window's source address, a
/// principal's rate profile), so that a batch writes only the entries it changed instead
/// of the whole state: large windows cost in proportion to what changes, not to their size.
///
/// The entries are the state: loading them all gives a state equal to the one that wrote
/// them. An entry's bytes depend only on its key's value (deterministic).
public protocol KeyedState: Codable, Sendable, Equatable {
    /// The state made of these entries (any order).
    init(entries: [(key: String, value: [UInt8])]) throws
    /// The entries changed since the last call, in key order, with their new bytes (nil:
    /// removed); afterwards nothing counts as changed.
    mutating func takeChanges() throws -> [(key: String, value: [UInt8]?)]
}

extension WindowedDetector where State: KeyedState {
    public mutating func takeStateChanges() throws -> [(key: String, value: [UInt8]?)]? {
        try state.takeChanges()
    }

    public mutating func loadStateEntries(_ entries: [(key: String, value: [UInt8])]) throws -> Bool {
        state = try State(entries: entries)
        return true
    }
}

/// A state entry that does not decode.
public struct StateEntryError: Error, CustomStringConvertible {
    public var key: String
    public var description: String { "detector state entry '\(key)' does not decode" }
}

/// Little-endian fields for state entries.
struct EntryWriter {
    var bytes: [UInt8] = []

    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        u64(UInt64(u.count))
        bytes += u
    }
    /// A string or nil (a length of all ones).
    mutating func optional(_ s: String?) {
        if let s { string(s) } else { u64(.max) }
    }
}

struct EntryReader {
    let bytes: [UInt8]
    let key: String
    var at = 0

    init(_ bytes: [UInt8], key: String) { self.bytes = bytes; self.key = key }

    var atEnd: Bool { at == bytes.count }

    mutating func u64() throws -> UInt64 {
        guard at + 8 <= bytes.count else { throw StateEntryError(key: key) }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        at += 8
        return v
    }

    mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    mutating func optional() throws -> String? {
        let n = try u64()
        if n == .max { return nil }
        guard n <= UInt64(bytes.count - at) else { throw StateEntryError(key: key) }
        let s = String(decoding: bytes[at..<at + Int(n)], as: UTF8.self)
        at += Int(n)
        return s
    }

    mutating func string() throws -> String {
        guard let s = try optional() else { throw StateEntryError(key: key) }
        return s
    }
}
