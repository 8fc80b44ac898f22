import Foundation
import SecModel
import Testing
@testable import SecStore

#if canImport(Glibc)
import Glibc
#endif

/// Throughput of prepare + commit for flow-log-like events (small, many numeric
/// columns, positional idempotency). Runs only with SECQ_STORE_BENCH=1, and means
/// something only in a release build:
///
///     SECQ_STORE_BENCH=1 swift test -c release --filter AppendBenchmark
///
/// Prints events per second of CPU time for each half; asserts nothing about time.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SECQ_STORE_BENCH"] == "1"), .serialized)
struct AppendBenchmark {
    static func cpu() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func flows(_ n: Int, batch: Int) -> [[Event]] {
        var out: [[Event]] = []
        var part: [Event] = []
        let account = "111122223333", region = "us-east-1", eni = (0..<50).map { "eni-0a1b2c3d4e5f\($0)" }
        let accept = "ACCEPT", reject = "REJECT"
        var x: UInt64 = 88172645463325252
        func r() -> UInt64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
        for i in 0..<n {
            let line = "2 111122223333 \(eni[i % 50]) 10.0.\(i % 256).\(i % 7) 172.31.\(r() % 256).\(r() % 256) \(r() % 65536) 443 6 \(r() % 100) \(r() % 100000) \(1_700_000_000 + i / 100) \(1_700_000_060 + i / 100) ACCEPT OK"
            var e = Event(time: Int64(1_700_000_000 + i / 100) * 1000, account: account, source: .vpcflow,
                          eventClass: .networkActivity, raw: Array(line.utf8))
            e.region = region
            e.action = r() % 10 == 0 ? reject : accept
            e.outcome = e.action == accept ? .success : .failure
            e.srcIP = IPAddress(v4: 0x0a00_0000 | UInt32(i % 65536))
            e.dstIP = IPAddress(v4: 0xac1f_0000 | UInt32(r() % 65536))
            e.srcPort = Int64(r() % 65536)
            e.dstPort = 443
            e.proto = 6
            e.packets = Int64(r() % 100)
            e.bytes = Int64(r() % 100_000)
            e.resource = eni[i % 50]
            e.resourceType = "AWS::EC2::NetworkInterface"
            part.append(e)
            if part.count == batch { out.append(part); part = [] }
        }
        if !part.isEmpty { out.append(part) }
        return out
    }

    @Test(arguments: [4096, 16384])
    func flowLogAppend(batch: Int) throws {
        let t = try TempStore(mapSize: 4 << 30)
        let bank = try t.store.bank("acme-bank")
        try bank.setDeferredSync(true)
        let n = 1_000_000
        let batches = Self.flows(n, batch: batch)
        var prepCPU = 0.0, commitCPU = 0.0
        var offset: Int64 = 0
        let file = [UInt8](repeating: 1, count: 32)
        for b in batches {
            let offsets = (0..<b.count).map { offset + Int64($0) * 100 }
            let origin = BankStore.PartOrigin(file: file, range: offset ..< offset + Int64(b.count) * 100, offsets: offsets)
            offset += Int64(b.count) * 100
            let c0 = Self.cpu()
            let p = try bank.prepare(parts: [b], origins: [origin])
            let c1 = Self.cpu()
            _ = try bank.commit(p)
            bank.releaseMappedPages()
            commitCPU += Self.cpu() - c1
            prepCPU += c1 - c0
        }
        print(String(format: "append batch %d: prepare %.0f ev/s CPU, commit %.0f ev/s CPU, together %.0f ev/s CPU",
                     batch, Double(n) / prepCPU, Double(n) / commitCPU, Double(n) / (prepCPU + commitCPU)))
        #expect(try bank.read { try $0.state() }.events == UInt64(n))
    }
}
