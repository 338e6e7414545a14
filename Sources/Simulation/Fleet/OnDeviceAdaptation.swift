// The on-device baselines: BN statistics of each batch, Tent, ETA and EATA. They run a TrainableModel over the
// device model's own graph (so an update is what the device then serves) with batch-statistics BN, as Tent
// and EATA do, and count as on-device training whenever they run a backward pass.
import CloudTrainer
import EdgeRuntime

public struct OnDeviceConfig: Sendable {
    /// SGD on the norm affine parameters (Tent / EATA on ImageNet: 2.5e-4, momentum 0.9, batch 64).
    public var learningRate: Float = 2.5e-4
    public var momentum: Float = 0.9
    /// ETA/EATA reliability margin E_0 = fraction * ln C (EATA: 0.4).
    public var marginFraction: Float = 0.4
    /// ETA/EATA redundancy: drop when |cos(p, m)| >= epsilon. 1 keeps every reliable sample.
    public var redundancyEpsilon: Float = 1.0
    /// EATA: Fisher penalty weight and the number of clean images its Fisher information is estimated on.
    public var fisherAlpha: Float = 2000
    public var fisherSamples = 2000
    public init() {}
}

final class OnDeviceAdaptation {
    let method: Method
    let config: OnDeviceConfig
    let model: TrainableModel
    let classes: Int
    private var sgd: SGD
    private var selector: SampleSelector
    /// EATA: diagonal Fisher and the source values, per parameter.
    private var fisher: [String: [Float]] = [:]
    private var anchor: [String: [Float]] = [:]
    private var input: [Float]

    init(method: Method, graph: Graph, batch: Int, config: OnDeviceConfig, fisherImages: IDXImages?) throws {
        self.method = method
        self.config = config
        model = try TrainableModel(graph: graph, batch: batch, bnMode: .batchStatistics)
        classes = model.outputShape[1]
        sgd = SGD(learningRate: config.learningRate, momentum: config.momentum)
        var rule = SelectorConfig()
        rule.eMaxFraction = config.marginFraction
        rule.eMinFraction = 0
        rule.warmupBatches = Int.max  // EATA's margin is static
        rule.redundancyFilter = config.redundancyEpsilon < 1
        rule.redundancyEpsilon = config.redundancyEpsilon
        selector = SampleSelector(classes: classes, config: rule)
        input = [Float](repeating: 0, count: model.inputCount)
        if method == .eata, let fisherImages { try estimateFisher(fisherImages, batch: batch) }
    }

    /// Serves one batch and adapts on it. Returns the logits the predictions come from (those of the
    /// forward before the update, as Tent and EATA return) and whether a backward pass ran.
    func step(_ pixels: ArraySlice<UInt8>) throws -> (logits: [Float], backward: Bool) {
        fill(pixels)
        let logits = forwardInput()
        if method == .bnStats { return (logits, false) }
        let batch = model.batch
        var gradient: [Float]
        if method == .tent {
            gradient = try Losses.entropy(logits: logits, classes: classes).gradient
        } else {
            var selected: [Bool] = [], entropy: [Float] = []
            logits.withUnsafeBufferPointer { selector.select(logits: $0.baseAddress!, count: batch, selected: &selected, entropy: &entropy) }
            let kept = selected.filter { $0 }.count
            if kept == 0 { return (logits, false) }
            // EATA's loss is the mean over the selected samples only: rescale the all-rows mean, zero the rest.
            gradient = try Losses.weightedEntropy(logits: logits, classes: classes, margin: selector.eMax0).gradient
            let scale = Float(batch) / Float(kept)
            for i in 0..<batch {
                for c in 0..<classes { gradient[i * classes + c] = selected[i] ? gradient[i * classes + c] * scale : 0 }
            }
        }
        gradient.withUnsafeBufferPointer { model.backward(dLogits: $0.baseAddress!) }
        if method == .eata { addFisherPenalty() }
        sgd.step(model)
        return (logits, true)
    }

    private func forwardInput() -> [Float] {
        input.withUnsafeBufferPointer { Array(model.forward($0.baseAddress!)) }
    }

    private func fill(_ pixels: ArraySlice<UInt8>) {
        for (i, p) in pixels.enumerated() { input[i] = Float(p) * (1 / 255) }
    }

    /// EATA: F_i = mean over batches of (d CE(argmax) / d theta_i)^2 on clean images, before adaptation.
    private func estimateFisher(_ images: IDXImages, batch: Int) throws {
        let n = min(config.fisherSamples, images.count) / batch * batch
        for p in model.parameters {
            fisher[p.name] = [Float](repeating: 0, count: p.count)
            anchor[p.name] = Array(p.values)
        }
        let batches = n / batch
        for b in 0..<batches {
            fill(images.pixels[(b * batch * images.pixelsPerImage)..<((b + 1) * batch * images.pixelsPerImage)])
            let logits = forwardInput()
            let ce = try Losses.pseudoLabelCrossEntropy(student: logits, teacher: logits, classes: classes,
                                                        weights: [Float](repeating: 1, count: batch))
            ce.gradient.withUnsafeBufferPointer { model.backward(dLogits: $0.baseAddress!) }
            for p in model.parameters {
                var f = fisher[p.name]!
                for i in 0..<p.count { f[i] += p.gradient[i] * p.gradient[i] / Float(batches) }
                fisher[p.name] = f
            }
        }
    }

    /// d/dtheta of alpha * sum F (theta - theta0)^2, added to the gradient of the last backward pass.
    private func addFisherPenalty() {
        for p in model.parameters {
            guard let f = fisher[p.name], let a = anchor[p.name] else { continue }
            for i in 0..<p.count { p.gradient[i] += 2 * config.fisherAlpha * f[i] * (p.values[i] - a[i]) }
        }
    }
}
