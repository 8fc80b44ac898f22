import Foundation
import SecModel
import Testing
@testable import SecStore

@Suite struct StoreTests {
    /// Reads every stored event back through the columns and raw sections.
    func readAll(_ bank: BankStore) throws -> [UInt64: (time: Int64, principal: String?, ip: IPAddress?, bytes: Int64?, raw: [UInt8], id: String?)] {
        var out: [UInt64: (Int64, String?, IPAddress?, Int64?, [UInt8], String?)] = [:]
        try bank.read { snap in
            var keys: [BlockKey] = []
            try snap.blocks(accounts: nil, from: nil, to: nil) { k, _ in keys.append(k); return true }
            for k in keys {
                try snap.block(k) { v in
                    let h = try BlockHeader(decoding: v)
                    let times = try BlockDecoder.column(h.column(.time)!, count: h.count, in: v)
                    let pr = try BlockDecoder.column(h.column(.principal)!, count: h.count, in: v)
                    let ip = try BlockDecoder.column(h.column(.srcIP)!, count: h.count, in: v)
                    let by = try BlockDecoder.column(h.column(.bytes)!, count: h.count, in: v)
                    // CloudTrail blocks keep no event_id column: the id is in the raw record.
                    #expect(h.column(.eventID) == nil)
                    let raws = try snap.raw(k)!
                    guard case .times(let t) = times, case .global(let pc, let pt) = pr, case .global(let ic, let it) = ip,
                          case .ints(let bv, let bn) = by else { Issue.record("bad column kinds"); return }
                    for i in 0..<h.count {
                        let p = pc[i] == 0 ? nil : try snap.dictionaryValue(pt[Int(pc[i]) - 1]).text
                        var addr: IPAddress? = nil
                        if ic[i] != 0, case .ip(let a) = try snap.dictionaryValue(it[Int(ic[i]) - 1]) { addr = a }
                        let b: Int64? = (bn.isEmpty || !bn[i]) ? bv[i] : nil
                        let id = String(decoding: raws[i], as: UTF8.self).split(separator: "\"")[3]
                        out[h.firstSeq + UInt64(i)] = (t[i], p, addr, b, raws[i], String(id))
                    }
                }
            }
        }
        return out
    }

