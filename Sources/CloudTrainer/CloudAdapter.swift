// One device's state in the cloud and CEMA's cloud step: uploads go to a pending queue and a FIFO replay
// buffer; every 32 new samples the foundation model takes an entropy step and the edge copy a distillation
// step on the new samples plus replayed ones; after each edge batch the device gets its new parameters.
import EdgeRuntime
import Foundation
import SwiftProtobuf

/// The cloud step's batch sizes and buffer (reference: cloud batch 32, 3 x 32 replayed once the buffer
/// holds 256, 4 x 32 replay-only, 10,000 samples kept).
public struct CloudStepConfig: Equatable {
    public var uploadBatch = 32
    public var replayedPerStep = 96
    public var replayOnlyBatch = 128
    public var replayMinimum = 256
    public var replayCapacity = 10_000
    public var patchPrecision: PatchPrecision = .fp32
    public init() {}
}

public enum CloudAdapterError: Error, CustomStringConvertible {
    case model(String, TrainerError)
    case load(String, ModelLoadError)
    case badUpload(String)
    case patch(PatchExportError)
    case config(String)
    case deployedModel(String)

    public var description: String {
        switch self {
        case .model(let which, let e): return "\(which): \(e)"
        case .load(let which, let e): return "\(which): \(e)"
        case .badUpload(let reason): return "bad upload: \(reason)"
        case .patch(let e): return "cannot export the patch: \(e)"
        case .config(let reason): return "bad cloud-step configuration: \(reason)"
        case .deployedModel(let reason): return "the device's model does not fit this cloud's edge model: \(reason)"
        }
    }
}

/// What one cloud step did, for logs and reports.
public struct CloudStepRecord {
    public var samples: Int
    public var replayed: Int
    public var foundationLoss: Float?
    public var distillation: DistillationLoss
}

public final class CloudAdapter {
    public let config: CEMAConfig
    public let steps: CloudStepConfig
    /// The device's model identity (what every patch names) and the version of the last patch sent.
    public let modelSHA256: [UInt8]
    public private(set) var version: UInt64 = 0
    public private(set) var replay: ReplayBuffer
    public private(set) var records: [CloudStepRecord] = []
    public private(set) var lastSequence: UInt64?

    let studentGraph: Graph
    let sampleBytes: Int
    private let studentNew: TrainableModel, studentMixed: TrainableModel
    private let teacherNew: TrainableModel, teacherMixed: TrainableModel
    private var studentSGD: SGD, teacherSGD: SGD
    private var rng: SplitMix64
    private var pending: [UInt8] = []
    private var stepsThisBatch = 0
    private var input: [Float]

    /// `edgeModel` is the fp32 ONNX file the cloud adapts, `foundationModel` the teacher's. Images are
    /// [1, side, side] uint8. Patches name `deployedModel` when given (the file the device really runs,
    /// e.g. its int8 QDQ model, which keeps the norm layers' initializers), else `edgeModel`.
    public init(edgeModel: [UInt8], foundationModel: [UInt8], config: CEMAConfig = CEMAConfig(),
                steps: CloudStepConfig = CloudStepConfig(), seed: UInt64 = 0,
                deployedModel: [UInt8]? = nil) throws(CloudAdapterError) {
        self.config = config
        self.steps = steps
        let student: Graph, teacher: Graph
        do {
            student = try ModelLoader.load(bytes: edgeModel)
            teacher = try ModelLoader.load(bytes: foundationModel)
        } catch { throw .load("edge or foundation model", error) }
        studentGraph = student
        modelSHA256 = SHA256.digest(deployedModel ?? edgeModel)
        if let deployedModel { try Self.checkDeployed(deployedModel, student: student) }
        let kd = steps.uploadBatch + steps.replayedPerStep
        if steps.replayOnlyBatch != kd {
            throw .config("the replay-only batch (\(steps.replayOnlyBatch)) must equal new + replayed (\(kd)): they share one prepared model")
        }
        if steps.replayMinimum < steps.replayOnlyBatch || steps.uploadBatch < 1 || steps.replayedPerStep < 0 {
            throw .config("replay starts at \(steps.replayMinimum) samples, fewer than a replay draw of \(steps.replayOnlyBatch)")
        }
        do {
            // The small batch sees the first upload, so it initialises the running statistics; the large one
            // then starts from what the graph holds.
            studentNew = try TrainableModel(graph: student, batch: steps.uploadBatch, bnMode: .batchRenormalization,
                                            statisticsMomentum: config.statisticsMomentum, runningStatistics: .fromFirstBatch)
            studentMixed = try TrainableModel(graph: student, batch: kd, bnMode: .batchRenormalization,
                                              statisticsMomentum: config.statisticsMomentum, runningStatistics: .fromGraph)
        } catch { throw .model("edge copy", error) }
        do {
            teacherNew = try TrainableModel(graph: teacher, batch: steps.uploadBatch, bnMode: .batchStatistics)
            teacherMixed = try TrainableModel(graph: teacher, batch: kd, bnMode: .batchStatistics)
        } catch { throw .model("foundation model", error) }
        sampleBytes = studentNew.inputCount / steps.uploadBatch
        replay = ReplayBuffer(capacity: steps.replayCapacity, sampleBytes: sampleBytes)
        studentSGD = .edge(config)
        teacherSGD = .foundation(config)
        rng = SplitMix64(seed: seed)
        input = [Float](repeating: 0, count: studentMixed.inputCount)
    }

