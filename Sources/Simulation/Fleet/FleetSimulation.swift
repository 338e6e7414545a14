// `cema simulate`'s engine: a fleet of EdgeDevices on FMNIST-C streams, each method in turn, with the cloud
// (one CloudAdapter per device) reached only through encoded UploadBatch and ParameterPatch bytes.
import CloudTrainer
import EdgeRuntime
import Foundation

public struct SimulationConfig {
    public var methods: [Method] = [.cema, .source, .uploadAll]
    public var streams: [(Corruption, Int)] = []
    public var devices = 1
    /// Frames per device per stream (rounded down to whole batches).
    public var samples = 2000
    public var batch = 64
    public var seed: UInt64 = 0
    /// Keep models, selectors and cloud state from one stream to the next instead of starting each stream
    /// from the source models.
    public var continual = false
    public var selector = SelectorConfig()
    public var cloud = CEMAConfig()
    public var cloudSteps = CloudStepConfig()
    public var onDevice = OnDeviceConfig()
    /// Upload share of `random` when `cema` has not run on the stream.
    public var randomRate = 0.3
    /// What the devices run: the edge model in fp32, fp16 (rounded at load), or int8 (the deployed QDQ
    /// model). The cloud always adapts the fp32 file.
    public var precision: DevicePrecision = .fp32
    public init() {}
}

/// Progress after each batch index (all devices).
public struct SimulationProgress {
    public var method: Method
    public var stream: (Corruption, Int)
    public var streamIndex: Int
    public var streamCount: Int
    public var batch: Int
    public var batches: Int
    public var accuracy: Double
    public var uploaded: Int
}

public enum SimulationError: Error, CustomStringConvertible {
    case precision(String)

    public var description: String {
        switch self {
        case .precision(let reason): return reason
        }
    }
}

public final class FleetSimulation {
    public let config: SimulationConfig
    let edgeModel: [UInt8], foundationModel: [UInt8]
    /// The file the devices run when it is not `edgeModel` (int8: its QDQ model); patches name it.
    let deployedModel: [UInt8]?
    let test: IDXDataset
    let fisherImages: IDXImages?
    let side: Int

    public init(config: SimulationConfig, edgeModel: [UInt8], foundationModel: [UInt8], test: IDXDataset, fisherImages: IDXImages?,
                deployedModel: [UInt8]? = nil) throws(SimulationError) {
        // Tent/ETA/EATA/bn-stats train or re-estimate on the device, in fp32 only; int8 needs its QDQ file.
        if config.precision != .fp32, let m = config.methods.first(where: { $0.trainsOnDevice || $0 == .bnStats }) {
            throw .precision("--precision \(config.precision.rawValue) runs the device model forward only; \(m.rawValue) adapts on the device (fp32 only)")
        }
        if (config.precision == .int8) != (deployedModel != nil) {
            throw .precision("the int8 simulation needs its QDQ model, and only int8 takes one")
        }
        self.config = config
        self.edgeModel = edgeModel
        self.deployedModel = deployedModel
        self.foundationModel = foundationModel
        self.test = test
        self.fisherImages = fisherImages
        side = test.images.rows
    }

    /// Every method on every stream; `cema` runs first on each stream so `random` can match its budget.
    public func run(progress: (SimulationProgress) -> Void = { _ in }) throws -> [StreamResult] {
        var results: [StreamResult] = []
        let methods = config.methods.sorted { ($0 == .cema ? 0 : 1) < ($1 == .cema ? 0 : 1) }
        let suite = CorruptionSuite(seed: config.seed)
        var shiftedCache: [Int: IDXImages] = [:]
        for method in methods {
            var fleet: Fleet?
            for (k, stream) in config.streams.enumerated() {
                let shifted = shiftedCache[k] ?? suite.corrupt(test.images, stream.0, severity: stream.1)
                shiftedCache[k] = shifted
                if fleet == nil || !config.continual { fleet = try Fleet(self, method) }
                let rate = results.first { $0.method == .cema && $0.corruption == stream.0 && $0.severity == stream.1 }?.uploadShare ?? config.randomRate
                let streams = (0..<config.devices).map {
                    DeviceStream(shifted: shifted, labels: test.labels, samples: config.samples, batch: config.batch,
                                 device: $0, seed: config.seed, streamKey: UInt64(stream.0.index * 8 + stream.1))
                }
                let r = try fleet!.run(stream: stream, frames: streams, randomRate: rate) { b, batches, acc, up in
                    progress(SimulationProgress(method: method, stream: stream, streamIndex: k, streamCount: config.streams.count,
                                                batch: b, batches: batches, accuracy: acc, uploaded: up))
                }
                results.append(r)
            }
        }
        // Report order: the requested method order.
        return config.methods.flatMap { m in results.filter { $0.method == m } }
    }
}

