// `cema simulate`: the whole CEMA loop on FMNIST-C streams for a fleet of simulated devices, against its
// baselines, with a Markdown + SVG report.
import ArgumentParser
import CloudTrainer
import EdgeRuntime
import Foundation
import Simulation

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run CEMA and its baselines on FMNIST-C streams: accuracy, uploads, bytes up and down, device compute.",
        discussion: "Each device serves its own shuffled copy of the stream with the edge model (EdgeRuntime, forward only for "
            + "CEMA), uploads the samples its SampleSelector picks as encoded UploadBatch bytes, and applies the ParameterPatch "
            + "bytes the cloud sends back after every batch. Methods: \(Method.allCases.map(\.rawValue).joined(separator: ", ")). "
            + "Each stream starts from the source models unless --continual.")

    @Option(help: "Comma-separated methods, or 'all'.") var method = "cema,source,upload-all"
    @Option(help: "A corruption, a comma-separated list, or 'all'.") var corruption = "gaussian_noise,defocus_blur,fog"
    @Option(help: "Severity 1-5 (or a comma-separated list).") var severity = "5"
    @Option(help: "Simulated devices (each with its own cloud state).") var devices = 1
    @Option(help: "Frames per device per stream (rounded down to whole batches; at most the data set).") var samples = 2000
    @Option(help: "Seed of the corruptions, the stream orders and the replay draws.") var seed: UInt64 = 0
    @Option(help: "Edge model.") var edge = "models/edge.onnx"
    @Option(help: "Foundation (teacher) model.") var foundation = "models/foundation.onnx"
    @Option(help: "IDX images of the stream (default: Fashion-MNIST t10k).") var images: String?
    @Option(help: "IDX labels matching --images.") var labels: String?
    @Flag(help: "Keep adapted models and cloud state across streams.") var continual = false
    @Option(help: "Write report.md and SVG plots into this directory.") var report: String?
    @Option(help: "Kernel threads (0: all cores).") var threads = 0
    @Option(help: "What the devices run: fp32, fp16 (weights stored as binary16, fp32 arithmetic) or int8 (a QDQ model; the cloud adapts the fp32 --edge and addresses its patches to the int8 file).")
    var precision = "fp32"
    @Option(help: "With --precision int8: this QDQ file of --edge (cema quantize) instead of quantizing in-process (min-max, the first 512 clean training images).")
    var int8Model: String?
    @Option(help: "Write every frame's top-1 class here: one line per method and stream, 'METHOD STREAM SEVERITY c0 c1 ...' (frame-by-frame agreement between runs).")
    var predictions: String?

    // Edge selection (SampleSelector).
    @Option(help: "Edge batch size.") var batch = 64
    @Option(help: "E_max0 as a fraction of ln C.") var eMax = SelectorConfig().eMaxFraction
    @Option(help: "E_min as a fraction of ln C (0: off).") var eMin = SelectorConfig().eMinFraction
    @Option(help: "Batches before the dynamic threshold starts.") var warmupBatches = SelectorConfig().warmupBatches
    @Option(help: "lambda of E_max(t) = lambda E_max0 mean_t / mean_0.") var lambda = SelectorConfig().lambda
    @Option(help: "Redundancy filter epsilon for CEMA's selector (1 or more: off).") var redundancyEpsilon: Float = 1

    // Cloud step (CloudTrainer).
    @Option(help: "Entropy-term coefficient alpha.") var alpha = CEMAConfig().entropyCoefficient
    @Option(help: "KL-term coefficient beta.") var beta = CEMAConfig().klCoefficient
    @Option(help: "Pseudo-label CE coefficient gamma.") var gamma = CEMAConfig().pseudoLabelCoefficient
    @Option(help: "Distillation temperature.") var temperature = CEMAConfig().temperature
    @Option(help: "Edge-copy SGD learning rate.") var edgeLr = CEMAConfig().edgeLearningRate
    @Option(help: "Foundation SGD learning rate.") var foundationLr = CEMAConfig().foundationLearningRate
    @Option(help: "SGD momentum (cloud and device).") var momentum = CEMAConfig().momentum
    @Option(help: "BN running-statistics momentum of the edge copy.") var statisticsMomentum = CEMAConfig().statisticsMomentum
    @Option(help: "New samples per cloud step.") var cloudBatch = CloudStepConfig().uploadBatch
    @Option(help: "Replayed samples added to each cloud step.") var replayed = CloudStepConfig().replayedPerStep
    @Option(help: "Replay buffer capacity (samples).") var replayCapacity = CloudStepConfig().replayCapacity
    @Option(help: "Samples the buffer must hold before replay starts.") var replayMinimum = CloudStepConfig().replayMinimum
    @Option(help: "Patch element type: fp32 or fp16.") var patchPrecision = "fp32"

    // On-device baselines.
    @Option(help: "Tent/ETA/EATA learning rate.") var deviceLr = OnDeviceConfig().learningRate
    @Option(help: "ETA/EATA redundancy epsilon (1: off).") var etaEpsilon = OnDeviceConfig().redundancyEpsilon
    @Option(help: "EATA Fisher penalty weight.") var fisherAlpha = OnDeviceConfig().fisherAlpha
    @Option(help: "Upload share of 'random' when 'cema' is not run on the stream.") var randomRate = 0.3

    func run() throws {
        if (images == nil) != (labels == nil) { fail("--images and --labels go together") }
        if devices < 1 || samples < 1 || batch < 1 { fail("--devices, --samples and --batch must be positive") }
        RuntimeThreads.set(threads)
        var config = SimulationConfig()
        config.methods = method == "all" ? Method.allCases : method.split(separator: ",").map { name in
            guard let m = Method(rawValue: String(name)) else { fail("unknown method '\(name)'; one of: \(Method.allCases.map(\.rawValue).joined(separator: ", ")), all") }
            return m
        }
        config.streams = parseCorruptions(corruption).flatMap { c in parseSeverities(severity).map { (c, $0) } }
        config.devices = devices
        config.samples = samples
        config.batch = batch
        config.seed = seed
        config.continual = continual
        config.selector.eMaxFraction = eMax
        config.selector.eMinFraction = eMin
        config.selector.warmupBatches = warmupBatches
        config.selector.lambda = lambda
        config.selector.redundancyFilter = redundancyEpsilon < 1
        config.selector.redundancyEpsilon = redundancyEpsilon
        config.cloud.entropyCoefficient = alpha
        config.cloud.klCoefficient = beta
        config.cloud.pseudoLabelCoefficient = gamma
        config.cloud.temperature = temperature
        config.cloud.edgeLearningRate = edgeLr
        config.cloud.foundationLearningRate = foundationLr
        config.cloud.momentum = momentum
        config.cloud.statisticsMomentum = statisticsMomentum
        config.cloudSteps.uploadBatch = cloudBatch
        config.cloudSteps.replayedPerStep = replayed
        config.cloudSteps.replayOnlyBatch = cloudBatch + replayed
        config.cloudSteps.replayCapacity = replayCapacity
        config.cloudSteps.replayMinimum = replayMinimum
        guard let patchKind = PatchPrecision(rawValue: patchPrecision) else { fail("--patch-precision is fp32 or fp16") }
        config.cloudSteps.patchPrecision = patchKind
        config.onDevice.learningRate = deviceLr
        config.onDevice.momentum = momentum
        config.onDevice.redundancyEpsilon = etaEpsilon
        config.onDevice.fisherAlpha = fisherAlpha
        config.randomRate = randomRate

        let test: IDXDataset
        do {
            test = try images.map { try IDXDataset.load(images: $0, labels: labels!) } ?? FashionMNIST.load(.test)
            try test.requireImageSize(rows: Corruption.imageSide, columns: Corruption.imageSide)
        } catch { fail("\(error)") }
        var fisher: IDXImages?
        if config.methods.contains(.eata) {
            do { fisher = try FashionMNIST.load(.train).images } catch { fail("EATA's Fisher information needs the clean training split: \(error)") }
        }
        do { config.precision = try DevicePrecision(parsing: precision) } catch { fail("\(error)") }
        if int8Model != nil && config.precision != .int8 { fail("--int8-model goes with --precision int8") }
        let edgeBytes = readBytes(edge), foundationBytes = readBytes(foundation)
        let (deployed, deployedNote) = deployedModel(config.precision, edgeBytes)
        let simulation: FleetSimulation
        do {
            simulation = try FleetSimulation(config: config, edgeModel: edgeBytes, foundationModel: foundationBytes, test: test,
                                             fisherImages: fisher, deployedModel: deployed)
        } catch { fail("\(error)") }
        let interactive = isatty(2) != 0
        let start = Date()
        print("simulate: \(config.methods.map(\.rawValue).joined(separator: ", ")) on \(config.streams.count) stream(s), "
            + "\(devices) device(s) x \(samples / batch * batch) frames, seed \(seed)")
        print("simulate: device precision \(deployedNote)")
        let results: [StreamResult]
        do {
            results = try simulation.run { p in
                let line = String(format: "%@ %@ s%d (%d/%d) batch %d/%d  acc %.1f%%  uploads %d",
                                  p.method.rawValue, p.stream.0.rawValue, p.stream.1, p.streamIndex + 1, p.streamCount, p.batch, p.batches,
                                  p.accuracy * 100, p.uploaded)
                if interactive {
                    FileHandle.standardError.write(("\r" + line + "\u{1B}[K" + (p.batch == p.batches ? "\n" : "")).data(using: .utf8)!)
                } else if p.batch == p.batches {
                    FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
                }
            }
        } catch { fail("\(error)") }
        let summary = SimulationReport(results: results, preamble: [
            "command: `cema simulate \(CommandLine.arguments.dropFirst(2).joined(separator: " "))`",
            "edge model `\(edge)`, foundation model `\(foundation)`; \(devices) device(s), \(samples / batch * batch) frames each per stream, batch \(batch), seed \(seed)",
            "device precision: \(deployedNote)",
            String(format: "wall time %.1f s", Date().timeIntervalSince(start)),
        ])
        print(summary.summaryTable())
        for m in config.methods {
            let rs = results.filter { $0.method == m }
            let correct = rs.map(\.correct).reduce(0, +), total = rs.map(\.samples).reduce(0, +)
            let mean = rs.map(\.accuracy).reduce(0, +) / Double(max(rs.count, 1))
            print(String(format: "%@: %d / %d frames correct, mean over %d stream(s) %.2f%%", m.rawValue, correct, total, rs.count, mean * 100))
        }
        print(String(format: "wall time: %.1f s", Date().timeIntervalSince(start)))
        if let predictions {
            let text = results.map { r in "\(r.method.rawValue) \(r.corruption.rawValue) \(r.severity) " + r.predictions.map { String($0) }.joined(separator: " ") + "\n" }.joined()
            guard FileManager.default.createFile(atPath: predictions, contents: Data(text.utf8)) else { fail("cannot write \(predictions)") }
        }
        if let dir = report {
            do { print("report: \(try summary.write(to: dir))") } catch { fail("cannot write the report to \(dir): \(error)") }
        }
    }

    /// The QDQ file int8 devices run (nil for fp32/fp16, which load --edge itself) and a line saying what
    /// the devices run and which model identity the patches name.
    func deployedModel(_ p: DevicePrecision, _ edgeBytes: [UInt8]) -> ([UInt8]?, String) {
        let edgeID = String(SHA256.hex(SHA256.digest(edgeBytes)).prefix(16))
        switch p {
        case .fp32: return (nil, "fp32; patches name \(edge) (sha256 \(edgeID)...)")
        case .fp16: return (nil, "fp16 (weights stored as binary16, fp32 arithmetic); patches name \(edge) (sha256 \(edgeID)...), the file the devices load")
        case .int8:
            let bytes: [UInt8], source: String
            if let int8Model {
                bytes = readBytes(int8Model)
                do { try DeployedModel.checkInt8(bytes, edgeModel: edgeBytes) } catch { fail("\(int8Model): \(error)") }
                source = int8Model
            } else {
                let train: IDXImages
                do { train = try FashionMNIST.load(.train).images } catch { fail("int8 calibration needs the clean training split: \(error)") }
                do { bytes = try DeployedModel.int8(edgeModel: edgeBytes, calibration: train) } catch { fail("cannot quantize \(edge): \(error)") }
                source = "\(edge) quantized in-process (min-max, first \(DeployedModel.calibrationImages) clean training images)"
            }
            return (bytes, "int8 QDQ model, \(source); the cloud adapts the fp32 \(edge) and its patches name the int8 file (sha256 \(String(SHA256.hex(SHA256.digest(bytes)).prefix(16)))...)")
        }
    }

    func readBytes(_ path: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
        return [UInt8](data)
    }
}
