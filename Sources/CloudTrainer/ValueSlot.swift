// One value of a compiled training graph: fixed shape, forward storage, and gradient storage when the loss
// reaches it through a trainable parameter.
import EdgeRuntime

final class ValueSlot {
    let name: String
    let shape: [Int]
    let count: Int
    /// Initializers and Constant outputs keep their tensor: its buffer is the Graph's, so an optimiser step
    /// on a parameter (or a running-statistics update) is seen by every user of that Graph.
    let constant: Tensor?
    let isFloat: Bool
    /// Float view of the storage (meaningless when !isFloat).
    let data: UnsafeMutablePointer<Float>
    /// A trainable normalization parameter: its gradient is always kept and always accumulated into.
    var isParameter = false
    /// Depends on a trainable parameter (so a gradient may flow into it).
    var requiresGrad = false
    private var storage: TensorBuffer?
    private var gradStorage: TensorBuffer?
    /// Set by the linker when the loss depends on this value through a trainable parameter.
    private(set) var grad: UnsafeMutablePointer<Float>?

    init(activation name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
        count = shapeCount(shape)
        constant = nil
        isFloat = true
        let buffer = TensorBuffer(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
        storage = buffer
        data = buffer.pointer.assumingMemoryBound(to: Float.self)
    }

    init(constant name: String, tensor: Tensor) {
        self.name = name
        shape = tensor.shape
        count = tensor.count
        constant = tensor
        isFloat = tensor.type == .float32
        data = tensor.buffer.pointer.assumingMemoryBound(to: Float.self)
    }

    func allocateGradient() {
        guard gradStorage == nil else { return }
        let buffer = TensorBuffer(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
        buffer.pointer.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
        gradStorage = buffer
        grad = buffer.pointer.assumingMemoryBound(to: Float.self)
    }
}

/// Writes a gradient contribution: overwrite for the first writer of a buffer in a backward pass, add after.
@inline(__always)
func store(_ g: UnsafeMutablePointer<Float>, _ i: Int, _ v: Float, _ add: Bool) {
    if add { g[i] += v } else { g[i] = v }
}

/// A float scratch buffer owned by a step (allocated once, at compile or link time).
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }

    subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}
