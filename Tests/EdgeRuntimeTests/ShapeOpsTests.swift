// Data-movement family: hand-derived cases per operator, and the ONNX backend node tests for these ops
// (shape-carrying inputs that the tests feed at run time are promoted to initializers, as models have them).
import XCTest
@testable import EdgeRuntime

final class ShapeOpsTests: XCTestCase {
    // MARK: Helpers

    struct Input {
        var name: String
        var tensor: Tensor
        var constant = false
    }

    /// Runs one node; constant inputs become initializers (the planner folds the node when all are).
    func run(_ op: String, _ inputs: [Input], outputs: Int = 1, opset: Int = 13,
             _ attributes: [String: Attribute] = [:]) throws -> [Tensor] {
        var initializers: [String: Tensor] = [:]
        var order: [String] = []
        var declared: [ValueDeclaration] = []
        var feeds: [Tensor] = []
        var shapes: [String: [Int]] = [:]
        for input in inputs where !input.name.isEmpty {
            if input.constant {
                initializers[input.name] = input.tensor
                order.append(input.name)
            } else {
                declared.append(ValueDeclaration(name: input.name, isTensor: true, type: input.tensor.type, shape: nil))
                feeds.append(input.tensor)
                shapes[input.name] = input.tensor.shape
            }
        }
        let outs = (0..<outputs).map { "y\($0)" }
        let node = Node(opType: op, domain: "", name: op, inputs: inputs.map { $0.name }, outputs: outs,
                        attributes: attributes, opsetVersion: opset)
        let graph = Graph(name: "t", nodes: [node], initializers: initializers, initializerOrder: order,
                          inputs: declared, outputs: outs.map { ValueDeclaration(name: $0, isTensor: true, type: nil, shape: nil) },
                          opsetVersion: opset, irVersion: 8, producer: "test")
        return try prepareAndRun(graph, shapes, feeds)
    }

    /// Prepares and runs, keeping the plan alive for the run: the session does not (yet) retain folded
    /// constants itself, only their addresses.
    func prepareAndRun(_ graph: Graph, _ shapes: [String: [Int]], _ feeds: [Tensor]) throws(ModelLoadError) -> [Tensor] {
        let plan = try Planner.plan(graph: graph, inputShapes: shapes)
        let session = Session(plan: plan)
        let out = try session.run(feeds)
        withExtendedLifetime(plan) {}
        return out
    }

    func floats(_ shape: [Int], _ v: [Float]) -> Tensor { Tensor(shape: shape, floats: v) }
    func ints(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }
    func x(_ t: Tensor) -> Input { Input(name: "x", tensor: t) }
    func c(_ name: String, _ t: Tensor) -> Input { Input(name: name, tensor: t, constant: true) }

    func assertClose(_ t: Tensor, _ shape: [Int], _ expected: [Float], tolerance: Float = 1e-5,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(t.shape, shape, file: file, line: line)
        let got = t.floats()
        XCTAssertEqual(got.count, expected.count, file: file, line: line)
        for (a, e) in zip(got, expected) where !(abs(a - e) <= tolerance) {
            XCTFail("got \(got), expected \(expected)", file: file, line: line)
            return
        }
    }

    // MARK: Shape family

    func testReshapeZeroAndInferred() throws {
        let data = floats([2, 3, 4], (0..<24).map { Float($0) })
        let y = try run("Reshape", [x(data), c("s", ints([0, -1, 2]))])[0]
        assertClose(y, [2, 6, 2], (0..<24).map { Float($0) })
        let z = try run("Reshape", [x(floats([0, 3], [])), c("s", ints([3, 0]))], opset: 14, ["allowzero": .int(1)])[0]
        XCTAssertEqual(z.shape, [3, 0])
        XCTAssertThrowsError(try run("Reshape", [x(floats([12], [Float](repeating: 0, count: 12))), c("s", ints([5, -1]))])) { e in
            XCTAssertTrue("\(e)".contains("cannot reshape 12 elements"), "\(e)")
        }
    }

