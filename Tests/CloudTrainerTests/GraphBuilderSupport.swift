// Test support: small random graphs built directly as EdgeRuntime values (internal memberwise initialisers
// through @testable), a seeded generator, and float file reading for the PyTorch goldens.
import Foundation
import CloudTrainer
@testable import EdgeRuntime

/// The trainer's SplitMix64: deterministic across platforms, so every random graph is the same on every run.
struct SeededRandom {
    var base: SplitMix64
    init(seed: UInt64) { base = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { base.next() }
    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in uniform(lo, hi) } }
}

struct GraphBuilder {
    var nodes: [Node] = []
    var initializers: [String: Tensor] = [:]
    var order: [String] = []
    var opset = 17
    var random: SeededRandom
    private var counter = 0

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func fresh(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    @discardableResult
    mutating func initializer(_ name: String, _ shape: [Int], _ values: [Float]) -> String {
        initializers[name] = Tensor(shape: shape, floats: values)
        order.append(name)
        return name
    }

    mutating func int64Initializer(_ name: String, _ values: [Int64]) -> String {
        initializers[name] = Tensor(shape: [values.count], int64s: values)
        order.append(name)
        return name
    }

    mutating func random(_ name: String, _ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> String {
        initializer(name, shape, random.floats(shapeCount(shape), lo, hi))
    }

    /// Appends a node with one output and returns that output's name.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], _ attributes: [String: Attribute] = [:]) -> String {
        let out = fresh("\(op.lowercased())_")
        nodes.append(Node(opType: op, domain: "", name: out, inputs: inputs, outputs: [out], attributes: attributes,
                          opsetVersion: opset))
        return out
    }

    /// LayerNormalization over axes [1, rank) with a scale and bias per element (shape = x's without the
    /// batch): its bias gradient is exactly the downstream op's input gradient, summed over the batch.
    mutating func elementwiseNorm(_ x: String, _ elementShape: [Int]) -> String {
        let s = random(fresh("ln_scale_"), elementShape, 0.5, 1.5)
        let b = random(fresh("ln_bias_"), elementShape, -0.5, 0.5)
        return node("LayerNormalization", [x, s, b], ["axis": .int(1), "epsilon": .float(1e-5)])
    }

    mutating func batchNorm(_ x: String, channels c: Int) -> String {
        let s = random(fresh("bn_scale_"), [c], 0.5, 1.5)
        let b = random(fresh("bn_bias_"), [c], -0.5, 0.5)
        let m = random(fresh("bn_mean_"), [c], -0.3, 0.3)
        let v = random(fresh("bn_var_"), [c], 0.5, 2)
        return node("BatchNormalization", [x, s, b, m, v], ["epsilon": .float(1e-5), "momentum": .float(0.9)])
    }

    func graph(input: String, shape: [Int], output: String) -> Graph {
        Graph(name: "test", nodes: nodes, initializers: initializers, initializerOrder: order,
              inputs: [ValueDeclaration(name: input, isTensor: true, type: .float32,
                                        shape: [.symbolic("N")] + shape.dropFirst().map { .fixed($0) })],
              outputs: [ValueDeclaration(name: output, isTensor: true, type: .float32, shape: nil)],
              opsetVersion: opset, irVersion: 8, producer: "test")
    }
}

/// Repository root, from this file's location (Tests/CloudTrainerTests/...).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func readFloats(_ url: URL) throws -> [Float] {
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { raw in
        (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}
