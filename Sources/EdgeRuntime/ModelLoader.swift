// Turns ONNX bytes into a Graph: protobuf-c decodes, this file copies into Swift values and frees the C tree.
import CEdgeShim

public enum ModelLoader {
    /// Highest ai.onnx opset whose operator semantics this runtime implements.
    public static let maxOpset = 21
    public static let minOpset = 1

    public static func load(path: String) throws(ModelLoadError) -> Graph {
        try load(bytes: try readFile(path))
    }

    public static func load(bytes: [UInt8]) throws(ModelLoadError) -> Graph {
        if bytes.isEmpty { throw .notONNX(reason: "the file is empty") }
        let decoded: UnsafeMutablePointer<Onnx__ModelProto>? = bytes.withUnsafeBufferPointer {
            cedge_onnx_model_unpack($0.baseAddress, $0.count)
        }
        guard let decoded else {
            throw .notONNX(reason: "the bytes are not a well-formed protobuf message (truncated or another format)")
        }
        defer { cedge_onnx_model_free(decoded) }
        return try convert(decoded.pointee)
    }

    private static func convert(_ model: Onnx__ModelProto) throws(ModelLoadError) -> Graph {
        // Random bytes sometimes decode as a protobuf message; a real model has an IR version and a graph.
        guard model.has_ir_version != 0, model.ir_version > 0 else {
            throw .notONNX(reason: "no ir_version field: this is not an ONNX ModelProto")
        }
        guard let g = model.graph else { throw .notONNX(reason: "the model has no graph") }

        var opsets: [String: Int] = [:]
        for i in 0..<model.n_opset_import {
            let entry = model.opset_import[i]!.pointee
            let domain = entry.domain.map { String(cString: $0) } ?? ""
            opsets[domain == "ai.onnx" ? "" : domain] = Int(entry.version)
        }
        // Files before IR version 3 imply opset 1. A model importing only other domains (training,
        // ML) has no default-domain nodes; its nodes are refused one by one as unsupported operators.
        let opset = opsets[""] ?? (model.ir_version < 3 ? 1 : maxOpset)
        if opset < minOpset || opset > maxOpset { throw .unsupportedOpset(domain: "", version: opset) }

        var initializers: [String: Tensor] = [:]
        var order: [String] = []
        for i in 0..<g.pointee.n_initializer {
            let proto = g.pointee.initializer[i]!
            let tensor = try TensorProtoCodec.decode(UnsafePointer(proto), label: "initializer #\(i)")
            let name = proto.pointee.name.map { String(cString: $0) } ?? ""
            if name.isEmpty { throw .invalidTensor(tensor: "initializer #\(i)", reason: "it has no name") }
            if initializers[name] == nil { order.append(name) }
            initializers[name] = tensor
        }
        if g.pointee.n_sparse_initializer > 0 {
            throw .invalidModel(reason: "sparse initializers are not supported")
        }

        var nodes: [Node] = []
        nodes.reserveCapacity(g.pointee.n_node)
        for i in 0..<g.pointee.n_node {
            nodes.append(try convertNode(g.pointee.node[i]!.pointee, index: i, opsets: opsets))
        }

        var inputs: [ValueDeclaration] = []
        for i in 0..<g.pointee.n_input {
            let declaration = convertValueInfo(g.pointee.input[i]!.pointee)
            if initializers[declaration.name] == nil { inputs.append(declaration) }
        }
        var outputs: [ValueDeclaration] = []
        for i in 0..<g.pointee.n_output { outputs.append(convertValueInfo(g.pointee.output[i]!.pointee)) }

        return Graph(
            name: g.pointee.name.map { String(cString: $0) } ?? "",
            nodes: nodes, initializers: initializers, initializerOrder: order,
            inputs: inputs, outputs: outputs, opsetVersion: opset,
            irVersion: Int(model.ir_version),
            producer: model.producer_name.map { String(cString: $0) } ?? "")
    }

    private static func strings(_ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ n: Int) -> [String] {
        var out: [String] = []
        out.reserveCapacity(n)
        for i in 0..<n { out.append(p![i].map { String(cString: $0) } ?? "") }
        return out
    }