    /// Takes one encoded UploadBatch: its samples join the pending queue and the replay buffer.
    /// Returns the number of samples it held.
    @discardableResult
    public func receive(upload bytes: [UInt8]) throws(CloudAdapterError) -> Int {
        let batch: Cema_UploadBatch
        do { batch = try Cema_UploadBatch(serializedBytes: bytes) } catch { throw .badUpload("not an UploadBatch: \(error)") }
        if let last = lastSequence, batch.sequence <= last {
            throw .badUpload("sequence \(batch.sequence) after \(last): replayed or out of order")
        }
        for (i, s) in batch.samples.enumerated() {
            guard s.kind == .uint8 else { throw .badUpload("sample \(i) is not uint8 pixels") }
            guard s.pixels.count == sampleBytes else {
                throw .badUpload("sample \(i) holds \(s.pixels.count) pixels, the model takes \(sampleBytes)")
            }
        }
        lastSequence = batch.sequence
        for s in batch.samples {
            let pixels = [UInt8](s.pixels)
            pending.append(contentsOf: pixels)
            replay.append(pixels)
        }
        return batch.samples.count
    }

    /// Runs the cloud steps due after an edge batch and returns the encoded patch for the device, or nil
    /// when the parameters did not change.
    public func finishEdgeBatch(createdUnixMs: UInt64 = 0) throws(CloudAdapterError) -> [UInt8]? {
        stepsThisBatch = 0
        while pending.count >= steps.uploadBatch * sampleBytes {
            let fresh = Array(pending[0..<(steps.uploadBatch * sampleBytes)])
            pending.removeFirst(steps.uploadBatch * sampleBytes)
            try step(fresh: fresh)
        }
        if stepsThisBatch == 0 && replay.count > steps.replayMinimum {
            try step(fresh: [])
        }
        guard stepsThisBatch > 0 else { return nil }
        return try exportPatch(createdUnixMs: createdUnixMs)
    }

    /// One foundation step (when there are fresh samples) and one distillation step.
    private func step(fresh: [UInt8]) throws(CloudAdapterError) {
        let n = fresh.count / sampleBytes
        let foundationLoss = n > 0 ? try foundationStep(fresh) : nil
        // Distillation batch: the fresh samples alone until the buffer is warm, then fresh + replayed.
        let replayed = n == 0 ? steps.replayOnlyBatch : (replay.count >= steps.replayMinimum ? steps.replayedPerStep : 0)
        var batch = fresh
        if replayed > 0 {
            var picked = [UInt8](repeating: 0, count: replayed * sampleBytes)
            let slots = replay.sampleSlots(replayed, using: &rng)
            picked.withUnsafeMutableBufferPointer { replay.gather(slots, into: $0.baseAddress!) }
            batch += picked
        }
        let loss = try distill(batch)
        records.append(CloudStepRecord(samples: n + replayed, replayed: replayed, foundationLoss: foundationLoss, distillation: loss))
        stepsThisBatch += 1
    }

    /// The foundation model's own step on fresh uploads: EATA-weighted entropy, batch statistics.
    public func foundationStep(_ fresh: [UInt8]) throws(CloudAdapterError) -> Float {
        fill(fresh, at: 0)
        let logits = forward(teacherNew)
        let loss: LossResult
        do { loss = try Losses.foundationEntropy(logits: logits, config: config) } catch { throw .model("foundation model", error) }
        loss.gradient.withUnsafeBufferPointer { teacherNew.backward(dLogits: $0.baseAddress!) }
        teacherSGD.step(teacherNew)
        return loss.value
    }

