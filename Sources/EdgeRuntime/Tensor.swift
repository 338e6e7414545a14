// Dense row-major tensors: an element type, a shape and 64-byte aligned storage owned by a buffer.
import CEdgeShim

/// Owns one aligned allocation. Shared by reference so views and constants never copy weights.
public final class TensorBuffer {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(byteCount: Int) {
        guard let p = cedge_aligned_alloc(byteCount) else { fatalError("out of memory allocating \(byteCount) bytes") }
        pointer = p
        self.byteCount = byteCount
    }

    deinit { cedge_aligned_free(pointer) }
}

public struct Tensor {
    public let type: ElementType
    public let shape: [Int]
    public let buffer: TensorBuffer

    /// A zero-filled tensor.
    public init(type: ElementType, shape: [Int]) {
        self.type = type
        self.shape = shape
        buffer = TensorBuffer(byteCount: shapeCount(shape) * type.byteSize)
    }

    public init(shape: [Int], floats: [Float]) {
        precondition(floats.count == shapeCount(shape), "element count does not match the shape")
        self.init(type: .float32, shape: shape)
        floats.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    public init(shape: [Int], int64s: [Int64]) {
        precondition(int64s.count == shapeCount(shape), "element count does not match the shape")
        self.init(type: .int64, shape: shape)
        int64s.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    public var count: Int { shapeCount(shape) }
    public var byteCount: Int { count * type.byteSize }
    public var raw: UnsafeMutableRawPointer { buffer.pointer }

    public func pointer<T>(as _: T.Type) -> UnsafeMutablePointer<T> {
        buffer.pointer.assumingMemoryBound(to: T.self)
    }

    /// Copies the elements out as Float (integers and bools converted), for reading results.
    public func floats() -> [Float] {
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count { out[i] = Float(scalarAsDouble(i)) }
        return out
    }

    /// Copies the elements out as Int64 (floats truncated), for shapes and indices.
    public func int64s() -> [Int64] {
        var out = [Int64](repeating: 0, count: count)
        for i in 0..<count {
            switch type {
            case .int64: out[i] = pointer(as: Int64.self)[i]
            case .int32: out[i] = Int64(pointer(as: Int32.self)[i])
            case .uint64: out[i] = Int64(bitPattern: pointer(as: UInt64.self)[i])
            default: out[i] = Int64(scalarAsDouble(i))
            }
        }
        return out
    }

    /// Element i converted to Double, whatever the stored type.
    public func scalarAsDouble(_ i: Int) -> Double {
        let p = buffer.pointer
        switch type {
        case .float32: return Double(p.assumingMemoryBound(to: Float.self)[i])
        case .float64: return p.assumingMemoryBound(to: Double.self)[i]
        case .float16: return Double(Float(p.assumingMemoryBound(to: Float16.self)[i]))
        case .bfloat16:
            let bits = UInt32(p.assumingMemoryBound(to: UInt16.self)[i]) << 16
            return Double(Float(bitPattern: bits))
        case .int8: return Double(p.assumingMemoryBound(to: Int8.self)[i])
        case .uint8: return Double(p.assumingMemoryBound(to: UInt8.self)[i])
        case .int16: return Double(p.assumingMemoryBound(to: Int16.self)[i])
        case .uint16: return Double(p.assumingMemoryBound(to: UInt16.self)[i])
        case .int32: return Double(p.assumingMemoryBound(to: Int32.self)[i])
        case .uint32: return Double(p.assumingMemoryBound(to: UInt32.self)[i])
        case .int64: return Double(p.assumingMemoryBound(to: Int64.self)[i])
        case .uint64: return Double(p.assumingMemoryBound(to: UInt64.self)[i])
        case .bool: return p.assumingMemoryBound(to: UInt8.self)[i] != 0 ? 1 : 0
        case .string: return 0
        }
    }
}

/// Number of elements of a shape (1 for a scalar).
@inline(__always)
public func shapeCount(_ shape: [Int]) -> Int {
    var n = 1
    for d in shape { n *= d }
    return n
}

/// "[1, 3, 224, 224]" for messages.
public func describeShape(_ shape: [Int]) -> String {
    var s = "["
    for (i, d) in shape.enumerated() {
        if i > 0 { s += ", " }
        s += "\(d)"
    }
    return s + "]"
}
