// FrameCodec: the frame layout byte by byte, the parser's recovery from damage, and two codecs joined by
// an in-memory link with a seeded fault injector (drops, duplicates, reordering, bit flips, truncation):
// every message arrives intact and once, or its sender is told it failed; nothing is delivered twice.
import XCTest
@testable import EdgeRuntime

/// SplitMix64: a small seeded generator, so every fault pattern is reproducible from its seed.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// Per-segment fault probabilities. The link cuts whatever a side sends into segments of 1...48 bytes (as
/// serial reads do) and applies at most one fault to each.
struct FaultRates {
    var drop = 0.0, duplicate = 0.0, reorder = 0.0, flip = 0.0, truncate = 0.0
    static let none = FaultRates()
    // A 290-byte DATA frame spans about 12 segments: "moderate" damages about one frame in five,
    // "heavy" about three in four, enough that some transfers exhaust their attempts.
    static let moderate = FaultRates(drop: 0.004, duplicate: 0.004, reorder: 0.004, flip: 0.004, truncate: 0.004)
    static let heavy = FaultRates(drop: 0.03, duplicate: 0.02, reorder: 0.02, flip: 0.03, truncate: 0.02)
}

struct FaultCounts {
    var segments = 0, dropped = 0, duplicated = 0, reordered = 0, flipped = 0, truncated = 0
    // A method, not an operator: another `+` overload in this test module slows type-checking of every
    // arithmetic expression in it.
    func adding(_ b: FaultCounts) -> FaultCounts {
        let a = self
        return FaultCounts(segments: a.segments + b.segments, dropped: a.dropped + b.dropped,
                    duplicated: a.duplicated + b.duplicated, reordered: a.reordered + b.reordered,
                    flipped: a.flipped + b.flipped, truncated: a.truncated + b.truncated)
    }
}

/// One direction of the in-memory link between two codecs.
struct FaultyLink {
    var rng: SplitMix64
    var rates: FaultRates
    var counts = FaultCounts()
    /// A segment held back to be delivered after the next one (reordering).
    private var held: [UInt8]?

    init(seed: UInt64, rates: FaultRates) {
        rng = SplitMix64(state: seed)
        self.rates = rates
    }

    mutating func pass(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = min(bytes.count - i, 1 + rng.below(48))
            var segment = Array(bytes[i..<(i + n)])
            i += n
            counts.segments += 1
            let roll = rng.next() % 1_000_000
            var threshold: UInt64 = 0
            func step(_ p: Double) -> Bool { threshold += UInt64(p * 1_000_000); return roll < threshold }
            if step(rates.drop) {
                counts.dropped += 1
                continue
            } else if step(rates.duplicate) {
                counts.duplicated += 1
                out += segment
            } else if step(rates.reorder) {
                counts.reordered += 1
                if let h = held { out += h }
                held = segment
                continue
            } else if step(rates.flip) {
                counts.flipped += 1
                segment[rng.below(segment.count)] ^= UInt8(1 << rng.below(8))
            } else if step(rates.truncate) {
                counts.truncated += 1
                segment.removeLast(1 + rng.below(segment.count))
            }
            out += segment
            if let h = held {
                out += h
                held = nil
            }
        }
        // A held segment goes out with the next traffic, or on its own when the sender has gone quiet.
        if bytes.isEmpty, let h = held {
            out += h
            held = nil
        }
        return out
    }
}

/// What happened to a batch of messages sent from A to B.
struct TransferOutcome {
    var delivered: [UInt32: [[UInt8]]] = [:]   // every delivery at B, by id (more than one = a bug)
    var sent: Set<UInt32> = []
    var failed: [UInt32: FrameError] = [:]
    var statisticsA = FrameStatistics()
    var statisticsB = FrameStatistics()
    var faults = FaultCounts()
    var steps = 0
}

