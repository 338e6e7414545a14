// CEMA's upload rule on the edge: send a sample only when E_min < H(x) < E_max(t), where E_max(t) tightens as the
// stream's mean entropy falls; optionally drop samples redundant with those already sent (EATA's filter).

public struct SelectorConfig {
    /// E_max0 = eMaxFraction * ln C (reference: ent_high_margin 0.4).
    public var eMaxFraction: Float = 0.4
    /// E_min = eMinFraction * ln C (reference: ent_low_margin 0.02); 0 turns the low-information rule off.
    public var eMinFraction: Float = 0.02
    /// Batches during which E_max(t) = E_max0; mean_0 is the running mean entropy at the end of them.
    public var warmupBatches: Int = 2
    /// E_max(t) = lambda * E_max0 * mean_t / mean_0 after the warm-up (reference: lambda 1.0).
    public var lambda: Float = 1.0
    /// The redundancy rule is off by default: EATA's epsilon 0.05 was made for 1,000 classes.
    public var redundancyFilter = false
    /// Drop a sample when |cos(p, m)| >= epsilon, m the EMA of the mean probabilities of sent samples.
    public var redundancyEpsilon: Float = 0.05
    /// EMA factor for m (EATA: m <- 0.9 m + 0.1 mean).
    public var redundancyMomentum: Float = 0.9

    public init() {}
}

/// How many samples each rule let through or excluded since the stream began.
public struct SelectionCounters: Equatable {
    public var seen = 0
    public var selected = 0
    public var excludedUnreliable = 0
    public var excludedLowInformation = 0
    public var excludedRedundant = 0

    public init() {}
}

public struct SampleSelector {
    public let config: SelectorConfig
    public let classes: Int
    public private(set) var counters = SelectionCounters()
    public private(set) var batches = 0
    /// E_max0 and E_min in nats.
    public let eMax0: Float
    public let eMin: Float
    /// The E_max(t) the last batch was judged by.
    public private(set) var currentEMax: Float
    /// Running mean entropy of every sample seen (before any rule) and its value at the end of the warm-up.
    public private(set) var meanEntropy: Float = 0
    public private(set) var warmupMean: Float?
    private var entropySum: Double = 0
    private var sentMean: [Float]?
    private var probabilities: [Float]

    public init(classes: Int, config: SelectorConfig = SelectorConfig()) {
        precondition(classes >= 2, "entropy selection needs at least two classes")
        self.classes = classes
        self.config = config
        let unit = Entropy.maximum(classes: classes)
        eMax0 = config.eMaxFraction * unit
        eMin = config.eMinFraction * unit
        currentEMax = eMax0
        probabilities = [Float](repeating: 0, count: classes)
    }

    /// Judges one batch of logits [count, classes]: `selected[i]` says whether sample i is uploaded and
    /// `entropy[i]` is its entropy (both arrays are resized to `count`).
    public mutating func select(logits: UnsafePointer<Float>, count: Int, selected: inout [Bool], entropy: inout [Float]) {
        selected = [Bool](repeating: false, count: count)
        entropy = [Float](repeating: 0, count: count)
        guard count > 0 else { return }
        for i in 0..<count {
            entropy[i] = Entropy.ofLogits(logits + i * classes, classes: classes)
            entropySum += Double(entropy[i])
        }
        counters.seen += count
        batches += 1
        meanEntropy = Float(entropySum / Double(counters.seen))
        currentEMax = threshold()
        if batches == config.warmupBatches { warmupMean = meanEntropy }

        var kept: [Int] = []
        for i in 0..<count {
            if !(entropy[i] < currentEMax) { counters.excludedUnreliable += 1; continue }
            if !(entropy[i] > eMin) { counters.excludedLowInformation += 1; continue }
            kept.append(i)
        }
        if config.redundancyFilter { kept = dropRedundant(kept, logits) }
        for i in kept { selected[i] = true }
        counters.selected += kept.count
    }

    /// E_max0 during the warm-up, then lambda * E_max0 * mean_t / mean_0.
    private func threshold() -> Float {
        guard let mean0 = warmupMean, batches > config.warmupBatches else { return eMax0 }
        guard mean0 > 0 else { return config.lambda * eMax0 }
        return config.lambda * eMax0 * meanEntropy / mean0
    }

    /// EATA's rule: the first batch only sets m; later samples pass when |cos(p, m)| < epsilon, and m
    /// follows the mean probabilities of what passed.
    private mutating func dropRedundant(_ candidates: [Int], _ logits: UnsafePointer<Float>) -> [Int] {
        var kept: [Int] = []
        var mean = [Float](repeating: 0, count: classes)
        for i in candidates {
            probabilities.withUnsafeMutableBufferPointer { Entropy.probabilities(logits + i * classes, classes: classes, into: $0.baseAddress!) }
            if let m = sentMean {
                var dot: Float = 0, pp: Float = 0, mm: Float = 0
                for c in 0..<classes {
                    dot += probabilities[c] * m[c]; pp += probabilities[c] * probabilities[c]; mm += m[c] * m[c]
                }
                let cosine = dot / (pp * mm).squareRoot()
                if !(abs(cosine) < config.redundancyEpsilon) { counters.excludedRedundant += 1; continue }
            }
            kept.append(i)
            for c in 0..<classes { mean[c] += probabilities[c] }
        }
        guard !kept.isEmpty else { return kept }
        for c in 0..<classes { mean[c] /= Float(kept.count) }
        if let m = sentMean {
            let a = config.redundancyMomentum
            sentMean = (0..<classes).map { a * m[$0] + (1 - a) * mean[$0] }
        } else {
            sentMean = mean
        }
        return kept
    }
}
