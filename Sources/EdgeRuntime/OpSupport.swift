// The contract between the planner and operator implementations: what an op sees at plan time
// (types, shapes, constant values) and the kernel closure it returns, bound to fixed memory.

/// What the planner knows about a value before anything runs.
public struct ValueInfo {
    public var type: ElementType
    public var shape: [Int]
    /// The value itself when it is known at plan time (initializers, folded shape arithmetic).
    public var constant: Tensor?

    public init(type: ElementType, shape: [Int], constant: Tensor? = nil) {
        self.type = type
        self.shape = shape
        self.constant = constant
    }
}

/// A tensor's place in memory, fixed at plan time (arena slot or constant buffer).
public struct TensorView {
    public let type: ElementType
    public let shape: [Int]
    public let data: UnsafeMutableRawPointer

    public var count: Int { shapeCount(shape) }
    public var f32: UnsafeMutablePointer<Float> { data.assumingMemoryBound(to: Float.self) }
    public var i64: UnsafeMutablePointer<Int64> { data.assumingMemoryBound(to: Int64.self) }
    public func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> { data.assumingMemoryBound(to: T.self) }
}

/// Runs one node over the memory it was bound to. Allocates nothing.
public typealias Kernel = () -> Void

/// The result of building a node: its outputs' types and shapes, and how to make its kernel.
struct OpBuild {
    var outputs: [(type: ElementType, shape: [Int])]
    var makeKernel: (_ inputs: [TensorView?], _ outputs: [TensorView]) -> Kernel
    /// Output 0 shares input 0's memory (Reshape, Flatten, Squeeze...): no copy at run time.
    var aliasesInput0 = false
    /// false: runs at every inference even when its inputs are constants (WidenHalf, whose point is not to
    /// keep the fp32 result).
    var foldable = true

    init(outputs: [(type: ElementType, shape: [Int])],
         aliasesInput0: Bool = false,
         makeKernel: @escaping (_ inputs: [TensorView?], _ outputs: [TensorView]) -> Kernel) {
        self.outputs = outputs
        self.aliasesInput0 = aliasesInput0
        self.makeKernel = makeKernel
    }

    /// One output of the given type and shape.
    init(_ type: ElementType, _ shape: [Int], makeKernel: @escaping (_ inputs: [TensorView?], _ outputs: [TensorView]) -> Kernel) {
        self.init(outputs: [(type, shape)], makeKernel: makeKernel)
    }
}

/// A node's inputs as the planner sees them, with checks that throw the right typed error.
struct OpContext {
    let node: Node
    let inputs: [ValueInfo?]

    var label: String { node.label }
    var opset: Int { node.opsetVersion }

    func has(_ i: Int) -> Bool { i < inputs.count && inputs[i] != nil }

    func input(_ i: Int) throws(ModelLoadError) -> ValueInfo {
        guard i < inputs.count, let v = inputs[i] else {
            throw .shapeError(node: label, reason: "\(node.opType) needs input #\(i)")
        }
        return v
    }

    func shape(_ i: Int) throws(ModelLoadError) -> [Int] { try input(i).shape }

    /// The input's constant value; operators whose shape depends on it need it at plan time.
    func constant(_ i: Int) throws(ModelLoadError) -> Tensor {
        let v = try input(i)
        guard let c = v.constant else {
            throw .valueNeededAtPrepare(op: node.opType, node: label, value: node.inputs[i], position: i)
        }
        return c
    }

    func constantInts(_ i: Int) throws(ModelLoadError) -> [Int] {
        try constant(i).int64s().map { Int($0) }
    }

    func unsupported(_ reason: String) -> ModelLoadError {
        .unsupportedOperator(op: node.opType, node: label, reason: reason)
    }

    func shapeError(_ reason: String) -> ModelLoadError { .shapeError(node: label, reason: reason) }

    /// Fails unless input i has one of the given element types.
    func requireType(_ i: Int, _ allowed: [ElementType]) throws(ModelLoadError) -> ElementType {
        let t = try input(i).type
        if !allowed.contains(t) { throw unsupported("input #\(i) has element type \(t.name)") }
        return t
    }

    func requireFloat32(_ i: Int) throws(ModelLoadError) {
        _ = try requireType(i, [.float32])
    }

    /// Normalises a possibly negative axis against a rank.
    func axis(_ a: Int, rank: Int) throws(ModelLoadError) -> Int {
        let r = a < 0 ? a + rank : a
        if r < 0 || r >= max(rank, 1) { throw shapeError("axis \(a) is out of range for rank \(rank)") }
        return r
    }
}

/// Row-major strides of a shape.
func stridesOf(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}
