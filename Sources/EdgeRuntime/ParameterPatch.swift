// A parameter patch as the edge works with it: which model, which versions, and the new values by name.

/// How a parameter's values travelled on the wire (they are always held here as Float).
public enum PatchElementKind: Equatable {
    case fp32
    case fp16

    public var name: String {
        switch self {
        case .fp32: return "fp32"
        case .fp16: return "fp16"
        }
    }

    /// Bytes per element on the wire.
    public var byteSize: Int { self == .fp32 ? 4 : 2 }
}

/// New values for one normalization parameter, addressed by its ONNX initializer name.
public struct PatchParameter: Equatable {
    public var name: String
    public var kind: PatchElementKind
    /// The shape the sender gave, or empty when it gave none (the element count is what is checked).
    public var dims: [Int]
    /// fp16 values already widened to Float (exactly: every binary16 value is a binary32 value).
    public var values: [Float]

    public init(name: String, kind: PatchElementKind = .fp32, dims: [Int] = [], values: [Float]) {
        self.name = name
        self.kind = kind
        self.dims = dims
        self.values = values
    }
}

public struct ParameterPatch: Equatable {
    /// SHA-256 of the base ONNX file (Model.modelSHA256 of the model it applies to).
    public var modelSHA256: [UInt8]
    /// The version the model must be at; 0 is the file as loaded.
    public var baseVersion: UInt64
    /// The model's version after the patch.
    public var newVersion: UInt64
    public var parameters: [PatchParameter]
    public var createdUnixMs: UInt64
    /// Ed25519 signature bytes as received; verified by the patch store, not here.
    public var signature: [UInt8]

    public init(modelSHA256: [UInt8], baseVersion: UInt64, newVersion: UInt64, parameters: [PatchParameter],
                createdUnixMs: UInt64 = 0, signature: [UInt8] = []) {
        self.modelSHA256 = modelSHA256
        self.baseVersion = baseVersion
        self.newVersion = newVersion
        self.parameters = parameters
        self.createdUnixMs = createdUnixMs
        self.signature = signature
    }
}
