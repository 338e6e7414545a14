// Shared machinery of the data-movement family: copies driven by plan-time index plans, element
// conversions for type-generic kernels, and axis lists that moved from attributes to inputs over opsets.
import CEdgeShim

// MARK: - Aliasing

/// Kernel of an op whose output 0 holds exactly input 0's bytes (Reshape, Squeeze, Identity...). The
/// planner normally gives both the same memory and this does nothing; it copies when they differ
/// (constant folding writes into a fresh tensor, and an input the planner does not alias gets its own slot).
func aliasKernel(_ i: [TensorView?], _ o: [TensorView]) -> Kernel {
    let src = i[0]!.data, dst = o[0].data
    if src == dst { return {} }
    let bytes = o[0].count * o[0].type.byteSize
    return { dst.copyMemory(from: src, byteCount: bytes) }
}

/// Byte size of an element type, failing for types that are not stored densely (strings).
func denseByteSize(_ ctx: OpContext, _ type: ElementType) throws(ModelLoadError) -> Int {
    let size = type.byteSize
    if size == 0 { throw ctx.unsupported("element type \(type.name)") }
    return size
}

// MARK: - Strided copies

/// Writes a strided view of a source contiguously: out[i0, i1, ...] = src[offset + sum(ik * strides[k])].
/// Transpose, Slice, Expand, DepthToSpace and SpaceToDepth are all such a view. Works on bytes, so every
/// fixed-size element type is served by the four element widths.
struct StridedCopy {
    let shape: [Int]
    let strides: [Int]
    let offset: Int
    let elementSize: Int
    let count: Int

    init(shape: [Int], strides: [Int], offset: Int = 0, elementSize: Int) {
        // Size-1 axes contribute nothing; neighbours that are contiguous in the source merge into one
        // axis, so common cases end in one long memcpy-like row.
        var s: [Int] = [], t: [Int] = []
        for (d, st) in zip(shape, strides) where d != 1 {
            if let last = s.last, t[t.count - 1] == st * d {
                s[s.count - 1] = last * d
                t[t.count - 1] = st
            } else {
                s.append(d)
                t.append(st)
            }
        }
        if s.isEmpty { s = [1]; t = [1] }
        self.shape = s
        self.strides = t
        self.offset = offset
        self.elementSize = elementSize
        count = shapeCount(s)
    }

    func run(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer) {
        if count == 0 { return }
        switch elementSize {
        case 1: _ = level(0, src.assumingMemoryBound(to: UInt8.self) + offset, dst.assumingMemoryBound(to: UInt8.self))
        case 2: _ = level(0, src.assumingMemoryBound(to: UInt16.self) + offset, dst.assumingMemoryBound(to: UInt16.self))
        case 4: _ = level(0, src.assumingMemoryBound(to: UInt32.self) + offset, dst.assumingMemoryBound(to: UInt32.self))
        default: _ = level(0, src.assumingMemoryBound(to: UInt64.self) + offset, dst.assumingMemoryBound(to: UInt64.self))
        }
    }

    /// Recursion over axes (depth = rank) instead of an index array, so running allocates nothing.
    private func level<T>(_ axis: Int, _ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
        let n = shape[axis], st = strides[axis]
        if axis == shape.count - 1 {
            if st == 1 {
                dst.update(from: src, count: n)
            } else {
                for k in 0..<n { dst[k] = src[k * st] }
            }
            return dst + n
        }
        var d = dst
        for k in 0..<n { d = level(axis + 1, src + k * st, d) }
        return d
    }
}

// MARK: - Index-map gathers

/// out[o0, o1, ...] = src[maps[0][o0], maps[1][o1], ...], or the fill element where any map entry is -1.
/// Pad (every mode), Tile and nearest-neighbour Resize reduce to per-axis tables computed at plan time.
struct IndexMapGather {
    let outShape: [Int]
    let maps: [[Int]]
    let srcStrides: [Int]
    let blocks: [Int]   // elements of the output below each axis
    let elementSize: Int

    init(outShape: [Int], maps: [[Int]], srcShape: [Int], elementSize: Int) {
        self.outShape = outShape
        self.maps = maps
        srcStrides = stridesOf(srcShape)
        blocks = stridesOf(outShape)
        self.elementSize = elementSize
    }

    /// `fill` points at one element (nil when no map entry is -1).
    func run(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, fill: UnsafeRawPointer?) {
        switch elementSize {
        case 1: typed(src, dst, fill, UInt8.self)
        case 2: typed(src, dst, fill, UInt16.self)
        case 4: typed(src, dst, fill, UInt32.self)
        default: typed(src, dst, fill, UInt64.self)
        }
    }

