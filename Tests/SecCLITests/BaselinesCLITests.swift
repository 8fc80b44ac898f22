import Foundation
import SecModel
import SecStore
import Testing

@Suite struct BaselinesCLITests {
    /// Every key and value of the baselines (items, entities, feed) of each bank.
    static func state(_ path: String, banks: [String]) throws -> [String: [String: [[UInt8]]]] {
        let store = try Store(path: path)
        var out: [String: [String: [[UInt8]]]] = [:]
        for b in banks {
            out[b] = try store.bank(b).projectionEntries(Baselines()).mapValues { $0.flatMap { [$0.key, $0.value] } }
        }
        return out
    }

    @Test func principalBaselinesCountWhatTheRawRecordsSay() throws {
        let data = GeneratedData.shared
        let store = temporaryDirectory("baselines-oracle")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let r = try secq(["ingest", "--store", store, "--batch", "700", data.dir + "/AWSLogs"])
        #expect(r.status == 0, "\(r.err)")

        // Independently, from the records read with Foundation.
        var expected: [String: UInt64] = [:]
        var calls: [String: (count: UInt64, errors: UInt64)] = [:]
        for rec in data.records {
            guard let p = rec.principal else { continue }
            let base = "\(rec.bank)|\(rec.account)|\(p)|"
            var items = ["region|" + rec.region,
                         "api|\(rec.json["eventSource"] as! String):\(rec.action)"]
            if let ip = rec.srcIP {
                items.append("ip|" + ip)
                if ip.contains(":") {
                    var a = in6_addr()
                    inet_pton(AF_INET6, ip, &a)
                    withUnsafeMutableBytes(of: &a) { b in for i in 6..<16 { b[i] = 0 } }
                    var buf = [CChar](repeating: 0, count: 64)
                    items.append("network|" + String(cString: inet_ntop(AF_INET6, &a, &buf, 64)) + "/48")
                } else {
                    items.append("network|" + ip.split(separator: ".").prefix(3).joined(separator: ".") + ".0/24")
                }
            }
            if let ua = rec.json["userAgent"] as? String { items.append("user_agent|" + ua) }
            for i in items { expected[base + i, default: 0] += 1 }
            expected["\(rec.bank)|\(rec.account)|\(rec.account)|principal|\(p)", default: 0] += 1
            let c = calls[base] ?? (0, 0)
            calls[base] = (c.count + 1, c.errors + (rec.outcome == "failure" ? 1 : 0))
        }
        let s = try Store(path: store)
        var found: [String: UInt64] = [:]
        var foundCalls: [String: (count: UInt64, errors: UInt64)] = [:]
        for b in data.org.banks {
            let bank = try s.bank(b.id)
            for i in try Baselines.items(in: bank) where [.principal, .account].contains(i.entityKind)
                && [.region, .api, .ip, .network, .userAgent, .principal].contains(i.kind) {
                found["\(b.id)|\(i.account)|\(i.entity)|\(i.kind.name)|\(i.key)"] = i.count
            }
            for (ref, p) in try Baselines.profiles(in: bank) where ref.kind == .principal {
                foundCalls["\(b.id)|\(ref.account)|\(ref.id)|"] = (p.count, p.errors)
            }
        }
        #expect(Set(found.keys) == Set(expected.keys))
        let wrong = expected.filter { found[$0.key] != $0.value }
        #expect(wrong.isEmpty, "\(wrong.count) items differ, e.g. \(wrong.first.map { "\($0) vs \(String(describing: found[$0.key]))" } ?? "")")
        #expect(expected.keys.contains { $0.contains("|user_agent|") } && expected.keys.contains { $0.contains(":") && $0.contains("/48") })
        #expect(foundCalls.count == calls.count)
        #expect(calls.allSatisfy { k, v in foundCalls[k].map { $0 == v } ?? false }, "calls and errors per principal")
        #expect(calls.values.contains { $0.errors > 0 })
    }

    @Test func severalIngestsOfEverySourceThenRebuildGiveTheSameBytesAndFeed() throws {
        let data = GeneratedData.allSources
        let store = temporaryDirectory("baselines-rebuild")
        defer { try? FileManager.default.removeItem(atPath: store) }
        #expect(try secq(["init", "--store", store, "--org", data.dir + "/org.json"]).status == 0)
        let accounts = try FileManager.default.contentsOfDirectory(atPath: data.dir + "/AWSLogs").sorted()
        for g in 0..<3 {
            let group = accounts.enumerated().filter { $0.offset % 3 == g }.map { data.dir + "/AWSLogs/" + $0.element }
            let r = try secq(["ingest", "--store", store, "--batch", "900"] + group)
            #expect(r.status == 0, "\(r.err)")
        }
        let rds = try secq(["ingest", "--store", store, "--batch", "900", data.dir + "/rds"])
        #expect(rds.status == 0, "\(rds.err)")
        let banks = data.org.banks.map(\.id)
        let incremental = try BaselinesCLITests.state(store, banks: banks)
        let r = try secq(["projection", "rebuild", Baselines.name, "--store", store, "--batch", "2000"])
        #expect(r.status == 0, "\(r.err)")
        let rebuilt = try BaselinesCLITests.state(store, banks: banks)
        for b in banks {
            #expect(rebuilt[b]!["feed"]!.count > 0)
            #expect(rebuilt[b] == incremental[b], "bank \(b): rebuilt baselines and feed equal the incremental ones")
        }
        // Every entity kind and feed kind the sources give.
        let s = try Store(path: store)
        var entityKinds: Set<String> = [], feedKinds: Set<String> = []
        for b in banks {
            let bank = try s.bank(b)
            for ref in try Baselines.profiles(in: bank).keys { entityKinds.insert(ref.kind.name) }
            for f in try bank.read({ try $0.feed(from: 1, limit: .max) }) { feedKinds.insert(f.kind) }
        }
        #expect(entityKinds == ["principal", "account", "interface", "instance", "db"])
        #expect(feedKinds.isSuperset(of: ["new_api", "new_network", "new_principal", "new_remote_port", "new_domain",
                                         "new_db_user", "new_db_client"]), "\(feedKinds.sorted())")
    }
}
