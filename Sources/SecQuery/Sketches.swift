import Foundation
import SecModel

/// A mergeable quantile sketch: levels of buffers, level h holding values that each
/// stand for 2^h inputs. A level that reaches ``capacity`` values is sorted and every
/// other value (alternating between the even and the odd ones) moves up a level.
///
/// Error: one such compaction at level h moves the rank of any value by at most 2^h,
/// and level h is compacted at most n / (capacity · 2^h) times, so with
/// L = 1 + log2(n / capacity) levels the rank of an answer is off by at most
/// L · n / capacity: 0.65% of n at 10 million values, under 1% up to a billion.
/// Merging adds the levels together and compacts, which keeps the same bound.
public struct QuantileSketch: Sendable, Equatable {
    public static let capacity = 2048
    var levels: [[Double]] = [[]]
    /// Which half the next compaction keeps.
    var odd = false
    /// The smallest and largest values, kept exactly (p0 and p100 are exact).
    var lo = Double.infinity
    var hi = -Double.infinity

    public init() {}

    /// The number of values added (the sum of the weights).
    public var count: Int64 {
        var n: Int64 = 0
        for (h, l) in levels.enumerated() { n += Int64(l.count) << Int64(h) }
        return n
    }

    /// The largest rank error an answer over `n` values may have.
    public static func rankErrorBound(_ n: Int64) -> Double {
        guard n > Int64(capacity) else { return 0 }
        let levels = 1 + log2(Double(n) / Double(capacity)).rounded(.up)
        return levels * Double(n) / Double(capacity)
    }

    public mutating func add(_ x: Double) {
        levels[0].append(x)
        if x < lo { lo = x }
        if x > hi { hi = x }
        if levels[0].count >= Self.capacity { compact() }
    }

    public mutating func merge(_ o: QuantileSketch) {
        lo = Swift.min(lo, o.lo)
        hi = Swift.max(hi, o.hi)
        for (h, l) in o.levels.enumerated() {
            if h >= levels.count { levels.append([]) }
            levels[h].append(contentsOf: l)
        }
        compact()
    }

    mutating func compact() {
        var h = 0
        while h < levels.count {
            if levels[h].count >= Self.capacity {
                var l = levels[h]
                l.sort()
                var leftover: [Double] = []
                if l.count % 2 == 1 { leftover.append(l.removeLast()) }
                var up: [Double] = []
                up.reserveCapacity(l.count / 2)
                var i = odd ? 1 : 0
                while i < l.count { up.append(l[i]); i += 2 }
                odd.toggle()
                levels[h] = leftover
                if h + 1 == levels.count { levels.append([]) }
                levels[h + 1].append(contentsOf: up)
            }
            h += 1
        }
    }

    /// The value of nearest rank ceil(p · n), p in 0...1; nil when empty.
    public func quantile(_ p: Double) -> Double? {
        var weighted: [(Double, Int64)] = []
        for (h, l) in levels.enumerated() { for x in l { weighted.append((x, Int64(1) << Int64(h))) } }
        guard !weighted.isEmpty else { return nil }
        weighted.sort { $0.0 < $1.0 }
        let n = count
        let target = max(1, Int64((p * Double(n)).rounded(.up)))
        if target <= 1 { return lo }
        if target >= n { return hi }
        var seen: Int64 = 0
        for (x, w) in weighted {
            seen += w
            if seen >= target { return x }
        }
        return weighted.last!.0
    }
}

/// HyperLogLog with 2^14 one-byte registers (16 KiB): a distinct count with a standard
/// error of 1.04 / sqrt(16384) ≈ 0.8%. Merging takes the larger register of each pair.
public struct HyperLogLog: Sendable, Equatable {
    public static let precision = 14
    static let m = 1 << precision
    var registers = [UInt8](repeating: 0, count: m)

    public init() {}

    public mutating func add(hash h: UInt64) {
        let index = Int(h >> UInt64(64 - Self.precision))
        let rest = h << UInt64(Self.precision)
        let rank = UInt8(min(rest.leadingZeroBitCount, 64 - Self.precision) + 1)
        if rank > registers[index] { registers[index] = rank }
    }

    public mutating func add(_ v: Value) { add(hash: HyperLogLog.hash(v)) }

    public mutating func merge(_ o: HyperLogLog) {
        for i in registers.indices where o.registers[i] > registers[i] { registers[i] = o.registers[i] }
    }

    public var estimate: Int64 {
        let m = Double(Self.m)
        var sum = 0.0
        var zeros = 0
        for r in registers {
            sum += 1 / Double(UInt64(1) << UInt64(r))
            if r == 0 { zeros += 1 }
        }
        let raw = 0.7213 / (1 + 1.079 / m) * m * m / sum
        if raw <= 2.5 * m, zeros > 0 { return Int64((m * log(m / Double(zeros))).rounded()) }
        return Int64(raw.rounded())
    }

    /// A 64-bit hash of a value that is the same in every process (FNV-1a over its
    /// type and text, then a SplitMix finaliser to spread the bits).
    public static func hash(_ v: Value) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        let tag: UInt8 = switch v {
        case .null: 0
        case .bool: 1
        case .int: 2
        case .double: 3
        case .string: 4
        case .time: 5
        case .ip: 6
        case .cidr: 7
        case .list: 8
        }
        h = (h ^ UInt64(tag)) &* 0x100000001b3
        for b in v.text.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        h = (h ^ (h >> 30)) &* 0xBF58476D1CE4E5B9
        h = (h ^ (h >> 27)) &* 0x94D049BB133111EB
        return h ^ (h >> 31)
    }
}