    private func typed<T: FixedWidthInteger>(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer,
                                             _ fill: UnsafeRawPointer?, _: T.Type) {
        if shapeCount(outShape) == 0 { return }
        let s = src.assumingMemoryBound(to: T.self), d = dst.assumingMemoryBound(to: T.self)
        let f = fill.map { $0.loadUnaligned(as: T.self) } ?? 0
        if outShape.isEmpty { d[0] = s[0]; return }
        _ = level(0, s, d, f)
    }

    private func level<T>(_ axis: Int, _ src: UnsafePointer<T>?, _ dst: UnsafeMutablePointer<T>, _ fill: T)
        -> UnsafeMutablePointer<T> {
        let n = outShape[axis]
        guard let src else {
            let total = n * blocks[axis]
            dst.update(repeating: fill, count: total)
            return dst + total
        }
        let map = maps[axis], st = srcStrides[axis]
        if axis == outShape.count - 1 {
            for k in 0..<n {
                let i = map[k]
                dst[k] = i < 0 ? fill : src[i * st]
            }
            return dst + n
        }
        var d = dst
        for k in 0..<n {
            let i = map[k]
            d = level(axis + 1, i < 0 ? nil : src + i * st, d, fill)
        }
        return d
    }
}

// MARK: - Element conversions

/// An element type that type-generic kernels (reductions, Cast, Range...) can read and write through
/// Double/Int64/Float, following ONNX cast rules: float to integer truncates toward zero (saturating,
/// NaN to 0), integer to integer wraps.
protocol NumericElement: Comparable {
    static var isFloatingPoint: Bool { get }
    var doubleValue: Double { get }
    var floatValue: Float { get }
    /// Integers as themselves (uint64 by bit pattern), floats truncated toward zero.
    var int64Value: Int64 { get }
    init(double: Double)
    init(float: Float)
    init(int64: Int64)
}

extension FixedWidthInteger {
    @inline(__always)
    static func saturating(_ d: Double) -> Self {
        if d.isNaN { return 0 }
        if d <= Double(Self.min) { return .min }
        if d >= Double(Self.max) { return .max }
        return Self(d)
    }
}

extension Float: NumericElement {
    static var isFloatingPoint: Bool { true }
    var doubleValue: Double { Double(self) }
    var floatValue: Float { self }
    var int64Value: Int64 { Int64.saturating(Double(self)) }
    init(double: Double) { self = Float(double) }
    init(float: Float) { self = float }
    init(int64: Int64) { self = Float(int64) }
}

extension Double: NumericElement {
    static var isFloatingPoint: Bool { true }
    var doubleValue: Double { self }
    var floatValue: Float { Float(self) }
    var int64Value: Int64 { Int64.saturating(self) }
    init(double: Double) { self = double }
    init(float: Float) { self = Double(float) }
    init(int64: Int64) { self = Double(int64) }
}

extension Float16: NumericElement {
    static var isFloatingPoint: Bool { true }
    var doubleValue: Double { Double(Float(self)) }
    var floatValue: Float { Float(self) }
    var int64Value: Int64 { Int64.saturating(Double(Float(self))) }
    init(double: Double) { self = Float16(double) }
    init(float: Float) { self = Float16(float) }
    init(int64: Int64) { self = Float16(Float(int64)) }
}

/// Integer conformances share one implementation.
protocol IntegerElement: NumericElement, FixedWidthInteger {}
extension IntegerElement {
    static var isFloatingPoint: Bool { false }
    var doubleValue: Double { Double(self) }
    var floatValue: Float { Float(self) }
    var int64Value: Int64 { Int64(truncatingIfNeeded: self) }
    init(double: Double) { self = Self.saturating(double) }
    init(float: Float) { self = Self.saturating(Double(float)) }
    init(int64: Int64) { self.init(truncatingIfNeeded: int64) }
}
extension Int8: IntegerElement {}
extension UInt8: IntegerElement {}
extension Int16: IntegerElement {}
extension UInt16: IntegerElement {}
extension Int32: IntegerElement {}
extension UInt32: IntegerElement {}
extension Int64: IntegerElement {}
extension UInt64: IntegerElement {}

/// ONNX bool: one byte, 0 or 1. Any non-zero number (and NaN) converts to true.
struct BoolElement: NumericElement {
    var raw: UInt8
    static var isFloatingPoint: Bool { false }
    var doubleValue: Double { raw != 0 ? 1 : 0 }
    var floatValue: Float { raw != 0 ? 1 : 0 }
    var int64Value: Int64 { raw != 0 ? 1 : 0 }
    init(double: Double) { raw = double != 0 ? 1 : 0 }
    init(float: Float) { raw = float != 0 ? 1 : 0 }
    init(int64: Int64) { raw = int64 != 0 ? 1 : 0 }
    static func < (a: BoolElement, b: BoolElement) -> Bool { (a.raw != 0 ? 1 : 0) < (b.raw != 0 ? 1 : 0) }
    static func == (a: BoolElement, b: BoolElement) -> Bool { (a.raw != 0) == (b.raw != 0) }
}

