// Serial links over real pseudo-terminals (termios raw mode through the kernel's tty layer): bytes pass
// untranslated, and `cema flash`'s protocol delivers patches to a SerialPatchService through a seeded
// fault injector between two pty pairs: every patch is installed once or its transfer fails with a
// message, and the store ends in the state of the last patch acknowledged "ok".
import Foundation
import XCTest
@testable import EdgeRuntime

final class SerialTests: XCTestCase {
    func testPseudoTerminalCarriesEveryByteValueUntranslatedBothWays() throws {
        let pty = try PseudoTerminal.open()
        XCTAssertTrue(pty.slavePath.hasPrefix("/dev/pts/"))
        let all = (0..<256).map { UInt8($0) } + [0x0D, 0x0A, 0x03, 0x11, 0x13, 0x7F, 0x04]
        for (from, to) in [(pty.master, pty.slave), (pty.slave, pty.master)] {
            try from.write(all)
            var got: [UInt8] = []
            for _ in 0..<50 where got.count < all.count { got += try to.read(timeoutMs: 20) }
            XCTAssertEqual(got, all, "raw mode must not echo, translate CR/LF or act on control characters")
        }
    }

    func testOpenRefusesUnknownBaudRatesAndNonTerminals() throws {
        let pty = try PseudoTerminal.open()
        XCTAssertThrowsError(try SerialPort(path: pty.slavePath, baud: 12345)) {
            XCTAssertEqual($0 as? SerialError, .unsupportedBaud(12345))
        }
        XCTAssertThrowsError(try SerialPort(path: "/dev/null", baud: 115200)) {
            guard case SerialError.openFailed(_, 25, _) = $0 else { return XCTFail("\($0)") }   // ENOTTY
        }
        XCTAssertNoThrow(try SerialPort(path: pty.slavePath, baud: 9600))
    }

    func testTheServiceAppliesARepeatedPatchOnceAndRepliesNameTheirRequest() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("service-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let modelBytes = PatchTests.modelBytes()
        let model = try Model(bytes: modelBytes)
        let store = try PatchStore(directory: dir)
        _ = try store.restore(model)
        let service = SerialPatchService(store: store, verifier: try SignatureVerifier(publicKey: TestSigner.publicKey), model: model)
        let request = TestSigner.sign(encodeForTest(ParameterPatch(
            modelSHA256: SHA256.digest(modelBytes), baseVersion: 0, newVersion: 1,
            parameters: [PatchParameter(name: "scale", values: [3, 4])])))
        XCTAssertEqual(service.handle(request), .installed(version: 1))
        XCTAssertEqual(service.handle(request), .alreadyApplied(version: 1, highestAccepted: 1))
        XCTAssertEqual(service.installed, 1)
        guard case .refused(let reason) = service.handle(Array(request.dropLast())) else { return XCTFail("truncated patch accepted") }
        XCTAssertTrue(reason.contains("signature"), reason)

        for reply in [SerialPatchReply.installed(version: 7), .alreadyApplied(version: 2, highestAccepted: 5), .refused(reason: "no good")] {
            XCTAssertEqual(SerialPatchReply.decode(reply.encoded(request: request), request: request), reply)
            XCTAssertNil(SerialPatchReply.decode(reply.encoded(request: request), request: request + [0]),
                         "a reply to another request must not be taken for this one's")
        }
    }

