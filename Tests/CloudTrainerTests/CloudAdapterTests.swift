// CEMA's cloud step on a real shifted stream: gaussian_noise at severity 5 (FMNIST-C), the shipped models.
@testable import CloudTrainer
import EdgeRuntime
import Foundation
import Simulation
import XCTest

final class CloudAdapterTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.repository.appendingPathComponent(relative)))
    }

    /// 50 cloud steps (25 uploads of 64 frames) lower the distillation loss and raise the edge model's
    /// accuracy, with the patches applied on a device copy, on 1,000 held-back frames of the same stream.
    func testFiftyStepsLowerTheLossAndRaiseHeldBackAccuracy() throws {
        let test = try FashionMNIST.load(.test)
        let shifted = CorruptionSuite(seed: 0).corrupt(test.prefix(2600).images, .gaussianNoise, severity: 5)
        let edge = try bytes("models/edge.onnx"), foundation = try bytes("models/foundation.onnx")
        let cloud = try CloudAdapter(edgeModel: edge, foundationModel: foundation, seed: 1)
        let device = try Model(bytes: edge)
        let heldBack = 1600..<2600
        func heldBackAccuracy() throws -> Double {
            let session = try device.prepare(batch: 100)
            var correct = 0
            for first in stride(from: heldBack.lowerBound, to: heldBack.upperBound, by: 100) {
                let x = (0..<(100 * 784)).map { Float(shifted.pixels[first * 784 + $0]) / 255 }
                let logits = try session.run([Tensor(shape: [100, 1, 28, 28], floats: x)])[0].floats()
                for i in 0..<100 {
                    let row = logits[(i * 10)..<((i + 1) * 10)]
                    if row.firstIndex(of: row.max()!)! - i * 10 == Int(test.labels.labels[first + i]) { correct += 1 }
                }
            }
            return Double(correct) / Double(heldBack.count)
        }
        let before = try heldBackAccuracy()
        var counters = SelectionCounters()
        for b in 0..<25 {
            let samples = (0..<64).map { i in
                UploadSample(dims: [1, 28, 28], pixels: Array(shifted.pixels[((b * 64 + i) * 784)..<((b * 64 + i + 1) * 784)]), entropy: 0)
            }
            counters.seen += 64
            counters.selected += 64
            let upload = try XCTUnwrap(UploadEncoder.encode(deviceID: "d0", sequence: UInt64(b), samples: samples, counters: counters))
            XCTAssertEqual(try cloud.receive(upload: upload), 64)
            let patch = try XCTUnwrap(try cloud.finishEdgeBatch(), "every batch with uploads ends in a patch")
            try device.apply(try PatchDecoder.decode(bytes: patch))
        }
        XCTAssertEqual(cloud.records.count, 50)
        XCTAssertEqual(device.version, 25)
        XCTAssertEqual(cloud.replay.count, 1600)
        // From the fifth upload on the buffer holds 256 and every step adds 96 replayed frames; compare the
        // mean loss of the first and the last ten steps.
        let losses = cloud.records.map(\.distillation.total)
        let first = losses.prefix(10).reduce(0, +) / 10, last = losses.suffix(10).reduce(0, +) / 10
        XCTAssertLessThan(last, first * 0.9, "distillation loss \(first) -> \(last)")
        let after = try heldBackAccuracy()
        print("CloudAdapterTests: distillation loss \(first) -> \(last); held-back accuracy \(before) -> \(after)")
        XCTAssertGreaterThan(after, before + 0.05, "held-back accuracy \(before) -> \(after)")
    }

    /// Same seed, same uploads: the same patch bytes.
    func testDeterministicForASeed() throws {
        let test = try FashionMNIST.load(.test)
        let shifted = CorruptionSuite(seed: 0).corrupt(test.prefix(320).images, .gaussianNoise, severity: 5)
        let edge = try bytes("models/edge.onnx"), foundation = try bytes("models/foundation.onnx")
        func run() throws -> [[UInt8]] {
            var steps = CloudStepConfig()
            steps.replayMinimum = 128  // reach the replayed batches within a short run
            let cloud = try CloudAdapter(edgeModel: edge, foundationModel: foundation, steps: steps, seed: 7)
            var patches: [[UInt8]] = []
            for b in 0..<5 {
                let samples = (0..<64).map { i in
                    UploadSample(dims: [1, 28, 28], pixels: Array(shifted.pixels[((b * 64 + i) * 784)..<((b * 64 + i + 1) * 784)]), entropy: 0)
                }
                try cloud.receive(upload: UploadEncoder.encode(deviceID: "d", sequence: UInt64(b), samples: samples, counters: SelectionCounters())!)
                patches.append(try XCTUnwrap(try cloud.finishEdgeBatch()))
            }
            return patches
        }
        XCTAssertEqual(try run(), try run())
    }

    func testRejectsReplayedAndMalformedUploads() throws {
        let edge = try bytes("models/edge.onnx"), foundation = try bytes("models/foundation.onnx")
        let cloud = try CloudAdapter(edgeModel: edge, foundationModel: foundation)
        let one = [UploadSample(dims: [1, 28, 28], pixels: [UInt8](repeating: 9, count: 784), entropy: 0.5)]
        try cloud.receive(upload: UploadEncoder.encode(deviceID: "d", sequence: 4, samples: one, counters: SelectionCounters())!)
        XCTAssertThrowsError(try cloud.receive(upload: UploadEncoder.encode(deviceID: "d", sequence: 4, samples: one, counters: SelectionCounters())!))
        let wrongSize = [UploadSample(dims: [1, 10, 10], pixels: [UInt8](repeating: 0, count: 100), entropy: 0)]
        XCTAssertThrowsError(try cloud.receive(upload: UploadEncoder.encode(deviceID: "d", sequence: 5, samples: wrongSize, counters: SelectionCounters())!))
        XCTAssertThrowsError(try cloud.receive(upload: [0xFF, 0xFF, 0x01]))
        XCTAssertEqual(cloud.replay.count, 1, "nothing from a refused upload is kept")
    }

    /// A board running the fp16 file of the edge model (float16 initializers, `models/golden/edge_fp16_io32.onnx`,
    /// made by onnxconverter-common from `models/edge.onnx`): the cloud adapts the fp32 model and addresses
    /// its patches to the fp16 file, which applies them; a file with one norm value moved is refused.
    func testFP16FileDevicesTakePatchesAddressedToTheirFile() throws {
        let edge = try bytes("models/edge.onnx"), foundation = try bytes("models/foundation.onnx")
        let half = try bytes("models/golden/edge_fp16_io32.onnx")
        XCTAssertNoThrow(try CloudAdapter.checkDeployed(half, student: try ModelLoader.load(bytes: edge)))
        let cloud = try CloudAdapter(edgeModel: edge, foundationModel: foundation, seed: 3, deployedModel: half)
        XCTAssertEqual(cloud.modelSHA256, SHA256.digest(half))
        let device = try Model(bytes: half)
        XCTAssertGreaterThan(device.halfPrecisionWeights, 0)
        let before = device.graph.initializers
        let test = try FashionMNIST.load(.test)
        let shifted = CorruptionSuite(seed: 0).corrupt(test.prefix(128).images, .gaussianNoise, severity: 5)
        for b in 0..<2 {
            let samples = (0..<64).map { i in
                UploadSample(dims: [1, 28, 28], pixels: Array(shifted.pixels[((b * 64 + i) * 784)..<((b * 64 + i + 1) * 784)]), entropy: 0)
            }
            var counters = SelectionCounters()
            counters.seen = 64 * (b + 1)
            counters.selected = 64 * (b + 1)
            try cloud.receive(upload: XCTUnwrap(UploadEncoder.encode(deviceID: "h", sequence: UInt64(b), samples: samples, counters: counters)))
            try device.apply(try PatchDecoder.decode(bytes: XCTUnwrap(try cloud.finishEdgeBatch())))
        }
        XCTAssertEqual(device.version, 2)
        for p in cloud.currentParameters() {
            XCTAssertEqual(device.graph.initializers[p.name]!.floats(), p.values, "\(p.name): the cloud's fp32 values, unrounded")
        }
        // The binary16 weights are untouched.
        for (name, t) in before where t.type == .float16 {
            let a = device.graph.initializers[name]!
            XCTAssertEqual(Array(UnsafeRawBufferPointer(start: a.raw, count: a.byteCount)),
                           Array(UnsafeRawBufferPointer(start: t.raw, count: t.byteCount)), name)
        }

        var graph = try ModelLoader.load(bytes: half)
        let name = try XCTUnwrap(NormParameters.layers(of: graph).first?.parameterNames.first)
        let t = graph.initializers[name]!
        graph.initializers[name] = Tensor(type: t.type, shape: t.shape)
        XCTAssertThrowsError(try CloudAdapter.checkDeployed(try ONNXGraphWriter.encode(graph), student: try ModelLoader.load(bytes: edge))) {
            XCTAssertTrue("\($0)".contains(name), "\($0)")
        }
    }
}
