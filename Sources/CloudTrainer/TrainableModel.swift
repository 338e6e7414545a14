// A Graph prepared for training at one batch size: forward to logits, backward from dL/dlogits to the
// gradient of every normalization layer's scale and bias. Parameters live in the Graph's own initializer
// buffers, so an optimiser step (and BN running-statistics updates) are seen by every holder of that Graph.
import EdgeRuntime

/// One trainable tensor: its values (the Graph's initializer buffer) and its gradient from the last
/// backward pass.
public struct TrainableParameter {
    public let name: String
    public let count: Int
    public let values: UnsafeMutableBufferPointer<Float>
    public let gradient: UnsafeMutableBufferPointer<Float>
}

public final class TrainableModel {
    public let graph: Graph
    public let batch: Int
    public let bnMode: BNMode
    /// Shapes of the input (batch first) and of the logits.
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// Trainable parameters (scale, bias of each normalization layer, graph order).
    public let parameters: [TrainableParameter]
    private let compiled: CompiledTrainingGraph

    /// - Parameters:
    ///   - statisticsMomentum: BN running-statistics momentum (batchRenormalization only).
    ///   - runningStatistics: where batchRenormalization's running statistics start.
    public init(graph: Graph, batch: Int, bnMode: BNMode,
                statisticsMomentum: Float = CEMAConfig().statisticsMomentum,
                runningStatistics: RunningStatisticsStart = .fromFirstBatch) throws(TrainerError) {
        self.graph = graph
        self.batch = batch
        self.bnMode = bnMode
        compiled = try TrainingGraph.compile(graph, batch: batch,
                                             options: TrainingOptions(bnMode: bnMode, statisticsMomentum: statisticsMomentum,
                                                                      runningStatistics: runningStatistics))
        inputShape = compiled.input.shape
        outputShape = compiled.output.shape
        parameters = compiled.parameters.map { slot in
            TrainableParameter(name: slot.name, count: slot.count,
                               values: UnsafeMutableBufferPointer(start: slot.data, count: slot.count),
                               gradient: UnsafeMutableBufferPointer(start: slot.grad!, count: slot.count))
        }
    }

    public var inputCount: Int { compiled.input.count }
    public var outputCount: Int { compiled.output.count }
    /// Number of steps the backward pass runs (steps before the first normalization layer are skipped).
    public var backwardStepCount: Int { compiled.backwardSteps.count }

    /// Runs the graph on `input` (inputCount floats). batchRenormalization moves the running statistics
    /// toward this batch's unless `updatingRunningStatistics` is false (what a gradient check needs).
    /// The returned logits stay valid until the next forward.
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, updatingRunningStatistics: Bool = true) -> UnsafeBufferPointer<Float> {
        for bn in compiled.batchNorms { bn.updatesStatistics = updatingRunningStatistics }
        compiled.input.data.update(from: input, count: compiled.input.count)
        for step in compiled.steps { step.forward() }
        return UnsafeBufferPointer(start: compiled.output.data, count: compiled.output.count)
    }

    public func forward(_ input: [Float], updatingRunningStatistics: Bool = true) throws(TrainerError) -> [Float] {
        if input.count != inputCount { throw .lengthMismatch(what: "input", expected: inputCount, got: input.count) }
        return input.withUnsafeBufferPointer { Array(forward($0.baseAddress!, updatingRunningStatistics: updatingRunningStatistics)) }
    }

    /// Backward pass for the last forward: dLogits (outputCount floats) = dL/dlogits. Afterwards each
    /// parameter's `gradient` holds dL/dparameter (overwritten, not accumulated across calls).
    public func backward(dLogits: UnsafePointer<Float>) {
        for p in parameters { p.gradient.update(repeating: 0) }
        guard let g = compiled.output.grad else { return }  // no normalization layer reaches the output
        g.update(from: dLogits, count: compiled.output.count)
        for step in compiled.backwardSteps { step.backward() }
    }

    public func backward(dLogits: [Float]) throws(TrainerError) {
        if dLogits.count != outputCount { throw .lengthMismatch(what: "dLogits", expected: outputCount, got: dLogits.count) }
        dLogits.withUnsafeBufferPointer { backward(dLogits: $0.baseAddress!) }
    }

    /// Gradients of the last backward pass, keyed by initializer name.
    public var normGradients: [String: [Float]] {
        var out: [String: [Float]] = [:]
        for p in parameters { out[p.name] = Array(p.gradient) }
        return out
    }

    public func parameter(named name: String) throws(TrainerError) -> TrainableParameter {
        guard let p = parameters.first(where: { $0.name == name }) else { throw .unknownParameter(name: name) }
        return p
    }

    /// Gradient checks: hold every BN's renormalization constants r, d at their last values (internal).
    func freezeRenormalization(_ frozen: Bool) {
        for bn in compiled.batchNorms { bn.freezesRenormalization = frozen }
    }

    /// batchRenormalization: forget the running statistics so the next training batch initialises them.
    public func resetRunningStatistics() {
        for bn in compiled.batchNorms { bn.statisticsInitialized = false }
    }
}