    @Test func appendAndReadBackEveryField() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        bank.blockRows = 100
        var maker = EventMaker(seed: 7)
        let events = (0..<1000).map { i in maker.event(account: i % 3 == 0 ? "111122224444" : "111122223333", time: 1_700_000_000_000 + Int64((i * 7919) % 5000) * 1000) }
        let r = try bank.append(events)
        #expect(r.stored == 1000)
        #expect(r.duplicates == 0)
        #expect(r.firstSeq == 1 && r.lastSeq == 1000)
        let back = try readAll(bank)
        #expect(back.count == 1000)
        // Every original event is found, by its raw bytes, with the same fields.
        let byRaw = Dictionary(uniqueKeysWithValues: back.values.map { ($0.raw, $0) })
        for e in events {
            let got = try #require(byRaw[e.raw])
            #expect(got.time == e.time)
            #expect(got.principal == e.principal)
            #expect(got.ip == e.srcIP)
            #expect(got.bytes == e.bytes)
            #expect(got.id == e.eventID)
        }
        // Within a block, rows are in time order and seqs are consecutive.
        let st = try bank.read { try $0.state() }
        #expect(st.nextSeq == 1001)
        #expect(st.events == 1000)
    }

    @Test func reappendingStoresNothingTwice() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        var maker = EventMaker(seed: 3)
        let events = (0..<500).map { maker.event(account: "111122223333", time: 1_700_000_000_000 + Int64($0) * 1000) }
        #expect(try bank.append(events).stored == 500)
        let again = try bank.append(events + [events[0]])
        #expect(again.stored == 0)
        #expect(again.duplicates == 501)
        // Duplicates inside one batch are dropped too.
        let more = (0..<10).map { maker.event(account: "111122223333", time: 1_700_000_900_000 + Int64($0)) }
        let r = try bank.append(more + more)
        #expect(r.stored == 10 && r.duplicates == 10)
        #expect(try bank.verify().ok)
    }

    /// Positional parts: the bank remembers committed byte ranges per file instead of a
    /// key per event, and drops exactly the events whose offsets it has committed.
    @Test func positionalPartsStoreEachFileRangeOnce() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        var maker = EventMaker(seed: 11)
        // Identical lines are distinct records when they sit at different offsets.
        let line = maker.event(account: "111122223333", time: 1_700_000_000_000)
        let events = (0..<300).map { i -> Event in
            var e = maker.event(account: "111122223333", time: 1_700_000_000_000 + Int64(i) * 1000)
            if i % 50 == 0 { e = line }
            return e
        }
        let offsets = (0..<300).map { Int64($0) * 100 }
        let file = [UInt8](repeating: 7, count: 32)
        func origin(_ r: Range<Int>) -> BankStore.PartOrigin {
            .init(file: file, range: Int64(r.lowerBound * 100) ..< Int64(r.upperBound * 100), offsets: Array(offsets[r]))
        }
        // The first two thirds, in two parts of one batch.
        let a = try bank.append(parts: [Array(events[0..<100]), Array(events[100..<200])],
                                origins: [origin(0..<100), origin(100..<200)])
        #expect(a.stored == 200 && a.duplicates == 0)
        // The whole file again (an ingest re-run after a crash): only the last third goes in.
        let b = try bank.append(parts: [events], origins: [origin(0..<300)])
        #expect(b.stored == 100 && b.duplicates == 200)
        #expect(try bank.append(parts: [events], origins: [origin(0..<300)]).stored == 0)
        // The same events from another file are other records.
        let other = BankStore.PartOrigin(file: [UInt8](repeating: 8, count: 32), range: 0 ..< 30_000, offsets: offsets)
        #expect(try bank.append(parts: [events], origins: [other]).stored == 300)
        #expect(try bank.read { try $0.state() }.events == 600)
        #expect(try bank.verify().ok)
    }

    @Test func rangeSetMergesAndFinds() throws {
        var r = RangeSet()
        r.insert(10 ..< 20)
        r.insert(30 ..< 40)
        r.insert(20 ..< 25) // touches: merges
        #expect(r.ranges == [10 ..< 25, 30 ..< 40])
        r.insert(0 ..< 5)
        r.insert(24 ..< 31) // bridges two
        #expect(r.ranges == [0 ..< 5, 10 ..< 40])
        r.insert(5 ..< 5) // empty: nothing
        #expect(r.ranges == [0 ..< 5, 10 ..< 40])
        for x in Int64(-2) ..< 45 {
            #expect(r.contains(x) == ((0 ..< 5).contains(x) || (10 ..< 40).contains(x)), "offset \(x)")
        }
        let decoded = try r.encoded.withUnsafeBytes { try RangeSet(decoding: $0) }
        #expect(decoded == r)
    }

    @Test func verifyNamesTheBlockWhoseByteWasFlipped() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        bank.blockRows = 200
        var maker = EventMaker(seed: 11)
        for batch in 0..<3 {
            let events = (0..<600).map { maker.event(account: "111122223333", time: 1_700_000_000_000 + Int64(batch * 600 + $0) * 1000) }
            _ = try bank.append(events)
        }
        let good = try bank.verify()
        #expect(good.ok, "\(good.problem ?? "")")
        #expect(good.blocks == 9 && good.events == 1800)

        // Pick the fifth block in sequence order and find its value's bytes in the file.
        var target: BlockKey?
        var needle: [UInt8] = []
        var flipAt = 0
        try bank.read { snap in
            var n = 0
            try snap.blocksInSequence { _, k in n += 1; if n == 5 { target = k; return false }; return true }
            try snap.block(target!) { v in
                // The stored hash is unique to the block: it locates the value in the file.
                let h = try BlockHeader(decoding: v)
                needle = h.hash
                let c = h.column(.principal)!
                flipAt = c.offset + c.length / 2 - BlockHeader.hashOffset
            }
        }
        let dataPath = t.dir + "/banks/acme-bank/data.mdb"
        let file = try Data(contentsOf: URL(fileURLWithPath: dataPath))
        // The block value starts with the magic, then the hash (the chain holds the hash
        // too, without the magic). Flip the byte in place, as an attacker editing the
        // file would; stale copies in free pages, if any, get the same treatment.
        let fh = try FileHandle(forUpdating: URL(fileURLWithPath: dataPath))
        var flipped = 0
        for range in file.ranges(of: Data(BlockHeader.magic + needle)) {
            let at = range.lowerBound + BlockHeader.magic.count + flipAt
            try fh.seek(toOffset: UInt64(at))
            try fh.write(contentsOf: Data([file[at] ^ 0x01]))
            flipped += 1
        }
        try fh.close()
        #expect(flipped >= 1)

        let bad = try bank.verify()
        #expect(!bad.ok)
        #expect(bad.badBlock == target)
        #expect(bad.problem?.contains("block \(target!.blockSeq) ") == true)
        #expect(bad.problem?.contains("content hash mismatch") == true)
    }

    @Test func mapGrowsWhenFull() throws {
        let t = try TempStore(mapSize: 1 << 20) // 1 MiB: the first batch overflows it
        let bank = try t.store.bank("zenith-bank")
        let before = bank.env.mapSize
        var maker = EventMaker(seed: 5)
        let events = (0..<20_000).map { maker.event(account: "999988887777", time: 1_700_000_000_000 + Int64($0) * 100) }
        let r = try bank.append(events)
        #expect(r.stored == 20_000)
        #expect(bank.env.mapSize > before)
        #expect(try bank.verify().ok)
    }

    @Test func postingsAndEventIDLookUp() throws {
        let t = try TempStore()
        let bank = try t.store.bank("acme-bank")
        bank.blockRows = 50
        var maker = EventMaker(seed: 9)
        let events = (0..<400).map { maker.event(account: "111122223333", time: 1_700_000_000_000 + Int64($0) * 1000) }
        _ = try bank.append(events)
        let back = try readAll(bank)
        try bank.read { snap in
            let principal = events[17].principal!
            let id = try #require(try snap.dictionaryID(.string(principal)))
            let blocks = Set(try snap.postings(.principal, id: id))
            // Oracle: the blocks whose rows carry the principal.
            var expected = Set<BlockKey>()
            for (s, row) in back where row.principal == principal { expected.insert(try snap.blockKey(containing: s)!) }
            #expect(blocks == expected)
            let seq = try #require(try snap.sequence(ofCloudTrailEventID: events[123].eventID!))
            #expect(back[seq]?.raw == events[123].raw)
            #expect(try snap.sequence(ofCloudTrailEventID: "00000000-0000-0000-0000-000000000000") == nil)
        }
    }

    @Test func orgRegistrationMergesAndRefusesMovingAccounts() throws {
        let t = try TempStore()
        var more = TempStore.defaultOrg
        more.banks[0].accounts.append(.init(id: "111122225555", name: "acme-sec", ou: "security"))
        let merged = try t.store.register(more)
        #expect(merged.banks[0].accounts.count == 3)
        let moving = Org(banks: [.init(id: "zenith-bank", name: "Zenith", accounts: [.init(id: "111122223333", name: "x", ou: "prod")])])
        #expect(throws: StoreError.self) { try t.store.register(moving) }
        #expect(try t.store.org().owner(ofAccount: "111122223333")?.bank.id == "acme-bank")
        // banks/acme-bank links to the bank's generation directory, which is its owner's alone.
        let generation = URL(fileURLWithPath: t.dir + "/banks/acme-bank").resolvingSymlinksInPath().path
        #expect(generation.hasSuffix("/banks/.acme-bank.g1"))
        let mode = try FileManager.default.attributesOfItem(atPath: generation)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }
}
