// Stochastic gradient descent with momentum, PyTorch semantics (dampening 0, no weight decay, no Nesterov):
// buf = momentum * buf + g (buf = g on the first step); p -= lr * buf.

public struct SGD {
    public var learningRate: Float
    public var momentum: Float
    /// Momentum buffer per parameter name.
    private var buffers: [String: [Float]] = [:]

    public init(learningRate: Float, momentum: Float) {
        self.learningRate = learningRate
        self.momentum = momentum
    }

    /// The edge-copy optimiser of CEMA's cloud step.
    public static func edge(_ config: CEMAConfig = CEMAConfig()) -> SGD {
        SGD(learningRate: config.edgeLearningRate, momentum: config.momentum)
    }

    /// The foundation-model optimiser of CEMA's cloud step.
    public static func foundation(_ config: CEMAConfig = CEMAConfig()) -> SGD {
        SGD(learningRate: config.foundationLearningRate, momentum: config.momentum)
    }

    /// One update of `values` in place from `gradient`, with the momentum buffer kept under `name`.
    public mutating func step(name: String, values: UnsafeMutableBufferPointer<Float>,
                              gradient: UnsafeBufferPointer<Float>) throws(TrainerError) {
        if gradient.count != values.count {
            throw .lengthMismatch(what: "gradient of \(name)", expected: values.count, got: gradient.count)
        }
        let lr = learningRate, m = momentum
        if var buf = buffers[name] {
            buffers[name] = nil  // keep the array uniquely referenced: mutated in place, no copy
            if buf.count != values.count { throw .lengthMismatch(what: "momentum buffer of \(name)", expected: values.count, got: buf.count) }
            for i in 0..<values.count {
                buf[i] = m * buf[i] + gradient[i]
                values[i] -= lr * buf[i]
            }
            buffers[name] = buf
        } else {
            // PyTorch initialises the buffer with the first gradient itself.
            var buf = [Float](repeating: 0, count: values.count)
            for i in 0..<values.count {
                buf[i] = gradient[i]
                values[i] -= lr * buf[i]
            }
            buffers[name] = buf
        }
    }

    /// One update of every trainable parameter of `model` from its last backward pass.
    public mutating func step(_ model: TrainableModel) {
        for p in model.parameters {
            // Lengths match by construction.
            try! step(name: p.name, values: p.values, gradient: UnsafeBufferPointer(p.gradient))
        }
    }

    /// Drops the momentum (per-stream reset).
    public mutating func reset() { buffers = [:] }
}