    func testFlattenSqueezeUnsqueeze() throws {
        let data = floats([2, 1, 3], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try run("Flatten", [x(data)], ["axis": .int(0)])[0].shape, [1, 6])
        XCTAssertEqual(try run("Flatten", [x(data)], ["axis": .int(-1)])[0].shape, [2, 3])
        XCTAssertEqual(try run("Squeeze", [x(data)], opset: 11, ["axes": .ints([1])])[0].shape, [2, 3])
        XCTAssertEqual(try run("Squeeze", [x(data)])[0].shape, [2, 3])
        XCTAssertEqual(try run("Unsqueeze", [x(data), c("a", ints([-1, 0]))])[0].shape, [1, 2, 1, 3, 1])
        XCTAssertEqual(try run("Unsqueeze", [x(data)], opset: 11, ["axes": .ints([1])])[0].shape, [2, 1, 1, 3])
        XCTAssertThrowsError(try run("Squeeze", [x(data), c("a", ints([0]))]))
    }

    func testShapeSizeRangeConstantOfShape() throws {
        let data = floats([2, 3, 4], [Float](repeating: 0, count: 24))
        XCTAssertEqual(try run("Shape", [x(data)], opset: 15, ["start": .int(-2)])[0].int64s(), [3, 4])
        XCTAssertEqual(try run("Size", [x(data)])[0].int64s(), [24])
        let r = try run("Range", [c("a", Tensor(shape: [], int64s: [10])), c("b", Tensor(shape: [], int64s: [1])),
                                  c("d", Tensor(shape: [], int64s: [-3]))])[0]
        XCTAssertEqual(r.int64s(), [10, 7, 4])
        let f = try run("ConstantOfShape", [c("s", ints([2, 2]))], opset: 9,
                        ["value": .tensor(Tensor(shape: [1], int64s: [7]))])[0]
        XCTAssertEqual(f.type, .int64)
        XCTAssertEqual(f.int64s(), [7, 7, 7, 7])
    }

