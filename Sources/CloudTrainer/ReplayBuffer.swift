// The cloud's per-device memory of uploads: a FIFO ring of the last `capacity` samples (uint8 pixels),
// sampled uniformly without replacement, as the reference's history buffer and random.sample.

public struct ReplayBuffer {
    public let capacity: Int
    public let sampleBytes: Int
    public private(set) var count = 0
    /// Samples ever appended (the ring's write position is total % capacity).
    public private(set) var total = 0
    private var storage: [UInt8]

    public init(capacity: Int, sampleBytes: Int) {
        precondition(capacity > 0 && sampleBytes > 0, "a replay buffer needs a positive capacity and sample size")
        self.capacity = capacity
        self.sampleBytes = sampleBytes
        storage = []
    }

    /// Appends one sample, evicting the oldest when full.
    public mutating func append(_ pixels: UnsafeBufferPointer<UInt8>) {
        precondition(pixels.count == sampleBytes, "replay samples are \(sampleBytes) bytes")
        let slot = total % capacity
        if storage.count < (slot + 1) * sampleBytes { storage.append(contentsOf: pixels) } else {
            storage.withUnsafeMutableBufferPointer { (d: inout UnsafeMutableBufferPointer<UInt8>) in
                (d.baseAddress! + slot * sampleBytes).update(from: pixels.baseAddress!, count: sampleBytes)
            }
        }
        total += 1
        count = min(count + 1, capacity)
    }

    public mutating func append(_ pixels: [UInt8]) {
        pixels.withUnsafeBufferPointer { append($0) }
    }

    /// `n` distinct slots drawn uniformly (partial Fisher-Yates), in draw order.
    public func sampleSlots<G: RandomNumberGenerator>(_ n: Int, using rng: inout G) -> [Int] {
        precondition(n <= count, "cannot draw \(n) distinct samples from \(count)")
        var pool = Array(0..<count)
        for i in 0..<n {
            let j = i + Int(rng.next(upperBound: UInt64(count - i)))
            pool.swapAt(i, j)
        }
        return Array(pool[0..<n])
    }

    /// Pixels of the sample in `slot` (0..<count; slots are positions in the ring, not ages).
    public func withSample<R>(_ slot: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        precondition(slot >= 0 && slot < count, "slot out of range")
        return storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[(slot * sampleBytes)..<((slot + 1) * sampleBytes)])) }
    }

    /// Copies the samples in `slots` back to back into `destination`.
    public func gather(_ slots: [Int], into destination: UnsafeMutablePointer<UInt8>) {
        storage.withUnsafeBufferPointer { s in
            for (k, slot) in slots.enumerated() {
                (destination + k * sampleBytes).update(from: s.baseAddress! + slot * sampleBytes, count: sampleBytes)
            }
        }
    }
}