/// Runs A and B until A has nothing left in flight (or `maxSteps`), 50 ms of simulated time a step.
func runLink(_ a: inout FrameCodec, _ b: inout FrameCodec, ab: inout FaultyLink, ba: inout FaultyLink,
             outcome: inout TransferOutcome, maxSteps: Int = 20_000) {
    var quietSteps = 0
    while outcome.steps < maxSteps {
        outcome.steps += 1
        b.receive(ab.pass(a.takeOutput()))
        a.receive(ba.pass(b.takeOutput()))
        a.tick(elapsedMs: 50)
        b.tick(elapsedMs: 50)
        for e in b.takeEvents() {
            if case .delivered(let id, let message) = e { outcome.delivered[id, default: []].append(message) }
        }
        for e in a.takeEvents() {
            switch e {
            case .sent(let id): outcome.sent.insert(id)
            case .failed(let id, let error): outcome.failed[id] = error
            case .delivered: break
            }
        }
        // Done when A is idle and a few quiet steps flushed anything still on the link.
        quietSteps = a.isSending ? 0 : quietSteps + 1
        if quietSteps > 3 { break }
    }
    outcome.statisticsA = a.statistics
    outcome.statisticsB = b.statistics
    outcome.faults = ab.counts.adding(ba.counts)
}

final class FrameCodecTests: XCTestCase {
    let config = FrameCodecConfiguration(chunkSize: 256, maxFramePayload: 256, maxMessageBytes: 64 * 1024,
                                         retransmitAfterMs: 200, maxAttempts: 12)

    /// Message sizes around the chunk boundaries, plus random ones.
    func messages(_ rng: inout SplitMix64, count: Int) -> [[UInt8]] {
        let fixed = [0, 1, 255, 256, 257, 512, 4000]
        return (0..<count).map { i in rng.bytes(i < fixed.count && rng.chance(0.5) ? fixed[i] : rng.below(6000)) }
    }

    // MARK: format

    func testFrameLayoutByteByByte() {
        let frame = Frame(type: .data, flags: 0, messageID: 0x0403_0201, chunk: 5, count: 9, total: 0x1234,
                          messageCRC: 0xDEAD_BEEF, payload: [0xAA, 0xBB, 0xCC])
        let b = frame.encoded()
        XCTAssertEqual(b.count, 30 + 3 + 4)
        XCTAssertEqual(Array(b[0..<4]), [0xC3, 0x4D, 1, 0])
        XCTAssertEqual(Array(b[4..<8]), [0x01, 0x02, 0x03, 0x04])
        XCTAssertEqual(Array(b[8..<12]), [5, 0, 0, 0])
        XCTAssertEqual(Array(b[12..<16]), [9, 0, 0, 0])
        XCTAssertEqual(Array(b[16..<20]), [0x34, 0x12, 0, 0])
        XCTAssertEqual(Array(b[20..<24]), [0xEF, 0xBE, 0xAD, 0xDE])
        XCTAssertEqual(Array(b[24..<26]), [3, 0])
        XCTAssertEqual(readLE32(b, 26), CRC32.checksum(Array(b[0..<26])))
        XCTAssertEqual(Array(b[30..<33]), [0xAA, 0xBB, 0xCC])
        XCTAssertEqual(readLE32(b, 33), CRC32.checksum(Array(b[0..<33])))
    }

    func testParserFindsFramesAfterGarbageAndSyncLookalikes() {
        let f1 = Frame(type: .ack, messageID: 7, chunk: 1, count: 2, total: 10, messageCRC: 3)
        let f2 = Frame(type: .data, messageID: 8, chunk: 0, count: 1, total: 2, messageCRC: 4, payload: [1, 2])
        var parser = FrameParser(maxPayload: 256)
        let garbage: [UInt8] = [0x00, 0xC3, 0xC3, 0x4D, 0x01, 0xFF, 0xC3]
        parser.append(garbage + f1.encoded() + [0xC3] + f2.encoded())
        var frames: [Frame] = []
        while let r = parser.next() { if case .frame(let f) = r { frames.append(f) } }
        XCTAssertEqual(frames, [f1, f2])
        XCTAssertEqual(parser.skippedBytes, garbage.count + 1)
    }

    func testParserWaitsForSplitFramesByteByByte() {
        let f = Frame(type: .data, messageID: 1, chunk: 0, count: 1, total: 5, messageCRC: 9, payload: [1, 2, 3, 4, 5])
        var parser = FrameParser(maxPayload: 256)
        var got: [Frame] = []
        for byte in f.encoded() {
            parser.append([byte])
            while let r = parser.next() { if case .frame(let g) = r { got.append(g) } }
        }
        XCTAssertEqual(got, [f])
    }

