// What a patch must carry to turn one model into another: the normalization parameters that differ,
// after checking that nothing else does (a patch can express nothing else).
import EdgeRuntime
import Foundation

public enum PatchDiffError: Error, Equatable, CustomStringConvertible {
    case graphsDiffer(reason: String)
    /// An initializer that is not a normalization parameter differs: no patch can carry that change.
    case weightDiffers(name: String)
    case noParameterDiffers

    public var description: String {
        switch self {
        case .graphsDiffer(let reason): return "the models are not the same graph: \(reason)"
        case .weightDiffers(let name):
            return "initializer '\(name)' differs, and it is not a normalization parameter (patches carry only those)"
        case .noParameterDiffers: return "no normalization parameter differs between the models: nothing to patch"
        }
    }
}

public enum PatchDiff {
    /// The normalization parameters of `new` whose bytes differ from `base`'s, in base file order.
    public static func changedParameters(base: Graph, new: Graph) throws(PatchDiffError) -> [(name: String, dims: [Int], values: [Float])] {
        try checkSameStructure(base, new)
        var normNames: Set<String> = []
        for layer in NormParameters.layers(of: base) { normNames.formUnion(layer.parameterNames) }

        var changed: [(name: String, dims: [Int], values: [Float])] = []
        for name in base.initializerOrder {
            let a = base.initializers[name]!, b = new.initializers[name]!
            if bytesEqual(a, b) { continue }
            guard normNames.contains(name), b.type == .float32 else { throw .weightDiffers(name: name) }
            changed.append((name: name, dims: b.shape, values: b.floats()))
        }
        if changed.isEmpty { throw .noParameterDiffers }
        return changed
    }

    private static func checkSameStructure(_ a: Graph, _ b: Graph) throws(PatchDiffError) {
        if a.nodes.count != b.nodes.count {
            throw .graphsDiffer(reason: "\(a.nodes.count) nodes against \(b.nodes.count)")
        }
        for (i, (x, y)) in zip(a.nodes, b.nodes).enumerated()
        where x.opType != y.opType || x.domain != y.domain || x.inputs != y.inputs || x.outputs != y.outputs {
            throw .graphsDiffer(reason: "node #\(i) is \(x.label) in one and \(y.label) in the other, or reads/writes other values")
        }
        for (label, x, y) in [("input", a.inputs, b.inputs), ("output", a.outputs, b.outputs)] {
            let same = x.count == y.count && zip(x, y).allSatisfy { $0.name == $1.name && $0.type == $1.type && $0.shape == $1.shape }
            if !same { throw .graphsDiffer(reason: "their graph \(label)s differ in name, type or shape") }
        }
        if Set(a.initializerOrder) != Set(b.initializerOrder) {
            let missing = Set(a.initializerOrder).symmetricDifference(Set(b.initializerOrder)).sorted()
            throw .graphsDiffer(reason: "initializer '\(missing[0])' is in only one of them")
        }
        for name in a.initializerOrder {
            let x = a.initializers[name]!, y = b.initializers[name]!
            if x.type != y.type || x.shape != y.shape {
                throw .graphsDiffer(reason: "initializer '\(name)' is \(x.type.name) \(describeShape(x.shape)) in one and \(y.type.name) \(describeShape(y.shape)) in the other")
            }
        }
    }

    private static func bytesEqual(_ a: Tensor, _ b: Tensor) -> Bool {
        a.byteCount == b.byteCount && (a.byteCount == 0 || memcmp(a.raw, b.raw, a.byteCount) == 0)
    }
}
