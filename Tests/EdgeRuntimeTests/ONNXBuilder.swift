// Writes ONNX protobuf bytes by hand (field numbers from onnx.proto), so tests can build exactly the
// malformed or unusual models they need without any ONNX tooling.

struct ProtoWriter {
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
    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }
    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }
}

struct TestTensor {
    var name: String
    var dims: [Int]
    var floats: [Float]
    var external = false

    func write(_ w: inout ProtoWriter) {
        for d in dims { w.int(1, d) }
        w.int(2, 1)  // FLOAT
        w.string(8, name)
        var raw: [UInt8] = []
        for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { raw += $0 } }
        if external {
            w.message(13) { e in e.string(1, "location"); e.string(2, "weights.bin") }
            w.int(14, 1)  // EXTERNAL
        } else {
            w.bytes(9, raw)
        }
    }
}

struct TestNode {
    var op: String
    var name: String
    var inputs: [String]
    var outputs: [String]
    var ints: [String: [Int]] = [:]
    var floats: [String: Float] = [:]

    func write(_ w: inout ProtoWriter) {
        for i in inputs { w.string(1, i) }
        for o in outputs { w.string(2, o) }
        w.string(3, name)
        w.string(4, op)
        for (k, v) in ints.sorted(by: { $0.key < $1.key }) {
            w.message(5) { a in
                a.string(1, k)
                for x in v { a.int(8, x) }
                a.int(20, 7)  // INTS
            }
        }
        for (k, v) in floats.sorted(by: { $0.key < $1.key }) {
            w.message(5) { a in
                a.string(1, k)
                a.float(2, v)
                a.int(20, 1)  // FLOAT
            }
        }
    }
}

/// A value declaration: dims > 0 fixed, -1 symbolic ("N").
struct TestValue {
    var name: String
    var dims: [Int]

    func write(_ w: inout ProtoWriter) {
        w.string(1, name)
        w.message(2) { t in
            t.message(1) { tensor in
                tensor.int(1, 1)  // FLOAT
                tensor.message(2) { shape in
                    for d in dims {
                        shape.message(1) { dim in
                            if d < 0 { dim.string(2, "N") } else { dim.int(1, d) }
                        }
                    }
                }
            }
        }
    }
}

func buildModel(opset: Int = 13, nodes: [TestNode], initializers: [TestTensor] = [], inputs: [TestValue],
                outputs: [TestValue]) -> [UInt8] {
    var w = ProtoWriter()
    w.int(1, 8)  // ir_version
    w.message(7) { g in
        for n in nodes { g.message(1) { n.write(&$0) } }
        g.string(2, "test")
        for t in initializers { g.message(5) { t.write(&$0) } }
        for v in inputs { g.message(11) { v.write(&$0) } }
        for v in outputs { g.message(12) { v.write(&$0) } }
    }
    w.message(8) { o in
        o.string(1, "")
        o.int(2, opset)
    }
    return w.bytes
}