    func testEverySingleBitFlipIsRejected() {
        let f = Frame(type: .data, messageID: 3, chunk: 0, count: 1, total: 8, messageCRC: 1, payload: Array(1...8))
        let good = f.encoded()
        for bit in 0..<(good.count * 8) {
            var bad = good
            bad[bit / 8] ^= UInt8(1 << (bit % 8))
            var parser = FrameParser(maxPayload: 256)
            parser.append(bad)
            while let r = parser.next() {
                if case .frame = r { XCTFail("a frame with bit \(bit) flipped was accepted") }
            }
        }
    }

    func testOversizedFrameIsSkippedAndTheNextOneParsed() {
        let big = Frame(type: .data, messageID: 1, chunk: 0, count: 1, total: 300, messageCRC: 0,
                        payload: [UInt8](repeating: 7, count: 300))
        let small = Frame(type: .ack, messageID: 2, chunk: 1, count: 1, total: 0, messageCRC: 0)
        var parser = FrameParser(maxPayload: 256)
        parser.append(big.encoded() + small.encoded())
        var results: [String] = []
        while let r = parser.next() {
            switch r {
            case .frame(let f): results.append("frame \(f.messageID)")
            case .skipped(let e): if case .frameTooLarge(300, 256) = e { results.append("too large") }
            }
        }
        XCTAssertEqual(results.first, "too large")
        XCTAssertEqual(results.last, "frame 2")
    }

    func testConfigurationAndMessageLimits() throws {
        XCTAssertThrowsError(try FrameCodec(FrameCodecConfiguration(chunkSize: 0))) {
            guard case FrameError.invalidConfiguration = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try FrameCodec(FrameCodecConfiguration(maxFramePayload: 70_000)))
        var a = try FrameCodec(config)
        XCTAssertThrowsError(try a.send([UInt8](repeating: 0, count: 64 * 1024 + 1))) {
            XCTAssertEqual($0 as? FrameError, .messageTooLarge(length: 64 * 1024 + 1, limit: 64 * 1024))
        }
    }

    func testReceiverRefusesAMessageOverItsLimitAndTheSenderStopsAtOnce() throws {
        var a = try FrameCodec(config)
        var small = config
        small.maxMessageBytes = 1000
        var b = try FrameCodec(small)
        let id = try a.send([UInt8](repeating: 1, count: 1001))
        var ab = FaultyLink(seed: 1, rates: .none), ba = FaultyLink(seed: 2, rates: .none)
        var outcome = TransferOutcome()
        runLink(&a, &b, ab: &ab, ba: &ba, outcome: &outcome)
        XCTAssertEqual(outcome.failed[id], .refusedByPeer(messageID: id))
        XCTAssertTrue(outcome.delivered.isEmpty)
        XCTAssertEqual(outcome.statisticsA.retransmissions, 0)
    }

    // MARK: transfers

    func testCleanLinkDeliversEverythingInOrderWithoutRetransmission() throws {
        var rng = SplitMix64(state: 42)
        let batch = messages(&rng, count: 7)
        var a = try FrameCodec(config), b = try FrameCodec(config)
        var ids: [UInt32] = []
        for m in batch { ids.append(try a.send(m)) }
        var ab = FaultyLink(seed: 1, rates: .none), ba = FaultyLink(seed: 2, rates: .none)
        var outcome = TransferOutcome()
        runLink(&a, &b, ab: &ab, ba: &ba, outcome: &outcome)
        for (id, m) in zip(ids, batch) { XCTAssertEqual(outcome.delivered[id], [m]) }
        XCTAssertEqual(outcome.sent, Set(ids))
        XCTAssertEqual(outcome.statisticsA.retransmissions, 0)
        XCTAssertEqual(outcome.statisticsB.framesDamaged, 0)
    }

