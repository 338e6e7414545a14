// TCP links on loopback: addresses, connection errors, `cema flash --tcp`'s protocol against a board's
// SerialPatchService (both ends in this process, stepped in turn), a connection cut mid-transfer that
// resumes at the last acknowledged chunk, the cloud message format, and the reconnect back-off.
import Foundation
import XCTest
@testable import EdgeRuntime

final class TCPLinkTests: XCTestCase {
    func testAddressesParseAndBadOnesSayWhy() throws {
        XCTAssertEqual(try TCPAddress(parsing: "127.0.0.1:7070"), TCPAddress(host: "127.0.0.1", port: 7070))
        XCTAssertEqual(try TCPAddress(parsing: "cloud.example:1"), TCPAddress(host: "cloud.example", port: 1))
        XCTAssertEqual(try TCPAddress(parsing: "[::1]:80"), TCPAddress(host: "::1", port: 80))
        XCTAssertEqual(try TCPAddress(parsing: "9000", defaultHost: "0.0.0.0"), TCPAddress(host: "0.0.0.0", port: 9000))
        XCTAssertEqual(TCPAddress(host: "::1", port: 80).description, "[::1]:80")
        for bad in ["localhost", "host:", ":80", "host:0", "host:65536", "host:8o", "::1:80", "[::1]80", "[::1"] {
            XCTAssertThrowsError(try TCPAddress(parsing: bad), bad) { error in
                guard case NetworkError.badAddress(let text, _) = error else { return XCTFail("\(bad): \(error)") }
                XCTAssertEqual(text, bad)
                XCTAssertTrue("\(error)".contains("HOST:PORT"))
            }
        }
    }