    func testExpandAndTile() throws {
        let e = try run("Expand", [x(floats([3, 1], [1, 2, 3])), c("s", ints([2, 1, 2]))])[0]
        assertClose(e, [2, 3, 2], [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
        let t = try run("Tile", [x(floats([2, 2], [1, 2, 3, 4])), c("r", ints([1, 2]))])[0]
        assertClose(t, [2, 4], [1, 2, 1, 2, 3, 4, 3, 4])
    }

    func testDropoutMaskAndIdentityAlias() throws {
        let out = try run("Dropout", [x(floats([3], [1, 2, 3]))], outputs: 2)
        assertClose(out[0], [3], [1, 2, 3])
        XCTAssertEqual(out[1].type, .bool)
        XCTAssertEqual(out[1].floats(), [1, 1, 1])
        assertClose(try run("Identity", [x(floats([2], [5, 6]))])[0], [2], [5, 6])
    }

    // MARK: Layout family

    func testTransposeMatrix() throws {
        // [[1 2 3] [4 5 6]] -> [[1 4] [2 5] [3 6]]
        let y = try run("Transpose", [x(floats([2, 3], [1, 2, 3, 4, 5, 6]))], ["perm": .ints([1, 0])])[0]
        assertClose(y, [3, 2], [1, 4, 2, 5, 3, 6])
        // int8 goes through the 1-byte path
        let b = Tensor(type: .int8, shape: [2, 2])
        for (k, v) in [1, -2, 3, -4].enumerated() { b.pointer(as: Int8.self)[k] = Int8(v) }
        XCTAssertEqual(try run("Transpose", [x(b)])[0].floats(), [1, 3, -2, -4])
    }

    func testSliceNegativeStepAndClamping() throws {
        // rows reversed from the end, every second column from 1: x = [[0 1 2 3] [4 5 6 7] [8 9 10 11]]
        let data = floats([3, 4], (0..<12).map { Float($0) })
        let y = try run("Slice", [x(data), c("s", ints([-1, 1])), c("e", ints([Int64.min, 1000])),
                                  c("a", ints([0, 1])), c("p", ints([-1, 2]))])[0]
        assertClose(y, [3, 2], [9, 11, 5, 7, 1, 3])
        // opset 1 attributes
        let z = try run("Slice", [x(data)], opset: 9, ["starts": .ints([1]), "ends": .ints([-1]), "axes": .ints([1])])[0]
        assertClose(z, [3, 2], [1, 2, 5, 6, 9, 10])
    }

    func testConcatSplit() throws {
        let a = floats([2, 1], [1, 2]), b = floats([2, 2], [3, 4, 5, 6])
        let y = try run("Concat", [Input(name: "a", tensor: a), Input(name: "b", tensor: b)], ["axis": .int(-1)])[0]
        assertClose(y, [2, 3], [1, 3, 4, 2, 5, 6])
        let parts = try run("Split", [x(y), c("s", ints([2, 1]))], outputs: 2, ["axis": .int(1)])
        assertClose(parts[0], [2, 2], [1, 3, 2, 5])
        assertClose(parts[1], [2, 1], [4, 6])
        let uneven = try run("Split", [x(floats([5], [1, 2, 3, 4, 5]))], outputs: 2, opset: 18, ["num_outputs": .int(2)])
        assertClose(uneven[0], [3], [1, 2, 3])
        assertClose(uneven[1], [2], [4, 5])
    }

    func testGatherFamily() throws {
        let data = floats([3, 2], [1, 2, 3, 4, 5, 6])
        let g = try run("Gather", [x(data), Input(name: "i", tensor: Tensor(shape: [2], int64s: [-1, 0]))])[0]
        assertClose(g, [2, 2], [5, 6, 1, 2])
        let e = try run("GatherElements", [x(floats([2, 2], [1, 2, 3, 4])),
                                           Input(name: "i", tensor: Tensor(shape: [2, 2], int64s: [0, 0, 1, 0]))],
                        ["axis": .int(1)])[0]
        assertClose(e, [2, 2], [1, 1, 4, 3])
        let nd = try run("GatherND", [x(floats([2, 2], [1, 2, 3, 4])),
                                      Input(name: "i", tensor: Tensor(shape: [2, 2], int64s: [0, 1, 1, 0]))])[0]
        assertClose(nd, [2], [2, 3])
    }

    func testPadModes() throws {
        let data = floats([1, 3], [1, 2, 3])
        let pads = c("p", ints([0, 2, 0, 1]))
        assertClose(try run("Pad", [x(data), pads, c("v", Tensor(shape: [], floats: [9]))], opset: 11)[0],
                    [1, 6], [9, 9, 1, 2, 3, 9])
        assertClose(try run("Pad", [x(data), pads], opset: 11, ["mode": .string("reflect")])[0], [1, 6], [3, 2, 1, 2, 3, 2])
        assertClose(try run("Pad", [x(data), pads], opset: 11, ["mode": .string("edge")])[0], [1, 6], [1, 1, 1, 2, 3, 3])
        // opset 2 attributes; negative pads crop
        assertClose(try run("Pad", [x(data)], opset: 2, ["pads": .ints([0, -1, 0, 1]), "value": .float(7)])[0],
                    [1, 3], [2, 3, 7])
    }

    func testDepthToSpaceRoundTrip() throws {
        let data = floats([1, 8, 1, 1], (0..<8).map { Float($0) })
        let y = try run("DepthToSpace", [x(data)], ["blocksize": .int(2), "mode": .string("CRD")])[0]
        assertClose(y, [1, 2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7])
        let dcr = try run("DepthToSpace", [x(data)], ["blocksize": .int(2)])[0]
        assertClose(dcr, [1, 2, 2, 2], [0, 2, 4, 6, 1, 3, 5, 7])
        let back = try run("SpaceToDepth", [x(dcr)], ["blocksize": .int(2)])[0]
        assertClose(back, [1, 8, 1, 1], (0..<8).map { Float($0) })
    }

    // MARK: Reductions, softmax, cast

    func testReductions() throws {
        let data = floats([2, 3], [1, -2, 3, 4, 5, -6])
        assertClose(try run("ReduceSum", [x(data), c("a", ints([1]))], ["keepdims": .int(0)])[0], [2], [2, 3])
        assertClose(try run("ReduceMean", [x(data)], ["axes": .ints([0])])[0], [1, 3], [2.5, 1.5, -1.5])
        assertClose(try run("ReduceMax", [x(data)], ["keepdims": .int(0)])[0], [], [5])
        assertClose(try run("ReduceL2", [x(data)], ["axes": .ints([0])])[0], [1, 3],
                    [Float(17).squareRoot(), Float(29).squareRoot(), Float(45).squareRoot()])
        assertClose(try run("ReduceLogSumExp", [x(floats([2], [1000, 1000]))])[0], [1], [1000 + 0.6931472], tolerance: 1e-3)
        // non-adjacent axes use the table path: sum over axes 0 and 2 of a [2, 2, 2]
        let cube = floats([2, 2, 2], (1...8).map { Float($0) })
        assertClose(try run("ReduceSum", [x(cube), c("a", ints([0, 2]))], ["keepdims": .int(0)])[0], [2], [14, 22])
        let arg = try run("ArgMax", [x(floats([2, 3], [1, 3, 3, 2, 0, 2]))], ["axis": .int(1), "select_last_index": .int(1)])[0]
        XCTAssertEqual(arg.shape, [2, 1])
        XCTAssertEqual(arg.int64s(), [2, 2])
        let top = try run("TopK", [x(floats([5], [3, 1, 4, 1, 5])), c("k", ints([3]))], outputs: 2)
        assertClose(top[0], [3], [5, 4, 3])
        XCTAssertEqual(top[1].int64s(), [4, 2, 0])
    }

    func testSoftmaxLegacyAndAxis() throws {
        let data = floats([2, 2], [0, 0, 0, Float(2).squareRoot()])
        // opset 11 coerces to 2-D at axis 0: one softmax over all four elements
        let legacy = try run("Softmax", [x(floats([2, 2], [0, 0, 0, 0]))], opset: 11, ["axis": .int(0)])[0]
        assertClose(legacy, [2, 2], [0.25, 0.25, 0.25, 0.25])
        let s = try run("Softmax", [x(floats([1, 2], [0, Float(3).squareRoot() * 0]))])[0]
        assertClose(s, [1, 2], [0.5, 0.5])
        let ls = try run("LogSoftmax", [x(floats([2], [1, 1]))])[0]
        assertClose(ls, [2], [-0.6931472, -0.6931472])
        let h = try run("Hardmax", [x(data)], ["axis": .int(0)])[0]
        assertClose(h, [2, 2], [1, 0, 0, 1])
    }

    func testCast() throws {
        let y = try run("Cast", [x(floats([4], [1.9, -1.9, 0, 300]))], ["to": .int(Int(ElementType.int8.rawValue))])[0]
        XCTAssertEqual(y.type, .int8)
        XCTAssertEqual(y.floats(), [1, -1, 0, 127])
        let b = try run("Cast", [x(floats([2], [0, 0.5]))], ["to": .int(Int(ElementType.bool.rawValue))])[0]
        XCTAssertEqual(b.floats(), [0, 1])
        let h = try run("Cast", [x(floats([1], [0.1]))], ["to": .int(Int(ElementType.float16.rawValue))])[0]
        XCTAssertEqual(h.type, .float16)
        XCTAssertEqual(h.floats()[0], Float(Float16(0.1)))
        let w = try run("Cast", [x(Tensor(shape: [1], int64s: [300]))], opset: 1, ["to": .string("UINT8")])[0]
        XCTAssertEqual(w.floats(), [44])
    }

    func testPRelu() throws {
        let data = floats([1, 2, 2], [-1, 2, -3, 4])
        let y = try run("PRelu", [x(data), c("s", floats([2, 1], [0.5, 0.1]))])[0]
        assertClose(y, [1, 2, 2], [-0.5, 2, -0.3, 4])
        // opset 6: a 1-D slope is per channel (axis 1)
        let z = try run("PRelu", [x(data), c("s", floats([2], [0.5, 0.1]))], opset: 6)[0]
        assertClose(z, [1, 2, 2], [-0.5, 2, -0.3, 4])
    }

    // MARK: Resize

    func testResizeNearestAndLinear2x() throws {
        let data = floats([1, 1, 2, 2], [1, 2, 3, 4])
        let scales = c("scales", floats([4], [1, 1, 2, 2]))
        let near = try run("Resize", [x(data), Input(name: "", tensor: data), scales], ["mode": .string("nearest")])[0]
        // half_pixel, round_prefer_floor: out 0..3 map to (i + .5) / 2 - .5 = -.25, .25, .75, 1.25 -> 0, 0, 1, 1
        assertClose(near, [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let lin = try run("Resize", [x(data), Input(name: "", tensor: data), scales], ["mode": .string("linear")])[0]
        // per axis weights: -.25 -> row 0; .25 -> .75*r0 + .25*r1; .75 -> .25*r0 + .75*r1; 1.25 -> r1
        // first row (y = -.25 -> row 0): 1, 1.25, 1.75, 2; second row (y = .25): 1.5, 1.75, 2.25, 2.5
        assertClose(lin, [1, 1, 4, 4], [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4])
        let aligned = try run("Resize", [x(data), Input(name: "", tensor: data), Input(name: "", tensor: data),
                                         c("sizes", ints([1, 1, 3, 3]))],
                              ["mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners")])[0]
        assertClose(aligned, [1, 1, 3, 3], [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
        let up = try run("Upsample", [x(data)], opset: 7, ["scales": .floats([1, 1, 2, 1]), "mode": .string("nearest")])[0]
        assertClose(up, [1, 1, 4, 2], [1, 2, 1, 2, 3, 4, 3, 4])
        // Cubic: the tap weights sum to one, so a constant image stays constant (the ONNX backend cases in
        // `make test` check cubic against the reference values).
        let flat = floats([1, 1, 2, 2], [5, 5, 5, 5])
        let cubic = try run("Resize", [x(flat), Input(name: "", tensor: flat), scales], ["mode": .string("cubic")])[0]
        assertClose(cubic, [1, 1, 4, 4], [Float](repeating: 5, count: 16))
    }

    func testLegacyResizeForms() throws {
        let data = floats([1, 1, 2, 2], [1, 2, 3, 4])
        // Resize-10: asymmetric, nearest rounds down -> plain repetition
        let r10 = try run("Resize", [x(data), c("scales", floats([4], [1, 1, 1, 2]))], opset: 10)[0]
        assertClose(r10, [1, 1, 2, 4], [1, 1, 2, 2, 3, 3, 4, 4])
        // Upsample-9 linear along W: x / 2 = 0, .5, 1, 1.5 -> 1, 1.5, 2, 2 (clamped at the edge)
        let up = try run("Upsample", [x(data), c("scales", floats([4], [1, 1, 1, 2]))], opset: 9, ["mode": .string("linear")])[0]
        assertClose(up, [1, 1, 2, 4], [1, 1.5, 2, 2, 3, 3.5, 4, 4])
        // tf_crop_and_resize outside the roi takes the extrapolation value
        let crop = try run("Resize", [x(floats([1, 1, 1, 2], [1, 2])), c("roi", floats([8], [0, 0, 0, 0, 1, 1, 1, 2])),
                                      Input(name: "", tensor: data), c("sizes", ints([1, 1, 1, 3]))], opset: 13,
                           ["mode": .string("linear"), "coordinate_transformation_mode": .string("tf_crop_and_resize"),
                            "extrapolation_value": .float(-1)])[0]
        // W: start 0, end 2 over length 2: x * 2 * 1 / 2 = 0, 1, 2 -> 1, 2, outside
        assertClose(crop, [1, 1, 1, 3], [1, 2, -1])
    }

    func testLegacyPadTileForms() throws {
        let data = floats([3], [1, 2, 3])
        assertClose(try run("Pad", [x(data), c("p", ints([2, 2]))], opset: 19, ["mode": .string("wrap")])[0],
                    [7], [2, 3, 1, 2, 3, 1, 2])
        assertClose(try run("Pad", [x(data)], opset: 1, ["paddings": .ints([1, 0])])[0], [4], [0, 1, 2, 3])
        let t1 = try run("Tile", [x(floats([1, 2], [1, 2])), c("t", Tensor(shape: [], int64s: [3])),
                                  c("a", Tensor(shape: [], int64s: [0]))], opset: 1)[0]
        assertClose(t1, [3, 2], [1, 2, 1, 2, 1, 2])
        // Pad's constant value may arrive at run time
        let v = try run("Pad", [x(data), c("p", ints([1, 0])), Input(name: "v", tensor: Tensor(shape: [], floats: [5]))], opset: 11)[0]
        assertClose(v, [4], [5, 1, 2, 3])
    }
}
