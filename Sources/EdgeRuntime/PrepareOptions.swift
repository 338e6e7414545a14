// How a model is prepared beyond its input shapes: int8 fusion of QDQ patterns, fp32 Conv/BN/activation
// fusion, fp16 weights, and extra values to expose as outputs (calibration reads intermediate activations
// through them).

public struct PrepareOptions {
    /// Run recognised QDQ Conv/Gemm patterns with the int8 kernels (false: dequantize -> fp32 -> quantize,
    /// the reference the fused path is tested against).
    public var fuseQuantized: Bool
    /// Run fp32 Conv [-> BatchNormalization] [-> Relu/Clip] chains as one Conv with the normalization and
    /// activation in its epilogue (false: one op each, the reference the fused path is tested against).
    public var fuseFloat: Bool
    /// Names of intermediate values to return after the graph outputs, in this order.
    public var observe: [String]
    /// fp16: Conv/Gemm/MatMul weights stored as binary16 (HalfPrecisionWeights), arithmetic in fp32.
    public var precision: Precision

    public init(fuseQuantized: Bool = true, observe: [String] = [], precision: Precision = .fp32,
                fuseFloat: Bool = true) {
        self.fuseQuantized = fuseQuantized
        self.fuseFloat = fuseFloat
        self.observe = observe
        self.precision = precision
    }
}