    /// Flashes `count` chained patches (v1...vN) through faults; returns (ok replies, attempts, faults).
    func flash(seed: UInt64, rates: FaultRates, count: Int, maxAttempts: Int = 8) throws -> (ok: Int, attempts: Int, faults: FaultCounts, refusedRepeats: Int) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("serial-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try PatchStore(directory: dir)
        let modelBytes = PatchTests.modelBytes()
        let model = try Model(bytes: modelBytes)
        _ = try store.restore(model)
        let service = SerialPatchService(store: store, verifier: try SignatureVerifier(publicKey: TestSigner.publicKey), model: model)

        let hostSide = try PseudoTerminal.open(), boardSide = try PseudoTerminal.open()
        let config = FrameCodecConfiguration(chunkSize: 64, maxFramePayload: 256, maxMessageBytes: 64 * 1024,
                                             retransmitAfterMs: 25, maxAttempts: maxAttempts, firstMessageID: 1)
        var host = SerialLink(port: hostSide.slave, codec: try FrameCodec(config))
        var boardConfig = config
        boardConfig.firstMessageID = 1_000_000
        var board = SerialLink(port: boardSide.slave, codec: try FrameCodec(boardConfig))
        var toBoard = FaultyLink(seed: seed &* 2 &+ 1, rates: rates), toHost = FaultyLink(seed: seed &* 2 &+ 2, rates: rates)

        let hash = SHA256.digest(modelBytes)
        func patch(_ v: UInt64) -> [UInt8] {
            let f = Float(v)
            let p = ParameterPatch(modelSHA256: hash, baseVersion: v - 1, newVersion: v, parameters: [
                PatchParameter(name: "scale", values: [1 + f, 2 + f]), PatchParameter(name: "bias", values: [f, -f])])
            return TestSigner.sign(encodeForTest(p))
        }
        var okVersions: [UInt64] = []
        var attempts = 0, refusedRepeats = 0
        var v: UInt64 = 1
        while v <= UInt64(count) && attempts < 6 * count {
            attempts += 1
            let request = patch(v)
            try host.codec.send(request)
            var reply: SerialPatchReply?
            var failed = false
            let deadline = Date().addingTimeInterval(0.2)  // a reply lost for good: retry
            while reply == nil && !failed && Date() < deadline {
                for e in try host.step(waitMs: 1) {
                    // Late replies to an earlier attempt are skipped: they answer another request.
                    if case .delivered(_, let r) = e, let answer = SerialPatchReply.decode(r, request: request) { reply = answer }
                    if case .failed(_, let error) = e {
                        if case .retriesExhausted = error {} else { XCTFail("seed \(seed): unexpected \(error)") }
                        failed = true
                    }
                }
                // The faulty wire between the two pty masters.
                try boardSide.master.write(toBoard.pass(try hostSide.master.read(timeoutMs: 0)))
                try service.serve(&board, waitMs: 0)
                try hostSide.master.write(toHost.pass(try boardSide.master.read(timeoutMs: 0)))
            }
            switch reply {
            case .installed(let got):
                XCTAssertEqual(got, v)
                okVersions.append(v)
                v += 1
            case .alreadyApplied(let got, _):
                // An earlier attempt was installed but its reply was lost: the retry is refused, not re-applied.
                XCTAssertEqual(got, v)
                refusedRepeats += 1
                okVersions.append(v)
                v += 1
            case .refused(let reason):
                XCTFail("seed \(seed): patch \(v) refused: \(reason)")
                v = UInt64(count) + 1
            case nil:
                break   // the transfer failed or the reply never came: the same patch goes again
            }
        }
        XCTAssertEqual(okVersions, Array(1...UInt64(count)), "seed \(seed): every patch ends installed, in order")
        XCTAssertEqual(service.installed, count, "seed \(seed): each patch applied exactly once")
        let restarted = try Model(bytes: modelBytes)
        let state = try PatchStore(directory: dir).restore(restarted)
        XCTAssertEqual(state.version, UInt64(count))
        let scale = restarted.graph.initializers["scale"]!
        XCTAssertEqual(Array(UnsafeBufferPointer(start: scale.pointer(as: Float.self), count: 2)),
                       [1 + Float(count), 2 + Float(count)])
        return (okVersions.count, attempts, toBoard.counts.adding(toHost.counts), refusedRepeats)
    }

    func testFlashingOverACleanPseudoTerminalLink() throws {
        let r = try flash(seed: 1, rates: .none, count: 5)
        XCTAssertEqual(r.attempts, 5)
    }

    func testFlashingThroughDroppedDuplicatedReorderedFlippedAndTruncatedBytes() throws {
        var total = FaultCounts()
        var patches = 0, attempts = 0, repeats = 0
        // The second half: a line so bad (a third of the frames damaged) and so little patience (3 attempts)
        // that transfers fail, are retried, and some retries find the patch already applied.
        let brutal = FaultRates(drop: 0.06, duplicate: 0.03, reorder: 0.03, flip: 0.06, truncate: 0.03)
        for seed: UInt64 in 0..<9 {
            let r = try flash(seed: seed, rates: seed < 6 ? .heavy : brutal, count: 8, maxAttempts: seed < 6 ? 8 : 3)
            total = total.adding(r.faults)
            patches += r.ok
            attempts += r.attempts
            repeats += r.refusedRepeats
        }
        print("Serial flash: \(patches) patches over pty pairs in \(attempts) attempts (\(repeats) retries refused as already applied); "
              + "faults over \(total.segments) segments: \(total.dropped) dropped, \(total.duplicated) duplicated, "
              + "\(total.reordered) reordered, \(total.flipped) bit-flipped, \(total.truncated) truncated")
        XCTAssertGreaterThan(total.dropped * total.duplicated * total.reordered * total.flipped * total.truncated, 0)
        XCTAssertGreaterThan(attempts, patches, "the brutal line must make some transfers fail and be retried")
    }
}
