// The runtime's own model representation, free of protobuf types: nodes, attributes, initializers, I/O.

public enum Attribute {
    case float(Float)
    case int(Int)
    case string(String)
    case tensor(Tensor)
    case floats([Float])
    case ints([Int])
    case strings([String])
    /// Subgraphs (If/Loop/Scan bodies) are recorded but not executable.
    case graph
}

public struct Node {
    public var opType: String
    public var domain: String
    public var name: String
    /// Empty strings stand for omitted optional inputs, as in ONNX.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]
    /// The opset version of the node's domain, from the model's opset imports.
    public var opsetVersion: Int

    public func int(_ key: String) -> Int? {
        if case .int(let v)? = attributes[key] { return v }
        return nil
    }
    public func int(_ key: String, default value: Int) -> Int { int(key) ?? value }
    public func float(_ key: String) -> Float? {
        if case .float(let v)? = attributes[key] { return v }
        return nil
    }
    public func float(_ key: String, default value: Float) -> Float { float(key) ?? value }
    public func ints(_ key: String) -> [Int]? {
        if case .ints(let v)? = attributes[key] { return v }
        return nil
    }
    public func floats(_ key: String) -> [Float]? {
        if case .floats(let v)? = attributes[key] { return v }
        return nil
    }
    public func string(_ key: String) -> String? {
        if case .string(let v)? = attributes[key] { return v }
        return nil
    }
    public func tensor(_ key: String) -> Tensor? {
        if case .tensor(let v)? = attributes[key] { return v }
        return nil
    }
    /// The i-th input's name, or nil when it is absent or omitted.
    public func input(_ i: Int) -> String? {
        i < inputs.count && !inputs[i].isEmpty ? inputs[i] : nil
    }
    /// Name used in messages: the node's name, or its op and first output when it has none.
    public var label: String { name.isEmpty ? "\(opType)(\(outputs.first ?? ""))" : name }
}

/// A dimension of a declared graph input/output: a fixed size or a named symbol (batch, ...).
public enum Dimension: Equatable {
    case fixed(Int)
    case symbolic(String)
}

public struct ValueDeclaration {
    public var name: String
    /// false for sequence, map and optional values, which this runtime does not execute.
    public var isTensor: Bool
    /// nil when the model does not declare a tensor type (or the type is not a tensor).
    public var type: ElementType?
    /// nil when the model declares no shape (rank unknown).
    public var shape: [Dimension]?
}

public struct Graph {
    public var name: String
    public var nodes: [Node]
    public var initializers: [String: Tensor]
    /// Initializer names in file order (dictionaries have none).
    public var initializerOrder: [String]
    /// Graph inputs that are not initializers: what the caller must supply.
    public var inputs: [ValueDeclaration]
    public var outputs: [ValueDeclaration]
    /// ai.onnx opset version ("" domain).
    public var opsetVersion: Int
    public var irVersion: Int
    public var producer: String
}