    private static func convertNode(_ n: Onnx__NodeProto, index: Int, opsets: [String: Int]) throws(ModelLoadError) -> Node {
        let domainRaw = n.domain.map { String(cString: $0) } ?? ""
        let domain = domainRaw == "ai.onnx" ? "" : domainRaw
        var node = Node(
            opType: n.op_type.map { String(cString: $0) } ?? "",
            domain: domain,
            name: n.name.map { String(cString: $0) } ?? "",
            inputs: strings(n.input, n.n_input),
            outputs: strings(n.output, n.n_output),
            attributes: [:],
            opsetVersion: opsets[domain] ?? 0)
        if node.opType.isEmpty { throw .invalidModel(reason: "node #\(index) has no op_type") }
        for i in 0..<n.n_attribute {
            let a = n.attribute[i]!.pointee
            let key = a.name.map { String(cString: $0) } ?? ""
            node.attributes[key] = try convertAttribute(a, node: node.label, key: key)
        }
        return node
    }

    private static func bytesToString(_ b: ProtobufCBinaryData) -> String {
        if b.len == 0 { return "" }
        return String(decoding: UnsafeBufferPointer(start: b.data, count: b.len), as: UTF8.self)
    }

    private static func convertAttribute(_ a: Onnx__AttributeProto, node: String, key: String) throws(ModelLoadError) -> Attribute {
        if let ref = a.ref_attr_name, ref.pointee != 0 {
            throw .invalidAttribute(node: node, attribute: key, reason: "refers to a function attribute, which only functions may use")
        }
        switch a.type {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return .float(a.f)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return .int(Int(a.i))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return .string(bytesToString(a.s))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            guard let t = a.t else { throw .invalidAttribute(node: node, attribute: key, reason: "has no tensor") }
            return .tensor(try TensorProtoCodec.decode(UnsafePointer(t), label: "\(node).\(key)"))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
            return .floats(Array(UnsafeBufferPointer(start: a.floats, count: a.n_floats)))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            var v: [Int] = []
            v.reserveCapacity(a.n_ints)
            for i in 0..<a.n_ints { v.append(Int(a.ints[i])) }
            return .ints(v)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
            var v: [String] = []
            for i in 0..<a.n_strings { v.append(bytesToString(a.strings[i])) }
            return .strings(v)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
            return .graph
        default:
            // Older files omit the type; infer it from the one field that is set.
            if a.has_f != 0 { return .float(a.f) }
            if a.has_i != 0 { return .int(Int(a.i)) }
            if a.has_s != 0 { return .string(bytesToString(a.s)) }
            if a.n_ints > 0 {
                var v: [Int] = []
                for i in 0..<a.n_ints { v.append(Int(a.ints[i])) }
                return .ints(v)
            }
            if a.n_floats > 0 { return .floats(Array(UnsafeBufferPointer(start: a.floats, count: a.n_floats))) }
            if let t = a.t { return .tensor(try TensorProtoCodec.decode(UnsafePointer(t), label: "\(node).\(key)")) }
            throw .invalidAttribute(node: node, attribute: key, reason: "has an unsupported type (\(a.type.rawValue))")
        }
    }

    private static func convertValueInfo(_ v: Onnx__ValueInfoProto) -> ValueDeclaration {
        let name = v.name.map { String(cString: $0) } ?? ""
        guard let tp = v.type else { return ValueDeclaration(name: name, isTensor: true, type: nil, shape: nil) }
        guard tp.pointee.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, let tensorType = tp.pointee.tensor_type else {
            return ValueDeclaration(name: name, isTensor: false, type: nil, shape: nil)
        }
        let type = tensorType.pointee.has_elem_type != 0 ? ElementType(rawValue: tensorType.pointee.elem_type) : nil
        var shape: [Dimension]? = nil
        if let s = tensorType.pointee.shape {
            var dims: [Dimension] = []
            for i in 0..<s.pointee.n_dim {
                let d = s.pointee.dim[i]!.pointee
                if d.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE {
                    dims.append(.fixed(Int(d.dim_value)))
                } else if d.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM {
                    dims.append(.symbolic(d.dim_param.map { String(cString: $0) } ?? "?"))
                } else {
                    dims.append(.symbolic("?"))
                }
            }
            shape = dims
        }
        return ValueDeclaration(name: name, isTensor: true, type: type, shape: shape)
    }
}

/// Reads a whole file, mapping OS errors to a typed error.
public func readFile(_ path: String) throws(ModelLoadError) -> [UInt8] {
    var data: UnsafeMutablePointer<UInt8>? = nil
    var length = 0
    let status = cedge_read_file(path, &data, &length)
    if status != 0 { throw .fileUnreadable(path: path, reason: String(cString: cedge_error_text(status))) }
    defer { cedge_free(data) }
    if length == 0 { return [] }
    return Array(UnsafeBufferPointer(start: data, count: length))
}