    /// One distillation step of the edge copy on `pixels` (a cloud batch or a full distillation batch of
    /// frames): teacher logits without gradient, student forward and backward, SGD on the norm parameters.
    public func distill(_ pixels: [UInt8]) throws(CloudAdapterError) -> DistillationLoss {
        let n = pixels.count / sampleBytes
        let (teacher, student): (TrainableModel, TrainableModel)
        switch n {
        case steps.uploadBatch: (teacher, student) = (teacherNew, studentNew)
        case studentMixed.batch: (teacher, student) = (teacherMixed, studentMixed)
        default: throw .badUpload("a distillation batch holds \(steps.uploadBatch) or \(studentMixed.batch) frames, not \(n)")
        }
        fill(pixels, at: 0)
        let teacherLogits = forward(teacher)
        let studentLogits = forward(student)
        let loss: DistillationLoss
        do { loss = try Losses.distillation(student: studentLogits, teacher: teacherLogits, config: config) } catch { throw .model("edge copy", error) }
        loss.gradient.withUnsafeBufferPointer { student.backward(dLogits: $0.baseAddress!) }
        studentSGD.step(student)
        return loss
    }

    /// Logits of `model` on the first model.batch frames of the input buffer.
    private func forward(_ model: TrainableModel) -> [Float] {
        input.withUnsafeBufferPointer { Array(model.forward($0.baseAddress!)) }
    }

    /// Pixels / 255 into the input buffer from sample position `at`.
    private func fill(_ pixels: [UInt8], at: Int) {
        let base = at * sampleBytes
        for (i, p) in pixels.enumerated() { input[base + i] = Float(p) * (1 / 255) }
    }

    /// Every normalization parameter of the edge copy (scale, bias and BN running statistics).
    public func currentParameters() -> [(name: String, dims: [Int], values: [Float])] {
        NormParameters.layers(of: studentGraph).flatMap { layer in
            layer.parameterNames.map { name in
                let t = studentGraph.initializers[name]!
                return (name: name, dims: t.shape, values: t.floats())
            }
        }
    }

    /// A deployed variant must take this cloud's patches as the device would check them (same patchable
    /// names, shapes, fp32) and hold the same norm parameters as the fp32 file: proof it was made from it.
    /// An fp16 file (float16 initializers; the device widens its norm parameters to fp32 at load) holds them
    /// rounded to binary16, so for it the comparison is with the rounded values.
    public static func checkDeployed(_ bytes: [UInt8], student: Graph) throws(CloudAdapterError) {
        let deployed: Model
        do { deployed = try Model(bytes: bytes) } catch { throw .deployedModel("\(error)") }
        let halfFile = deployed.halfPrecisionWeights > 0
        var parameters: [PatchParameter] = []
        for layer in NormParameters.layers(of: student) {
            for name in layer.parameterNames {
                let t = student.initializers[name]!
                parameters.append(PatchParameter(name: name, kind: .fp32, dims: t.shape, values: t.floats()))
                guard let d = deployed.graph.initializers[name] else { throw .deployedModel("it has no '\(name)'") }
                let expected = halfFile ? t.floats().map { Float(Float16($0)) } : t.floats()
                if d.type != .float32 || d.floats() != expected {
                    throw .deployedModel("its '\(name)' differs from the edge model's\(halfFile ? " rounded to fp16" : ""): "
                                         + "it was not made from this model")
                }
            }
        }
        if parameters.isEmpty { throw .deployedModel("the edge model has no normalization parameters to patch") }
        let dryRun = ParameterPatch(modelSHA256: deployed.modelSHA256, baseVersion: deployed.version, newVersion: deployed.version + 1,
                                    parameters: parameters, createdUnixMs: 0)
        do { try deployed.check(dryRun) } catch { throw .deployedModel("\(error)") }
    }

    private func exportPatch(createdUnixMs: UInt64) throws(CloudAdapterError) -> [UInt8] {
        do {
            let patch = try PatchExporter.makePatch(modelSHA256: modelSHA256, baseVersion: version, newVersion: version + 1,
                                                    parameters: currentParameters(), precision: steps.patchPrecision,
                                                    createdUnixMs: createdUnixMs)
            let bytes = try PatchExporter.serialize(patch)
            version += 1
            return bytes
        } catch { throw .patch(error) }
    }
}

/// SplitMix64: small, seedable, reproducible across platforms (replay draws must not depend on the OS).
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
