// How normalization layers behave while a TrainableModel runs.

/// Form of every BatchNormalization node.
public enum BNMode: Equatable, Sendable {
    /// Running statistics from the graph; no gradient through statistics (what the edge runs).
    case inference
    /// Tent-style: normalise with the batch's own mean and biased variance (PyTorch train-mode BN without
    /// running statistics); gradients flow through them; running statistics are neither read nor written.
    case batchStatistics
    /// CEMA's "TBR" form: batch mean and unbiased variance with the batch-renormalization correction
    /// r, d (constants), so the value equals normalization by the running statistics while gradients flow
    /// through the batch statistics; running statistics follow the batches with the statistics momentum.
    case batchRenormalization
}

/// Where batchRenormalization's running statistics start.
public enum RunningStatisticsStart: Equatable, Sendable {
    /// Discard the graph's (source) statistics: the first training batch's statistics become the running
    /// statistics, as the reference code does.
    case fromFirstBatch
    /// Keep the statistics stored in the graph.
    case fromGraph
}

struct TrainingOptions {
    var bnMode: BNMode
    var statisticsMomentum: Float
    var runningStatistics: RunningStatisticsStart
}
