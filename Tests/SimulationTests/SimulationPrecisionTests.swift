// `cema simulate --precision int8|fp16`: the cloud adapts the fp32 file, the device runs its quantized
// (or fp16) model, patches name the file the device runs and change its outputs but never its int8 weights.
import CloudTrainer
import EdgeRuntime
import Foundation
@testable import Simulation
import XCTest

final class SimulationPrecisionTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let train: IDXImages? = try? FashionMNIST.load(.train).images

    func model(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.repository.appendingPathComponent("models/\(name).onnx")))
    }

    /// Logits of `model` on the first 64 test images.
    func logits(_ model: Model, _ test: IDXDataset) throws -> [Float] {
        let c = try BatchClassifier(model: model, name: "m", batch: 64, rows: 28, columns: 28)
        return test.images.pixels.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: c.logits($0.baseAddress!, count: 64), count: 640)) }
    }

    func testInt8DevicesTakeCloudPatchesOnTheirOwnModel() throws {
        guard let test = Fixtures.testSplit, let train = Self.train else { throw Fixtures.MissingData() }
        let edge = try model("edge")
        let int8 = try DeployedModel.int8(edgeModel: edge, calibration: train)
        var config = SimulationConfig()
        config.methods = [.cema]
        config.streams = [(.gaussianNoise, 5)]
        config.samples = 256
        config.precision = .int8
        let sim = try FleetSimulation(config: config, edgeModel: edge, foundationModel: try model("foundation"), test: test,
                                      fisherImages: nil, deployedModel: int8)
        let fleet = try Fleet(sim, .cema)
        XCTAssertEqual(fleet.cloud[0].modelSHA256, SHA256.digest(int8), "patches name the int8 file the device runs")
        XCTAssertNotEqual(fleet.cloud[0].modelSHA256, SHA256.digest(edge))
        let shifted = CorruptionSuite(seed: 0).corrupt(test.images, .gaussianNoise, severity: 5)
        let frames = [DeviceStream(shifted: shifted, labels: test.labels, samples: 256, batch: 64, device: 0, seed: 0, streamKey: 1)]
        let r = try fleet.run(stream: (.gaussianNoise, 5), frames: frames, randomRate: 0) { _, _, _, _ in }
        XCTAssertGreaterThan(r.patches, 0)

        let fresh = try Model(bytes: int8), adapted = fleet.devices[0].model
        XCTAssertEqual(adapted.version, UInt64(r.patches))
        XCTAssertGreaterThan(adapted.quantizedWeightNodes, 0, "the device ran the QDQ model")
        var int8Tensors = 0
        for (name, t) in fresh.graph.initializers where t.type == .int8 {
            int8Tensors += 1
            let a = adapted.graph.initializers[name]!
            XCTAssertEqual(Array(UnsafeRawBufferPointer(start: a.raw, count: a.byteCount)),
                           Array(UnsafeRawBufferPointer(start: t.raw, count: t.byteCount)), "\(name): int8 weights never change")
        }
        XCTAssertGreaterThan(int8Tensors, 0)
        // The adapted norm parameters are the cloud's fp32 edge copy's, value for value.
        for p in fleet.cloud[0].currentParameters() {
            XCTAssertEqual(adapted.graph.initializers[p.name]!.floats(), p.values, p.name)
        }
        let before = try logits(fresh, test), after = try logits(adapted, test)
        let changed = zip(before, after).filter { $0 != $1 }.count
        XCTAssertGreaterThan(changed, 320, "the patches changed the int8 model's outputs")
    }

    func testADeployedModelMustComeFromTheEdgeModel() throws {
        guard let train = Self.train else { throw Fixtures.MissingData() }
        let edge = try model("edge")
        let int8 = try DeployedModel.int8(edgeModel: edge, calibration: train, count: 64)
        XCTAssertNoThrow(try DeployedModel.checkInt8(int8, edgeModel: edge))
        // The fp32 file is no int8 model.
        XCTAssertThrowsError(try DeployedModel.checkInt8(edge, edgeModel: edge))
        // One BN value moved: not made from this edge model, so the cloud must not address patches to it.
        var graph = try ModelLoader.load(bytes: int8)
        let name = try XCTUnwrap(NormParameters.layers(of: graph).first?.parameterNames.first)
        let t = graph.initializers[name]!
        let moved = Tensor(shape: t.shape, floats: t.floats().map { $0 + 0.25 })
        graph.initializers[name] = moved
        let other = try ONNXGraphWriter.encode(graph)
        XCTAssertThrowsError(try DeployedModel.checkInt8(other, edgeModel: edge)) { error in
            XCTAssertTrue("\(error)".contains(name), "\(error)")
        }
    }

    func testPrecisionMustMatchTheFile() throws {
        guard let train = Self.train else { throw Fixtures.MissingData() }
        let edge = try Model(bytes: try model("edge"))
        let int8 = try Model(bytes: try DeployedModel.int8(edgeModel: try model("edge"), calibration: train, count: 32))
        XCTAssertEqual(edge.nativePrecision, .fp32)
        XCTAssertEqual(int8.nativePrecision, .int8)
        XCTAssertThrowsError(try edge.forDevice(.int8))
        XCTAssertThrowsError(try int8.forDevice(.fp16))
        XCTAssertThrowsError(try int8.forDevice(.fp32))
        let half = try edge.forDevice(.fp16)
        XCTAssertEqual(half.modelSHA256, edge.modelSHA256, "fp16 keeps the identity of the file it was loaded from")
        XCTAssertTrue(half.graph.initializers.values.contains { $0.type == .float16 })
        XCTAssertThrowsError(try DevicePrecision(parsing: "int4"))
    }

    func testOnDeviceMethodsAreRefusedBelowFP32() throws {
        guard let test = Fixtures.testSplit else { throw Fixtures.MissingData() }
        var config = SimulationConfig()
        config.methods = [.source, .tent]
        config.precision = .fp16
        XCTAssertThrowsError(try FleetSimulation(config: config, edgeModel: try model("edge"), foundationModel: [], test: test,
                                                 fisherImages: nil))
    }
}
