// `cema serve`'s engine on loopback with a board's uplink in the same process: uploads go up, signed
// patches come back and are installed through the board's PatchStore; a dropped connection is re-opened
// and the cloud re-bases its next patch on the version the board reports; a board with another model is
// turned away with the reason.
@testable import CloudTrainer
import EdgeRuntime
import Foundation
import Simulation
import XCTest

final class CloudServiceTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let key = PatchSigningKey(seedForTests: (0..<32).map { UInt8($0 * 3 + 5) })

    func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.repository.appendingPathComponent(relative)))
    }

    /// A board: the shipped edge model restored from a fresh store, its verifier and its uplink.
    final class Board {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloud-\(UUID().uuidString)").path
        let model: Model
        let store: PatchStore
        let service: SerialPatchService
        let uplink: CloudUplink
        var sequence: UInt64 = 0
        var session: UInt64 = 1
        /// Claims another model in the hello.
        var claimedSHA256: [UInt8]?

        init(modelBytes: [UInt8], publicKey: [UInt8], port: UInt16) throws {
            model = try Model(bytes: modelBytes)
            store = try PatchStore(directory: dir)
            _ = try store.restore(model)
            service = SerialPatchService(store: store, verifier: try SignatureVerifier(publicKey: publicKey), model: model)
            var config = UplinkConfig(address: TCPAddress(host: "127.0.0.1", port: port))
            config.backoff = BackoffConfig(initialMs: 10, maximumMs: 50)
            uplink = CloudUplink(config)
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        var hello: CloudMessage {
            .hello(deviceID: "board-1", session: session, modelSHA256: claimedSHA256 ?? model.modelSHA256, version: model.version,
                   highestAccepted: store.highestAccepted)
        }

        func upload(_ frames: [[UInt8]]) {
            let samples = frames.map { UploadSample(dims: [1, 28, 28], pixels: $0, entropy: 0.5) }
            uplink.upload(sequence: sequence, batch: UploadEncoder.encode(deviceID: "board-1", sequence: sequence, samples: samples,
                                                                        counters: SelectionCounters())!)
            sequence += 1
        }
    }

    /// Steps both sides until the board got an answer to upload `sequence`; installs a patch it carries.
    func exchange(_ board: Board, _ cloud: CloudService, until sequence: UInt64, events: inout [UplinkEvent]) -> SerialPatchReply? {
        let deadline = Date().addingTimeInterval(30)
        var reply: SerialPatchReply?
        var answered = false
        while !answered && Date() < deadline {
            for e in board.uplink.poll(waitMs: 1, hello: board.hello) {
                events.append(e)
                switch e {
                case .patch(let s, let bytes):
                    let r = board.service.handle(bytes)
                    reply = r
                    if case .installed = r {} else { XCTFail("patch refused: \(r)") }
                    board.uplink.sendIfConnected(.patchResult(installed: r == .installed(version: board.model.version),
                                                              version: board.model.version, highestAccepted: board.store.highestAccepted, detail: ""))
                    if s >= sequence { answered = true }
                case .noPatch(let s): if s >= sequence { answered = true }
                case .refused: answered = true
                default: break
                }
            }
            cloud.step(waitMs: 1)
        }
        for _ in 0..<10 { _ = board.uplink.poll(waitMs: 1, hello: board.hello); cloud.step(waitMs: 1) }
        return reply
    }

    func testUploadsComeBackAsSignedPatchesThatTheBoardInstallsAcrossAReconnect() throws {
        let edge = try bytes("models/edge.onnx"), foundation = try bytes("models/foundation.onnx")
        let cloud = try CloudService(CloudServiceConfig(edgeModel: edge, foundationModel: foundation, signingKey: key),
                                     listenOn: TCPAddress(host: "127.0.0.1", port: 0))
        var lines: [String] = []
        cloud.log = { lines.append($0) }
        let board = try Board(modelBytes: edge, publicKey: key.publicKey, port: cloud.listener.port)
        let frames = try FashionMNIST.load(.test).prefix(96).images
        let frame = { (i: Int) in Array(frames.pixels[(i * 784)..<((i + 1) * 784)]) }
        var events: [UplinkEvent] = []

        // 40 samples: one cloud step (32), so one patch, to version 1.
        board.upload((0..<40).map(frame))
        XCTAssertEqual(exchange(board, cloud, until: 0, events: &events), .installed(version: 1), "\(lines)")
        XCTAssertEqual(board.model.version, 1)
        XCTAssertEqual(cloud.version(of: "board-1"), 1)
        XCTAssertEqual(cloud.statistics.patchesInstalled, 1)

        // 10 more: not enough for a step and the replay buffer is cold, so no patch.
        board.upload((40..<50).map(frame))
        XCTAssertNil(exchange(board, cloud, until: 1, events: &events))

        // The connection drops; the daemon restarts (new session, so its sequence numbers start again at 0).
        board.uplink.disconnect()
        board.session = 2
        board.sequence = 0
        board.upload((50..<96).map(frame))
        XCTAssertEqual(exchange(board, cloud, until: 0, events: &events), .installed(version: 2), "\(lines)")
        XCTAssertEqual(board.uplink.statistics.connects, 2)
        XCTAssertEqual(cloud.statistics.patchesSent, 2)
        XCTAssertEqual(cloud.statistics.samples, 96)

        // What the board stored survives its restart.
        let restarted = try Model(bytes: edge)
        XCTAssertEqual(try PatchStore(directory: board.dir).restore(restarted).version, 2)
    }

    func testAnInt8BoardIsAdaptedOnTheFP32ModelAndGetsPatchesNamingItsOwnFile() throws {
        let edge = try bytes("models/edge.onnx"), foundation = try bytes("models/foundation.onnx")
        let int8 = try DeployedModel.int8(edgeModel: edge, calibration: try FashionMNIST.load(.train).images, count: 64)
        var config = CloudServiceConfig(edgeModel: edge, foundationModel: foundation, signingKey: key)
        config.deployedModels = [int8]
        let cloud = try CloudService(config, listenOn: TCPAddress(host: "127.0.0.1", port: 0))
        var lines: [String] = []
        cloud.log = { lines.append($0) }
        let board = try Board(modelBytes: int8, publicKey: key.publicKey, port: cloud.listener.port)
        let frames = try FashionMNIST.load(.test).prefix(40).images
        var events: [UplinkEvent] = []
        board.upload((0..<40).map { Array(frames.pixels[($0 * 784)..<(($0 + 1) * 784)]) })
        // The board's PatchStore checks the patch names the int8 file's SHA-256, as for any patch.
        XCTAssertEqual(exchange(board, cloud, until: 0, events: &events), .installed(version: 1), "\(lines)")
        XCTAssertEqual(board.model.modelSHA256, SHA256.digest(int8))
    }

    func testABoardWithAnotherModelIsTurnedAwayWithTheReason() throws {
        let edge = try bytes("models/edge.onnx"), foundation = try bytes("models/foundation.onnx")
        let cloud = try CloudService(CloudServiceConfig(edgeModel: edge, foundationModel: foundation, signingKey: key),
                                     listenOn: TCPAddress(host: "127.0.0.1", port: 0))
        cloud.log = { _ in }
        let board = try Board(modelBytes: edge, publicKey: key.publicKey, port: cloud.listener.port)
        board.claimedSHA256 = SHA256.digest(Array("another model".utf8))
        board.upload([])
        var events: [UplinkEvent] = []
        _ = exchange(board, cloud, until: 0, events: &events)
        let reasons = events.compactMap { e -> String? in if case .refused(let r) = e { return r }; return nil }
        XCTAssertEqual(reasons.count, 1, "\(events)")
        XCTAssertTrue(reasons.first?.contains("this cloud adapts model") ?? false, "\(reasons)")
        XCTAssertGreaterThanOrEqual(cloud.statistics.refusedDevices, 1)
        XCTAssertFalse(board.uplink.isConnected)
    }
}

extension PatchSigningKey {
    init(seedForTests seed: [UInt8]) { try! self.init(seed: seed) }
}
