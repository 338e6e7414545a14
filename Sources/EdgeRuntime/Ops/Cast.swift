// Cast and CastLike between the numeric types and bool (strings are not stored, so refused).

enum CastOps {
    /// Cast-1 names the target type as a string; later opsets use the TensorProto code.
    static let legacyNames: [(String, ElementType)] = [
        ("FLOAT", .float32), ("UINT8", .uint8), ("INT8", .int8), ("UINT16", .uint16), ("INT16", .int16),
        ("INT32", .int32), ("INT64", .int64), ("BOOL", .bool), ("FLOAT16", .float16), ("DOUBLE", .float64),
        ("UINT32", .uint32), ("UINT64", .uint64), ("BFLOAT16", .bfloat16),
    ]

    static func build(_ ctx: OpContext) throws(ModelLoadError) -> OpBuild {
        let from = try ctx.input(0).type
        let shape = try ctx.shape(0)
        let to: ElementType
        if ctx.node.opType == "CastLike" {
            to = try ctx.input(1).type
        } else if let code = ctx.node.int("to") {
            guard let t = ElementType(rawValue: Int32(truncatingIfNeeded: code)) else {
                throw ctx.unsupported("target type \(elementTypeName(Int32(truncatingIfNeeded: code)))")
            }
            to = t
        } else if let name = ctx.node.string("to") {
            guard let t = legacyNames.first(where: { $0.0 == name })?.1 else { throw ctx.unsupported("target type \(name)") }
            to = t
        } else {
            throw ctx.shapeError("Cast needs a 'to' attribute")
        }
        if from == .string || to == .string { throw ctx.unsupported("casts from or to string are not supported") }
        if from == to { return OpBuild(outputs: [(to, shape)], aliasesInput0: true, makeKernel: aliasKernel) }
        switch from {
        case .float32: return castFrom(Float.self, to, shape)
        case .float64: return castFrom(Double.self, to, shape)
        case .float16: return castFrom(Float16.self, to, shape)
        case .bfloat16: return castFrom(BFloat16Element.self, to, shape)
        case .int8: return castFrom(Int8.self, to, shape)
        case .uint8: return castFrom(UInt8.self, to, shape)
        case .int16: return castFrom(Int16.self, to, shape)
        case .uint16: return castFrom(UInt16.self, to, shape)
        case .int32: return castFrom(Int32.self, to, shape)
        case .uint32: return castFrom(UInt32.self, to, shape)
        case .int64: return castFrom(Int64.self, to, shape)
        case .uint64: return castFrom(UInt64.self, to, shape)
        case .bool: return castFrom(BoolElement.self, to, shape)
        case .string: throw ctx.unsupported("casts from string are not supported")
        }
    }

    static func castFrom<S: NumericElement>(_: S.Type, _ to: ElementType, _ shape: [Int]) -> OpBuild {
        switch to {
        case .float32: return pair(S.self, Float.self, to, shape)
        case .float64: return pair(S.self, Double.self, to, shape)
        case .float16: return pair(S.self, Float16.self, to, shape)
        case .bfloat16: return pair(S.self, BFloat16Element.self, to, shape)
        case .int8: return pair(S.self, Int8.self, to, shape)
        case .uint8: return pair(S.self, UInt8.self, to, shape)
        case .int16: return pair(S.self, Int16.self, to, shape)
        case .uint16: return pair(S.self, UInt16.self, to, shape)
        case .int32: return pair(S.self, Int32.self, to, shape)
        case .uint32: return pair(S.self, UInt32.self, to, shape)
        case .int64: return pair(S.self, Int64.self, to, shape)
        case .uint64: return pair(S.self, UInt64.self, to, shape)
        case .bool, .string: return pair(S.self, BoolElement.self, to, shape)  // string is refused earlier
        }
    }

    static func pair<S: NumericElement, D: NumericElement>(_: S.Type, _: D.Type, _ to: ElementType, _ shape: [Int]) -> OpBuild {
        let n = shapeCount(shape)
        return OpBuild(to, shape) { i, o in
            let x = i[0]!.typed(S.self), y = o[0].typed(D.self)
            return {
                // Anything involving a float goes through Double (exact for every source); integer to
                // integer wraps like a C cast.
                if S.isFloatingPoint || D.isFloatingPoint {
                    for k in 0..<n { y[k] = D(double: x[k].doubleValue) }
                } else {
                    for k in 0..<n { y[k] = D(int64: x[k].int64Value) }
                }
            }
        }
    }
}