/// The devices (and their cloud state) of one method.
final class Fleet {
    let method: Method
    let sim: FleetSimulation
    let devices: [EdgeDevice]
    let cloud: [CloudAdapter]
    var random: SeededGenerator

    init(_ sim: FleetSimulation, _ method: Method) throws {
        self.sim = sim
        self.method = method
        let c = sim.config
        devices = try (0..<c.devices).map { d in
            try EdgeDevice(id: "device-\(d)", modelBytes: sim.deployedModel ?? sim.edgeModel, precision: c.precision, batch: c.batch, side: sim.side, selector: c.selector,
                           onDevice: method.trainsOnDevice || method == .bnStats ? method : nil,
                           onDeviceConfig: c.onDevice, fisherImages: sim.fisherImages)
        }
        cloud = method.usesCloud
            ? try (0..<c.devices).map { d in
                try CloudAdapter(edgeModel: sim.edgeModel, foundationModel: sim.foundationModel, config: c.cloud, steps: c.cloudSteps,
                                 seed: c.seed &+ UInt64(d), deployedModel: sim.deployedModel)
            }
            : []
        random = SeededGenerator(seed: c.seed ^ 0x5241_4E44)
    }

    func run(stream: (Corruption, Int), frames: [DeviceStream], randomRate: Double,
             progress: (Int, Int, Double, Int) -> Void) throws -> StreamResult {
        var r = StreamResult(method: method, corruption: stream.0, severity: stream.1)
        let start = Date()
        let batch = sim.config.batch
        let batches = frames.map(\.count).min()! / batch
        let startCounters = devices.map(\.selector.counters)
        let cloudStart = cloud.map(\.records.count)
        for t in 0..<batches {
            var batchCorrect = 0, batchUploaded = 0, eMax: Double?
            for (d, device) in devices.enumerated() {
                let px = frames[d].frames(t * batch, batch)
                let (logits, backward) = try device.serve(px)
                r.forwardSamples += batch
                if backward { r.backwardSamples += batch }
                let predictions = logits.withUnsafeBufferPointer { device.classifier.predictions($0.baseAddress!, count: batch) }
                r.predictions += predictions.map { UInt8($0) }
                for (i, p) in predictions.enumerated() where p == Int(frames[d].labels[t * batch + i]) { batchCorrect += 1 }
                guard method.usesCloud else { continue }
                var chosen: [Bool] = [], entropy: [Float] = []
                logits.withUnsafeBufferPointer { device.selector.select(logits: $0.baseAddress!, count: batch, selected: &chosen, entropy: &entropy) }
                switch method {
                case .uploadAll: chosen = [Bool](repeating: true, count: batch)
                case .random: chosen = (0..<batch).map { _ in Double.random(in: 0..<1, using: &random) < randomRate }
                default: eMax = Double(device.selector.currentEMax)
                }
                // What EATA's reliability rule alone (H < E_max0, fixed) would send from the same predictions.
                r.reliableByEATARule += entropy.filter { $0 < device.selector.eMax0 }.count
                let n = chosen.filter { $0 }.count
                batchUploaded += n
                if n > 0 {
                    let bytes = try device.upload(px, chosen: chosen, entropy: entropy, side: sim.side)
                    r.bytesUp += bytes.count
                    try cloud[d].receive(upload: bytes)
                }
                if let patch = try cloud[d].finishEdgeBatch() {
                    r.bytesDown += patch.count
                    r.patches += 1
                    try device.apply(patch: patch)
                }
            }
            r.samples += batch * devices.count
            r.correct += batchCorrect
            r.uploaded += batchUploaded
            r.timeline.append(TimelinePoint(seen: r.samples, batchAccuracy: Double(batchCorrect) / Double(batch * devices.count),
                                            cumulativeAccuracy: r.accuracy,
                                            uploadRate: Double(batchUploaded) / Double(batch * devices.count), eMax: eMax))
            progress(t + 1, batches, r.accuracy, r.uploaded)
        }
        if method == .cema {
            for (d, device) in devices.enumerated() {
                let c = device.selector.counters, s = startCounters[d]
                r.excludedUnreliable += c.excludedUnreliable - s.excludedUnreliable
                r.excludedLowInformation += c.excludedLowInformation - s.excludedLowInformation
                r.excludedRedundant += c.excludedRedundant - s.excludedRedundant
            }
        }
        r.cloudSteps = zip(cloud, cloudStart).map { $0.records.count - $1 }.reduce(0, +)
        r.seconds = Date().timeIntervalSince(start)
        return r
    }
}