    /// The core property over many seeded fault patterns; returns totals for the report.
    /// With `resumeFailed`, every failed message is then resumed under its id over a clean link, and every
    /// message must end delivered exactly once over both phases.
    func faultRun(rates: FaultRates, seeds: Range<UInt64>, perSeed: Int, resumeFailed: Bool = false) throws -> (transfers: Int, delivered: Int, failed: Int, faults: FaultCounts, a: FrameStatistics, b: FrameStatistics) {
        var transfers = 0, deliveredCount = 0, failedCount = 0
        var faults = FaultCounts()
        var statsA = FrameStatistics(), statsB = FrameStatistics()
        for seed in seeds {
            var rng = SplitMix64(state: seed &* 7919)
            let batch = messages(&rng, count: perSeed)
            var a = try FrameCodec(config), b = try FrameCodec(config)
            var byID: [UInt32: [UInt8]] = [:]
            for m in batch { byID[try a.send(m)] = m }
            var ab = FaultyLink(seed: seed &* 31 &+ 1, rates: rates), ba = FaultyLink(seed: seed &* 31 &+ 2, rates: rates)
            var outcome = TransferOutcome()
            runLink(&a, &b, ab: &ab, ba: &ba, outcome: &outcome)
            XCTAssertFalse(a.isSending, "seed \(seed): still sending after \(outcome.steps) steps")
            for (id, copies) in outcome.delivered {
                XCTAssertEqual(copies.count, 1, "seed \(seed): message \(id) delivered \(copies.count) times")
                XCTAssertEqual(copies.first, byID[id], "seed \(seed): message \(id) arrived changed")
            }
            for id in byID.keys {
                let sent = outcome.sent.contains(id), failed = outcome.failed[id] != nil
                XCTAssertTrue(sent != failed, "seed \(seed): message \(id) must end either sent or failed")
                if sent { XCTAssertNotNil(outcome.delivered[id], "seed \(seed): \(id) acknowledged but never delivered") }
                if let e = outcome.failed[id], case .retriesExhausted = e {} else if failed {
                    XCTFail("seed \(seed): unexpected failure \(outcome.failed[id]!)")
                }
            }
            if resumeFailed {
                for id in outcome.failed.keys.sorted() { try a.resume(byID[id]!, messageID: id) }
                var cleanAB = FaultyLink(seed: 1, rates: .none), cleanBA = FaultyLink(seed: 2, rates: .none)
                var second = TransferOutcome()
                runLink(&a, &b, ab: &cleanAB, ba: &cleanBA, outcome: &second)
                XCTAssertEqual(second.sent, Set(outcome.failed.keys), "seed \(seed): every resumed message completes")
                for id in byID.keys {
                    let copies = (outcome.delivered[id] ?? []) + (second.delivered[id] ?? [])
                    XCTAssertEqual(copies, [byID[id]!], "seed \(seed): message \(id) must be delivered exactly once")
                }
            }
            transfers += batch.count
            deliveredCount += outcome.delivered.count
            failedCount += outcome.failed.count
            faults = faults.adding(outcome.faults)
            statsA.retransmissions += outcome.statisticsA.retransmissions
            statsB.framesDamaged += outcome.statisticsB.framesDamaged
            statsA.framesDamaged += outcome.statisticsA.framesDamaged
            statsB.duplicateChunks += outcome.statisticsB.duplicateChunks
            statsB.duplicateMessages += outcome.statisticsB.duplicateMessages
        }
        return (transfers, deliveredCount, failedCount, faults, statsA, statsB)
    }

    func report(_ label: String, _ r: (transfers: Int, delivered: Int, failed: Int, faults: FaultCounts, a: FrameStatistics, b: FrameStatistics)) {
        print("FrameCodec \(label): \(r.transfers) transfers, \(r.delivered) delivered once, \(r.failed) failed cleanly; "
              + "faults over \(r.faults.segments) segments: \(r.faults.dropped) dropped, \(r.faults.duplicated) duplicated, "
              + "\(r.faults.reordered) reordered, \(r.faults.flipped) bit-flipped, \(r.faults.truncated) truncated; "
              + "\(r.a.retransmissions) retransmissions, \(r.a.framesDamaged + r.b.framesDamaged) damaged frames skipped, "
              + "\(r.b.duplicateChunks) duplicate chunks and \(r.b.duplicateMessages) repeated messages not redelivered")
    }

    func testModerateFaultsEveryMessageArrivesIntactAndOnce() throws {
        let r = try faultRun(rates: .moderate, seeds: 0..<200, perSeed: 4)
        report("moderate", r)
        XCTAssertEqual(r.delivered, r.transfers, "with 2% faults of each kind and 12 attempts every message gets through")
        XCTAssertGreaterThan(r.faults.dropped * r.faults.duplicated * r.faults.reordered * r.faults.flipped * r.faults.truncated, 0)
    }

    func testHeavyFaultsFailCleanlyThenResumeDeliversEachExactlyOnce() throws {
        let r = try faultRun(rates: .heavy, seeds: 1000..<1100, perSeed: 3, resumeFailed: true)
        report("heavy", r)
        XCTAssertGreaterThan(r.failed, 0, "the heavy pattern must exercise the failure path")
        XCTAssertGreaterThan(r.b.framesDamaged + r.a.framesDamaged, 0)
    }