    func testARefusedConnectionAndAnUnknownHostAreClearErrors() throws {
        // A port that was free a moment ago: nothing listens there now.
        let port = try TCPListener(address: TCPAddress(host: "127.0.0.1", port: 0)).port
        XCTAssertThrowsError(try TCPConnection(connectingTo: TCPAddress(host: "127.0.0.1", port: port), timeoutMs: 1000)) { error in
            guard case NetworkError.connectFailed(_, 111, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("connection refused"), "\(error)")
        }
        XCTAssertThrowsError(try TCPConnection(connectingTo: TCPAddress(host: "no-such-host.invalid", port: 1), timeoutMs: 1000)) { error in
            guard case NetworkError.resolveFailed(let host, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(host, "no-such-host.invalid")
        }
    }

    func testBytesAndClosingTravelBothWays() throws {
        let listener = try TCPListener(address: TCPAddress(host: "127.0.0.1", port: 0))
        let client = try TCPConnection(connectingTo: TCPAddress(host: "127.0.0.1", port: listener.port), timeoutMs: 1000)
        var server: TCPConnection? = try XCTUnwrap(try listener.accept(timeoutMs: 1000))
        let all = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try client.write(all)
        var got: [UInt8] = []
        for _ in 0..<200 where got.count < all.count { got += try server!.read(timeoutMs: 20) }
        XCTAssertEqual(got, all)
        XCTAssertEqual(try client.read(timeoutMs: 0), [], "nothing to read is not an error")
        server = nil   // closes it
        XCTAssertThrowsError(try client.read(timeoutMs: 500)) { XCTAssertEqual($0 as? NetworkError, .closedByPeer) }
    }

    /// A board: a store, the test model, and SerialPatchService behind one frame codec that outlives its
    /// connections (as `edge-agent serve --listen` keeps it).
    final class Board {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tcp-\(UUID().uuidString)").path
        let modelBytes = PatchTests.modelBytes()
        let service: SerialPatchService
        let listener: TCPListener
        var codec: FrameCodec
        var link: TCPLink?

        init(chunkSize: Int) throws {
            let model = try Model(bytes: modelBytes)
            let store = try PatchStore(directory: dir)
            _ = try store.restore(model)
            service = SerialPatchService(store: store, verifier: try SignatureVerifier(publicKey: TestSigner.publicKey), model: model)
            listener = try TCPListener(address: TCPAddress(host: "127.0.0.1", port: 0))
            var config = tcpFrameConfiguration(firstMessageID: 1_000_000)
            config.chunkSize = chunkSize
            codec = try FrameCodec(config)
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        func step() throws {
            if let c = try listener.accept(timeoutMs: 0) {
                if let old = link { codec = old.codec }
                link = TCPLink(connection: c, codec: codec)
                link!.replaceConnection(c)
            }
            guard link != nil else { return }
            do { try service.serve(&link!) } catch NetworkError.closedByPeer {
                codec = link!.codec
                link = nil
            }
        }

        /// A signed patch with `extra` padding floats in a second parameter set, large enough to need many chunks.
        func patch(_ v: UInt64) -> [UInt8] {
            let f = Float(v)
            let p = ParameterPatch(modelSHA256: SHA256.digest(modelBytes), baseVersion: v - 1, newVersion: v, parameters: [
                PatchParameter(name: "scale", values: [1 + f, 2 + f]), PatchParameter(name: "bias", values: [f, -f])])
            return TestSigner.sign(encodeForTest(p))
        }
    }

    func flashConfig(chunkSize: Int) -> FrameCodecConfiguration {
        var c = tcpFrameConfiguration(firstMessageID: 1)
        c.chunkSize = chunkSize
        c.retransmitAfterMs = 50
        return c
    }

    func testAPatchFlashedOverTCPArrivesIntactAndIsInstalledOnce() throws {
        let board = try Board(chunkSize: 16)
        let address = TCPAddress(host: "127.0.0.1", port: board.listener.port)
        var host = TCPLink(connection: try TCPConnection(connectingTo: address, timeoutMs: 1000), codec: try FrameCodec(flashConfig(chunkSize: 16)))
        for v: UInt64 in 1...3 {
            let request = board.patch(v)
            XCTAssertGreaterThan(request.count, 16 * 4, "the patch takes several chunks")
            try host.codec.send(request)
            var reply: SerialPatchReply?
            for _ in 0..<2000 where reply == nil {
                for e in try host.step(waitMs: 0) {
                    if case .delivered(_, let r) = e { reply = SerialPatchReply.decode(r, request: request) }
                }
                try board.step()
            }
            XCTAssertEqual(reply, .installed(version: v))
        }
        // The same patch again: refused by the version counter, not applied twice.
        let again = board.patch(3)
        try host.codec.send(again)
        var reply: SerialPatchReply?
        for _ in 0..<2000 where reply == nil {
            for e in try host.step(waitMs: 0) { if case .delivered(_, let r) = e { reply = SerialPatchReply.decode(r, request: again) } }
            try board.step()
        }
        XCTAssertEqual(reply, .alreadyApplied(version: 3, highestAccepted: 3))
        XCTAssertEqual(board.service.installed, 3)
        XCTAssertEqual(board.service.model.version, 3)
        XCTAssertEqual(host.codec.statistics.retransmissions, 0, "TCP loses nothing: no retransmission on a healthy link")
    }

    func testAConnectionCutMidTransferResumesAtTheLastAcknowledgedChunk() throws {
        let board = try Board(chunkSize: 16)
        let address = TCPAddress(host: "127.0.0.1", port: board.listener.port)
        let request = board.patch(1)
        let chunks = (request.count + 7) / 8
        var host = TCPLink(connection: try TCPConnection(connectingTo: address, timeoutMs: 1000), codec: try FrameCodec(flashConfig(chunkSize: 8)))
        try host.codec.send(request)
        // Half the chunks across, then the connection dies (the host's socket closes).
        var cut = false
        for _ in 0..<4000 where !cut {
            _ = try host.step(waitMs: 0)
            try board.step()
            if host.codec.statistics.framesSent >= chunks / 2 { cut = true }
        }
        XCTAssertTrue(cut)
        let sentBeforeCut = host.codec.statistics.framesSent
        host.replaceConnection(try TCPConnection(connectingTo: address, timeoutMs: 1000))
        for _ in 0..<20 { try board.step() }   // the board notices the old connection closed
        var reply: SerialPatchReply?
        let deadline = Date().addingTimeInterval(5)
        while reply == nil && Date() < deadline {
            for e in try host.step(waitMs: 1) { if case .delivered(_, let r) = e { reply = SerialPatchReply.decode(r, request: request) } }
            try board.step()
        }
        XCTAssertEqual(reply, .installed(version: 1))
        XCTAssertEqual(board.service.installed, 1)
        // Resumed, not restarted: the frames after the cut cover the rest of the message, not all of it again.
        let after = host.codec.statistics.framesSent - sentBeforeCut
        XCTAssertLessThan(after, chunks - chunks / 2 + 4, "sent \(sentBeforeCut) frames before the cut and \(after) after, of \(chunks) chunks")
    }

    func testCloudMessagesRoundTripAndDamagedOnesAreRefused() throws {
        let messages: [CloudMessage] = [
            .hello(deviceID: "board-7", session: 42, modelSHA256: Array(repeating: 0xAB, count: 32), version: 3, highestAccepted: 5),
            .upload(sequence: 9, batch: [1, 2, 3]), .patch(sequence: 9, patch: Array(0..<200)), .noPatch(sequence: 10),
            .patchResult(installed: false, version: 3, highestAccepted: 5, detail: "base version mismatch"), .refused(reason: "other model"),
        ]
        for m in messages {
            XCTAssertEqual(try CloudMessage.decode(m.encoded()), m)
            let bytes = m.encoded()
            XCTAssertThrowsError(try CloudMessage.decode(Array(bytes.dropLast())), m.name)
            XCTAssertThrowsError(try CloudMessage.decode(bytes + [0]), m.name)
        }
        XCTAssertThrowsError(try CloudMessage.decode([0xCE, 99])) { XCTAssertTrue("\($0)".contains("unknown cloud message type 99")) }
        XCTAssertThrowsError(try CloudMessage.decode([1, 2, 3])) { XCTAssertTrue("\($0)".contains("not a CEMA cloud message")) }
        // A length field that runs past the end is refused, not trusted.
        XCTAssertThrowsError(try CloudMessage.decode([0xCE, 6, 0xFF, 0xFF, 0xFF, 0x7F]))
    }

    func testBackOffGrowsToItsCapWithJitterAndResets() {
        var b = ReconnectBackoff(BackoffConfig(initialMs: 100, maximumMs: 1000, multiplier: 2, jitter: 0.2), seed: 7)
        let delays = (0..<8).map { _ in b.nextDelayMs() }
        let nominal = [100, 200, 400, 800, 1000, 1000, 1000, 1000]
        for (d, n) in zip(delays, nominal) {
            XCTAssertLessThanOrEqual(d, n)
            XCTAssertGreaterThanOrEqual(d, n * 8 / 10)
        }
        XCTAssertEqual(b.failures, 8)
        b.reset()
        XCTAssertLessThanOrEqual(b.nextDelayMs(), 100)
        var exact = ReconnectBackoff(BackoffConfig(initialMs: 50, maximumMs: 300, jitter: 0))
        XCTAssertEqual((0..<5).map { _ in exact.nextDelayMs() }, [50, 100, 200, 300, 300])
    }

    func testTheUplinkKeepsUploadsWhileTheCloudIsAwayAndReconnects() throws {
        let port = try TCPListener(address: TCPAddress(host: "127.0.0.1", port: 0)).port
        var config = UplinkConfig(address: TCPAddress(host: "127.0.0.1", port: port))
        config.backoff = BackoffConfig(initialMs: 20, maximumMs: 80, jitter: 0)
        config.maxQueuedUploads = 3
        let uplink = CloudUplink(config)
        let hello = CloudMessage.hello(deviceID: "d", session: 1, modelSHA256: [], version: 0, highestAccepted: 0)
        var retries: [Int] = []
        for s: UInt64 in 0..<5 { uplink.upload(sequence: s, batch: [UInt8(s)]) }
        let start = Date()
        while retries.count < 4 && Date().timeIntervalSince(start) < 3 {
            for e in uplink.poll(waitMs: 5, hello: hello) { if case .unavailable(_, let ms) = e { retries.append(ms) } }
        }
        XCTAssertEqual(retries, [20, 40, 80, 80], "exponential back-off, capped")
        XCTAssertEqual(uplink.statistics.uploadsDropped, 2)
        XCTAssertEqual(uplink.queuedUploads, 3)

        // The cloud comes up on that port: the hello, then the three kept uploads, in order.
        let listener = try TCPListener(address: TCPAddress(host: "127.0.0.1", port: port))
        var server: TCPLink?
        var received: [CloudMessage] = []
        let deadline = Date().addingTimeInterval(3)
        while received.count < 4 && Date() < deadline {
            _ = uplink.poll(waitMs: 1, hello: hello)
            if server == nil, let c = try listener.accept(timeoutMs: 0) {
                server = TCPLink(connection: c, codec: try FrameCodec(tcpFrameConfiguration(firstMessageID: 500)))
            }
            for e in try server?.step(waitMs: 1) ?? [] {
                if case .delivered(_, let m) = e { received.append(try CloudMessage.decode(m)) }
            }
        }
        XCTAssertEqual(received, [hello, .upload(sequence: 2, batch: [2]), .upload(sequence: 3, batch: [3]), .upload(sequence: 4, batch: [4])])
        for _ in 0..<20 { _ = uplink.poll(waitMs: 1, hello: hello); _ = try server?.step(waitMs: 1) }
        XCTAssertTrue(uplink.isConnected)
        XCTAssertEqual(uplink.queuedUploads, 0, "acknowledged uploads leave the queue")
        XCTAssertEqual(uplink.statistics.connects, 1)
    }
}

extension SerialPatchService {
    /// One non-blocking step of a TCP link (the test's stand-in for edge-agent serve --listen).
    func serve(_ link: inout TCPLink) throws {
        for event in try link.step(waitMs: 0) {
            guard case .delivered(_, let message) = event else { continue }
            try link.codec.send(handle(message).encoded(request: message))
        }
    }
}
