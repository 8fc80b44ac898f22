import Foundation
import SecModel
@testable import SecStore

/// A fresh store in a temporary directory, removed when the value is released.
final class TempStore {
    let dir: String
    let store: Store

    init(org: Org = TempStore.defaultOrg, mapSize: Int = 1 << 30) throws {
        dir = NSTemporaryDirectory() + "secq-test-" + UUID().uuidString
        store = try Store(path: dir, create: true, mapSize: mapSize)
        try store.register(org)
    }

    deinit {
        // Every transaction a test began has ended (committed, aborted or read).
        precondition(store.openTransactions == 0, "a transaction was left open")
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let defaultOrg = Org(banks: [
        .init(id: "acme-bank", name: "Acme", accounts: [
            .init(id: "111122223333", name: "acme-prod", ou: "prod"),
            .init(id: "111122224444", name: "acme-dev", ou: "dev"),
        ]),
        .init(id: "zenith-bank", name: "Zenith", accounts: [
            .init(id: "999988887777", name: "zenith-prod", ou: "prod"),
        ]),
    ])
}

/// Deterministic synthetic events (a tiny linear congruential generator).
struct EventMaker {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }

    mutating func event(account: String, time: Int64) -> Event {
        let actions = ["GetObject", "ConsoleLogin", "DescribeInstances", "AssumeRole", "ListBuckets"]
        let users = (0..<20).map { "arn:aws:iam::\(account):user/u\($0)" }
        let id = String(format: "%08x-%04x-%04x-%04x-%012x", next() & 0xffffffff, next() & 0xffff, next() & 0xffff, next() & 0xffff, next() & 0xffffffffffff)
        let action = actions[Int(next() % UInt64(actions.count))]
        let ip = next() % 5 == 0 ? "2001:db8::\(next() % 100)" : "198.51.100.\(next() % 50)"
        let raw = "{\"eventID\":\"\(id)\",\"eventName\":\"\(action)\",\"t\":\(time),\"pad\":\"\(String(repeating: "x", count: Int(next() % 200)))\"}"
        var e = Event(time: time, account: account, source: .cloudtrail, eventClass: .apiActivity, raw: Array(raw.utf8))
        e.action = action
        e.principal = users[Int(next() % 20)]
        e.srcIP = IPAddress(ip)
        e.eventID = id
        e.region = ["us-east-1", "eu-west-1"][Int(next() % 2)]
        e.outcome = next() % 10 == 0 ? .failure : .success
        e.bytes = next() % 3 == 0 ? nil : Int64(next() % 100_000)
        e.mfa = next() % 2 == 0
        return e
    }
}