    func testLostFinalAcksThenResumeDeliversOnceAndCompletes() throws {
        var a = try FrameCodec(config), b = try FrameCodec(config)
        let message = SplitMix64(state: 5).bytesOf(1000)   // 4 chunks
        let id = try a.send(message)
        // Clean until B has the whole message; from then on every answer from B is lost.
        var deliveries = 0
        while deliveries == 0 {
            b.receive(a.takeOutput())
            for e in b.takeEvents() { if case .delivered(id, message) = e { deliveries += 1 } }
            if deliveries == 0 { a.receive(b.takeOutput()) }
        }
        var ab = FaultyLink(seed: 1, rates: .none), cut = FaultyLink(seed: 2, rates: FaultRates(drop: 1.0))
        var outcome = TransferOutcome()
        runLink(&a, &b, ab: &ab, ba: &cut, outcome: &outcome)
        XCTAssertEqual(outcome.failed[id], .retriesExhausted(messageID: id, chunk: 3, attempts: config.maxAttempts))
        XCTAssertTrue(outcome.delivered.isEmpty, "the retransmitted last chunk must not deliver the message again")
        XCTAssertEqual(b.statistics.duplicateMessages, config.maxAttempts - 1)

        // The sender tries again under the same id (as after a restart, unsure): B acknowledges the
        // message it already delivered, the sender learns it arrived, nothing is delivered twice.
        try a.resume(message, messageID: id)
        var clean = FaultyLink(seed: 3, rates: .none)
        outcome = TransferOutcome()
        runLink(&a, &b, ab: &ab, ba: &clean, outcome: &outcome)
        XCTAssertEqual(outcome.sent, [id])
        XCTAssertNil(outcome.delivered[id], "a delivered message is acknowledged, not delivered again")
        XCTAssertEqual(b.statistics.duplicateMessages, config.maxAttempts)
    }

    func testInterruptedTransferResumesAtTheNextChunkTheReceiverNeeds() throws {
        var a = try FrameCodec(config), b = try FrameCodec(config)
        let message = SplitMix64(state: 9).bytesOf(256 * 10)   // 10 chunks
        let id = try a.send(message)
        // Six chunks get through, then the link goes dead and the sender gives up.
        for _ in 0..<6 {
            b.receive(a.takeOutput())
            a.receive(b.takeOutput())
        }
        XCTAssertTrue(b.takeEvents().isEmpty)
        var dead = FaultyLink(seed: 1, rates: FaultRates(drop: 1.0)), dead2 = FaultyLink(seed: 2, rates: FaultRates(drop: 1.0))
        var outcome = TransferOutcome()
        runLink(&a, &b, ab: &dead, ba: &dead2, outcome: &outcome)
        XCTAssertEqual(outcome.failed[id], .retriesExhausted(messageID: id, chunk: 6, attempts: config.maxAttempts))

        // A fresh sender (as after a restart) resumes the same message: one chunk 0, then chunks 6...9.
        var restarted = try FrameCodec(config)
        try restarted.resume(message, messageID: id)
        var ab = FaultyLink(seed: 3, rates: .none), ba = FaultyLink(seed: 4, rates: .none)
        outcome = TransferOutcome()
        runLink(&restarted, &b, ab: &ab, ba: &ba, outcome: &outcome)
        XCTAssertEqual(outcome.delivered[id], [message])
        XCTAssertEqual(outcome.sent, [id])
        XCTAssertEqual(restarted.statistics.chunksResumed, 5)
        XCTAssertEqual(restarted.statistics.framesSent, 1 + 4, "chunk 0 once, then the four missing chunks")
    }

    func testSameSeedSameBytes() throws {
        func run() throws -> FrameStatistics {
            var a = try FrameCodec(config), b = try FrameCodec(config)
            var rng = SplitMix64(state: 77)
            for m in messages(&rng, count: 3) { try a.send(m) }
            var ab = FaultyLink(seed: 5, rates: .heavy), ba = FaultyLink(seed: 6, rates: .heavy)
            var outcome = TransferOutcome()
            runLink(&a, &b, ab: &ab, ba: &ba, outcome: &outcome)
            return outcome.statisticsA
        }
        XCTAssertEqual(try run(), try run())
    }
}

extension SplitMix64 {
    func bytesOf(_ n: Int) -> [UInt8] {
        var copy = self
        return copy.bytes(n)
    }
}