/// bfloat16 as its bit pattern: the upper half of a float32. Conversion from float rounds to nearest even.
struct BFloat16Element: NumericElement {
    var bits: UInt16
    static var isFloatingPoint: Bool { true }
    var floatValue: Float { Float(bitPattern: UInt32(bits) << 16) }
    var doubleValue: Double { Double(floatValue) }
    var int64Value: Int64 { Int64.saturating(doubleValue) }
    init(float: Float) {
        let b = float.bitPattern
        if float.isNaN {
            bits = UInt16(truncatingIfNeeded: b >> 16) | 0x40  // keep it a (quiet) NaN
        } else {
            let roundingBias = UInt32(0x7FFF) + ((b >> 16) & 1)
            bits = UInt16(truncatingIfNeeded: (b &+ roundingBias) >> 16)
        }
    }
    init(double: Double) { self.init(float: Float(double)) }
    init(int64: Int64) { self.init(float: Float(int64)) }
    static func < (a: BFloat16Element, b: BFloat16Element) -> Bool { a.floatValue < b.floatValue }
    static func == (a: BFloat16Element, b: BFloat16Element) -> Bool { a.floatValue == b.floatValue }
}

/// The floating type a kernel computes in: Float for float32 (no double arithmetic on small cores),
/// Double for everything else. Supplies the libm functions the stdlib lacks without Foundation.
protocol MathFloat: BinaryFloatingPoint, NumericElement {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    init<T: NumericElement>(element: T)
    func element<T: NumericElement>(as: T.Type) -> T
}

extension Float: MathFloat {
    @inline(__always) static func exp(_ x: Float) -> Float { cedge_expf(x) }
    @inline(__always) static func log(_ x: Float) -> Float { cedge_logf(x) }
    @inline(__always) init<T: NumericElement>(element: T) { self = element.floatValue }
    @inline(__always) func element<T: NumericElement>(as: T.Type) -> T { T(float: self) }
}

extension Double: MathFloat {
    @inline(__always) static func exp(_ x: Double) -> Double { cedge_exp(x) }
    @inline(__always) static func log(_ x: Double) -> Double { cedge_log(x) }
    @inline(__always) init<T: NumericElement>(element: T) { self = element.doubleValue }
    @inline(__always) func element<T: NumericElement>(as: T.Type) -> T { T(double: self) }
}

/// A one-element tensor of `type` holding `value` converted by the cast rules (pad and fill values).
func scalarTensor(_ type: ElementType, _ value: Double) -> Tensor {
    let t = Tensor(type: type, shape: [])
    func put<T: NumericElement>(_: T.Type) { t.raw.assumingMemoryBound(to: T.self)[0] = T(double: value) }
    switch type {
    case .float32: put(Float.self)
    case .float64: put(Double.self)
    case .float16: put(Float16.self)
    case .bfloat16: put(BFloat16Element.self)
    case .int8: put(Int8.self)
    case .uint8: put(UInt8.self)
    case .int16: put(Int16.self)
    case .uint16: put(UInt16.self)
    case .int32: put(Int32.self)
    case .uint32: put(UInt32.self)
    case .int64: put(Int64.self)
    case .uint64: put(UInt64.self)
    case .bool: put(BoolElement.self)
    case .string: break
    }
    return t
}

// MARK: - Axis lists

extension OpContext {
    /// An int list that older opsets take as attribute `name` and newer ones as input `index` (axes of
    /// Squeeze/Unsqueeze/reductions, Split's split, Slice's starts...). Accepts either form in any opset,
    /// since exporters are not always strict. nil when neither is given; an empty input counts as given.
    func intsFromAttributeOrInput(_ name: String, input index: Int) throws(ModelLoadError) -> [Int]? {
        if let v = node.ints(name) { return v }
        if has(index) { return try constantInts(index) }
        return nil
    }

    /// Normalises axes against a rank, rejecting duplicates.
    func normalizedAxes(_ axes: [Int], rank: Int) throws(ModelLoadError) -> [Int] {
        var out: [Int] = []
        for a in axes {
            let r = try axis(a, rank: rank)
            if out.contains(r) { throw shapeError("\(node.opType): axis \(a) is listed twice") }
            out.append(r)
        }
        return out
    }
}

/// "[1, 2, 3]" for int lists in messages (array interpolation needs reflection in Embedded Swift).
func describeInts(_ values: [Int]) -> String { describeShape(values) }
