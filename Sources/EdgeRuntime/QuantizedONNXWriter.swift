// Encodes a Graph as ONNX ModelProto bytes (field numbers from onnx.proto): how `cema quantize` writes the
// QDQ model it builds. Initializers are written as little-endian raw_data.

public enum ONNXWriteError: Error, Equatable {
    /// Subgraph attributes (If/Loop bodies) are not kept by the loader, so they cannot be written back.
    case subgraphAttribute(node: String, attribute: String)
    case stringTensor(name: String)
}

public enum ONNXGraphWriter {
    public static func encode(_ graph: Graph, opsetImports: [(domain: String, version: Int)] = [])
        throws(ONNXWriteError) -> [UInt8] {
        var model = ProtoBytes()
        model.int(1, max(graph.irVersion, 7))
        model.string(2, "cema")
        var g = ProtoBytes()
        for node in graph.nodes { g.message(1, try nodeBytes(node)) }
        g.string(2, graph.name.isEmpty ? "graph" : graph.name)
        for name in graph.initializerOrder { g.message(5, try tensorBytes(name, graph.initializers[name]!)) }
        for v in graph.inputs { g.message(11, valueBytes(v)) }
        for v in graph.outputs { g.message(12, valueBytes(v)) }
        model.message(7, g.bytes)
        let imports = opsetImports.isEmpty ? [("", graph.opsetVersion)] : opsetImports
        for (domain, version) in imports {
            var o = ProtoBytes()
            o.string(1, domain)
            o.int(2, version)
            model.message(8, o.bytes)
        }
        return model.bytes
    }

    static func nodeBytes(_ node: Node) throws(ONNXWriteError) -> [UInt8] {
        var w = ProtoBytes()
        for i in node.inputs { w.string(1, i) }
        for o in node.outputs { w.string(2, o) }
        if !node.name.isEmpty { w.string(3, node.name) }
        w.string(4, node.opType)
        // Sorted so the same graph always encodes to the same bytes.
        for key in node.attributes.keys.sorted() {
            var a = ProtoBytes()
            a.string(1, key)
            switch node.attributes[key]! {
            case .float(let f): a.float(2, f); a.int(20, 1)
            case .int(let i): a.int(3, i); a.int(20, 2)
            case .string(let s): a.string(4, s); a.int(20, 3)
            case .tensor(let t): a.message(5, try tensorBytes("", t)); a.int(20, 4)
            case .floats(let fs): for f in fs { a.float(7, f) }; a.int(20, 6)
            case .ints(let xs): for x in xs { a.int(8, x) }; a.int(20, 7)
            case .strings(let ss): for s in ss { a.string(9, s) }; a.int(20, 8)
            case .graph: throw .subgraphAttribute(node: node.label, attribute: key)
            }
            w.message(5, a.bytes)
        }
        if !node.domain.isEmpty { w.string(7, node.domain) }
        return w.bytes
    }

    static func tensorBytes(_ name: String, _ t: Tensor) throws(ONNXWriteError) -> [UInt8] {
        if t.type == .string { throw .stringTensor(name: name) }
        var w = ProtoBytes()
        for d in t.shape { w.int(1, d) }
        w.int(2, Int(t.type.rawValue))
        if !name.isEmpty { w.string(8, name) }
        // Tensors are stored little-endian in memory on every supported host and board.
        let raw = UnsafeRawBufferPointer(start: t.raw, count: t.byteCount)
        w.bytes(9, Array(raw))
        return w.bytes
    }

    static func valueBytes(_ v: ValueDeclaration) -> [UInt8] {
        var w = ProtoBytes()
        w.string(1, v.name)
        var tensor = ProtoBytes()
        tensor.int(1, Int(v.type?.rawValue ?? 1))
        if let shape = v.shape {
            var s = ProtoBytes()
            for d in shape {
                var dim = ProtoBytes()
                switch d {
                case .fixed(let n): dim.int(1, n)
                case .symbolic(let name): dim.string(2, name)
                }
                s.message(1, dim.bytes)
            }
            tensor.message(2, s.bytes)
        }
        var type = ProtoBytes()
        type.message(1, tensor.bytes)
        w.message(2, type.bytes)
        return w.bytes
    }
}

/// Protobuf wire encoding, just the parts ONNX needs.
struct ProtoBytes {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func int(_ field: Int, _ value: Int) {
        key(field, 0)
        varint(UInt64(bitPattern: Int64(value)))
    }
    mutating func bytes(_ field: Int, _ data: [UInt8]) {
        key(field, 2)
        varint(UInt64(data.count))
        bytes += data
    }
    mutating func string(_ field: Int, _ s: String) { bytes(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ data: [UInt8]) { bytes(field, data) }
    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        let b = value.bitPattern
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: b >> (8 * UInt32(i)))) }
    }
}
