// The whole loop, small: two devices, a few hundred frames of a strongly shifted stream, the shipped models.
import CloudTrainer
import EdgeRuntime
import Foundation
@testable import Simulation
import XCTest

final class FleetSimulationTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func model(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.repository.appendingPathComponent("models/\(name).onnx")))
    }

    func testCEMABeatsSourceAndCountsMatchTheSelectors() throws {
        guard let test = Fixtures.testSplit else { throw Fixtures.MissingData() }
        var config = SimulationConfig()
        config.methods = [.source, .cema]
        config.streams = [(.gaussianNoise, 5)]
        config.devices = 2
        config.samples = 640
        config.seed = 3
        let sim = try FleetSimulation(config: config, edgeModel: try model("edge"), foundationModel: try model("foundation"),
                                  test: test, fisherImages: nil)
        let results = try sim.run()
        let source = try XCTUnwrap(results.first { $0.method == .source })
        let cema = try XCTUnwrap(results.first { $0.method == .cema })
        print("FleetSimulationTests: source \(source.accuracy), cema \(cema.accuracy), uploaded \(cema.uploaded)/\(cema.samples), \(cema.patches) patches")
        XCTAssertEqual(source.samples, 1280)
        XCTAssertEqual(cema.samples, 1280)
        // Patches crossed as bytes and changed the devices' models.
        XCTAssertGreaterThan(cema.patches, 0)
        XCTAssertGreaterThan(cema.bytesDown, cema.patches * 4 * 672, "each patch carries at least every affine value in fp32")
        XCTAssertGreaterThan(cema.bytesUp, cema.uploaded * 784, "each upload carries its 784 pixels")
        XCTAssertEqual(source.bytesUp + source.bytesDown + source.backwardSamples, 0)
        XCTAssertEqual(cema.backwardSamples, 0, "CEMA's devices only run forward")
        // Every frame is either uploaded or excluded by exactly one rule.
        XCTAssertEqual(cema.uploaded + cema.excludedUnreliable + cema.excludedLowInformation + cema.excludedRedundant, cema.samples)
        XCTAssertGreaterThan(cema.uploaded, 0)
        XCTAssertLessThan(cema.uploaded, cema.samples)
        XCTAssertGreaterThan(cema.accuracy, source.accuracy + 0.03, "CEMA \(cema.accuracy) vs source \(source.accuracy)")
    }

    func testUploadCountsEqualTheSelectorCounters() throws {
        guard let test = Fixtures.testSplit else { throw Fixtures.MissingData() }
        var config = SimulationConfig()
        config.methods = [.cema]
        config.streams = [(.defocusBlur, 4)]
        config.samples = 256
        let sim = try FleetSimulation(config: config, edgeModel: try model("edge"), foundationModel: try model("foundation"),
                                  test: test, fisherImages: nil)
        let fleet = try Fleet(sim, .cema)
        let shifted = CorruptionSuite(seed: 0).corrupt(test.images, .defocusBlur, severity: 4)
        let frames = [DeviceStream(shifted: shifted, labels: test.labels, samples: 256, batch: 64, device: 0, seed: 0, streamKey: 1)]
        let r = try fleet.run(stream: (.defocusBlur, 4), frames: frames, randomRate: 0) { _, _, _, _ in }
        let counters = fleet.devices[0].selector.counters
        XCTAssertEqual(counters.seen, 256)
        XCTAssertEqual(counters.selected, r.uploaded)
        XCTAssertEqual(counters.excludedUnreliable, r.excludedUnreliable)
        XCTAssertEqual(counters.excludedLowInformation, r.excludedLowInformation)
        XCTAssertEqual(fleet.cloud[0].replay.total, r.uploaded, "the cloud received exactly the uploaded frames")
    }
}
