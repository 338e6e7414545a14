// The adaptation methods `cema simulate` compares on the same streams.

public enum Method: String, CaseIterable, Sendable {
    /// CEMA: entropy-gated uploads, foundation-model distillation in the cloud, norm-parameter patches back.
    case cema
    /// The shipped edge model, never changed.
    case source
    /// BatchNormalization statistics of each test batch instead of the stored ones (no parameter update).
    case bnStats = "bn-stats"
    /// Tent: entropy minimisation on every sample, on the device.
    case tent
    /// ETA: EATA's reliable (and non-redundant) samples, weighted entropy, on the device.
    case eta
    /// EATA: ETA plus the Fisher anti-forgetting penalty.
    case eata
    /// CEMA's cloud with every sample uploaded (no selection).
    case uploadAll = "upload-all"
    /// CEMA's cloud with a random subset of each batch uploaded, at CEMA's upload rate on the stream.
    case random

    /// Whether the device runs a backward pass.
    public var trainsOnDevice: Bool { self == .tent || self == .eta || self == .eata }
    /// Whether samples go to the cloud and patches come back.
    public var usesCloud: Bool { self == .cema || self == .uploadAll || self == .random }
}
