// What one method did on one stream (one corruption at one severity, all devices together): the numbers the
// report is made of.

/// One edge batch of one device, for the plots over time.
public struct TimelinePoint: Sendable {
    /// Samples of the stream seen so far (all devices).
    public var seen: Int
    /// Accuracy of this batch and of everything so far, in [0, 1].
    public var batchAccuracy: Double
    public var cumulativeAccuracy: Double
    /// Share of this batch that was uploaded (0 for on-device methods) and the gate it was judged by
    /// (nil for methods without an entropy gate).
    public var uploadRate: Double
    public var eMax: Double?
}

public struct StreamResult: Sendable {
    public var method: Method
    public var corruption: Corruption
    public var severity: Int
    public var samples = 0
    public var correct = 0
    public var uploaded = 0
    /// Encoded UploadBatch and ParameterPatch bytes, exactly what would cross the network.
    public var bytesUp = 0
    public var bytesDown = 0
    public var patches = 0
    /// Device compute: samples run forward, and samples also run backward (on-device training).
    public var forwardSamples = 0
    public var backwardSamples = 0
    /// Per-rule counters summed over the devices (CEMA's selector; zero for methods without one).
    public var excludedUnreliable = 0
    public var excludedLowInformation = 0
    public var excludedRedundant = 0
    /// Samples EATA's reliability rule alone (entropy below the fixed E_max0) would have sent, judged on the
    /// same predictions as the method's own selection (cloud methods only).
    public var reliableByEATARule = 0
    public var cloudSteps = 0
    public var seconds = 0.0
    public var timeline: [TimelinePoint] = []
    /// Top-1 class of every frame served, device by device within each batch (the same order for every
    /// method and precision on a stream, so runs can be compared frame by frame).
    public var predictions: [UInt8] = []

    public init(method: Method, corruption: Corruption, severity: Int) {
        self.method = method
        self.corruption = corruption
        self.severity = severity
    }

    public var accuracy: Double { samples == 0 ? 0 : Double(correct) / Double(samples) }
    public var uploadShare: Double { samples == 0 ? 0 : Double(uploaded) / Double(samples) }
    public var eataRuleShare: Double { samples == 0 ? 0 : Double(reliableByEATARule) / Double(samples) }
}
