// CEMA's cloud-side numbers (chenyaofo/CEMA conf/cema.conf, ARCHITECTURE.md): every coefficient the losses,
// the optimisers and the normalization statistics use, with the reference values as defaults.
import Foundation

public struct CEMAConfig: Equatable {
    /// C: number of classes (Fashion-MNIST: 10).
    public var classCount: Int = 10
    /// E_max0 = entropyMarginRatio * ln C, the static margin of every entropy weight exp(E_max0 - H).
    public var entropyMarginRatio: Float = 0.4
    /// alpha: weight of the student-entropy-weighted entropy term of the distillation loss.
    public var entropyCoefficient: Float = 3
    /// beta: weight of the teacher-entropy-weighted KL(teacher || student) term.
    public var klCoefficient: Float = 3
    /// gamma: weight of the teacher-entropy-weighted cross-entropy on the teacher's hard pseudo-labels.
    public var pseudoLabelCoefficient: Float = 1
    /// T: distillation temperature (the KL term is scaled by T^2).
    public var temperature: Float = 1
    /// SGD for the edge copy (student).
    public var edgeLearningRate: Float = 2.5e-3
    /// SGD for the foundation model (teacher).
    public var foundationLearningRate: Float = 2.5e-4
    /// SGD momentum of both optimisers (PyTorch semantics, no dampening).
    public var momentum: Float = 0.9
    /// BatchNormalization running statistics: stat += statisticsMomentum * (batch stat - stat).
    public var statisticsMomentum: Float = 0.1

    public init() {}

    /// E_max0 in nats.
    public var entropyMargin: Float { entropyMarginRatio * Float(log(Double(classCount))) }
}
