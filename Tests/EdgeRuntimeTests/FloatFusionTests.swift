// The fp32 Conv -> BatchNormalization -> Relu/Clip fusion against the unfused path (one op each): the shipped
// models end to end, normalization patches applied in place after preparing, observed values, and the
// activation variants on a small graph.
import CEdgeShim
@testable import EdgeRuntime
import Foundation
import XCTest

final class FloatFusionTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let unfused = PrepareOptions(fuseFloat: false)

    func load(_ name: String) throws -> Model {
        try Model(path: Self.repository.appendingPathComponent("models/\(name).onnx").path)
    }

    func images(_ batch: Int, seed: UInt64) -> Tensor {
        var rng = KernelRNG(seed: seed)
        return Tensor(shape: [batch, 1, 28, 28], floats: (0..<(batch * 784)).map { _ in 1.5 * rng.float() })
    }

    /// Largest |got - want| over the largest |want| (at least 1): the error relative to the values' scale.
    func relativeError(_ got: [Float], _ want: [Float]) -> Float {
        XCTAssertEqual(got.count, want.count)
        var worst: Float = 0, scale: Float = 1
        for (g, w) in zip(got, want) {
            worst = max(worst, abs(g - w))
            scale = max(scale, abs(w))
        }
        return worst / scale
    }

    /// The last residual block's output (what GlobalAveragePool reads): compared besides the logits because
    /// it carries every fused layer's values, not just ten numbers.
    func lastFeatureMap(_ model: Model) -> String {
        model.graph.nodes.first { $0.opType == "GlobalAveragePool" }!.inputs[0]
    }

    func testShippedModelsFusedMatchUnfused() throws {
        for name in ["edge", "foundation"] {
            let model = try load(name)
            let features = lastFeatureMap(model)
            for batch in [1, 3] {
                let fused = try model.prepare(batch: batch, options: PrepareOptions(observe: [features]))
                let plain = try model.prepare(batch: batch, options: PrepareOptions(observe: [features], fuseFloat: false))
                // Every Conv is followed by a BatchNormalization in these models: all of them fold.
                XCTAssertFalse(fused.stepOperators.contains("BatchNormalization"), name)
                XCTAssertFalse(fused.stepOperators.contains("Conv"), name)
                // ... the shortcut convs with their block's strided conv, two per pair.
                let pairs = fused.stepOperators.filter { $0 == FusedConvPair.opType }.count
                XCTAssertEqual(pairs, 2, name)
                XCTAssertEqual(fused.stepOperators.filter { $0 == FloatFusion.opType }.count + 2 * pairs,
                               plain.stepOperators.filter { $0 == "Conv" }.count, name)
                XCTAssertLessThan(fused.stepOperators.count, plain.stepOperators.count - 10, name)
                // Every residual Add (and its Relu) joins its block's last conv.
                XCTAssertFalse(fused.stepOperators.contains { ["Add", "Relu", FloatFusion.addReluOpType].contains($0) }, name)
                let x = images(batch, seed: UInt64(batch))
                let a = try fused.run([x]), b = try plain.run([x])
                for k in 0..<2 {
                    let e = relativeError(a[k].floats(), b[k].floats())
                    XCTAssertLessThanOrEqual(e, 1e-5, "\(name) batch \(batch) output \(k)")
                }
                // Not a constant that would agree by accident.
                XCTAssertGreaterThan(Set(b[0].floats()).count, 5 * batch, name)
            }
        }
    }

    func testNormalizationPatchReachesPreparedFusedSession() throws {
        for name in ["edge", "foundation"] {
            let model = try load(name)
            let fused = try model.prepare(batch: 2)
            let plain = try model.prepare(batch: 2, options: Self.unfused)
            let x = images(2, seed: 11)
            let before = try fused.run([x])[0].floats()
            XCTAssertLessThanOrEqual(relativeError(before, try plain.run([x])[0].floats()), 1e-5, name)

            // The first BatchNormalization (followed by Relu), the last one (followed by the residual Add) and a
            // shortcut's (in a FusedConvPair).
            let layers = NormParameters.layers(of: model.graph).filter { $0.op == "BatchNormalization" }
            let shortcut = try XCTUnwrap(layers.first { $0.scale.contains("shortcut") }, name)
            var rng = KernelRNG(seed: 5)
            var parameters: [PatchParameter] = []
            for layer in [layers.first!, layers.last!, shortcut] {
                func values(_ name: String) -> [Float] { model.graph.initializers[name]!.floats() }
                let gamma = values(layer.scale).map { $0 * (0.5 + 0.4 * abs(rng.float())) }
                let beta = values(layer.bias!).map { $0 + 0.3 * rng.float() }
                let mean = values(layer.mean!).map { $0 - 0.2 * rng.float() }
                let variance = values(layer.variance!).map { $0 * (1.2 + abs(rng.float())) }
                for (n, v) in [(layer.scale, gamma), (layer.bias!, beta), (layer.mean!, mean), (layer.variance!, variance)] {
                    parameters.append(PatchParameter(name: n, dims: [v.count], values: v))
                }
            }
            try model.apply(ParameterPatch(modelSHA256: model.modelSHA256, baseVersion: 0, newVersion: 1,
                                           parameters: parameters))

            let after = try fused.run([x])[0].floats()
            let want = try plain.run([x])[0].floats()
            XCTAssertGreaterThan(relativeError(after, before), 1e-2, "\(name): the patch must change the logits")
            XCTAssertLessThanOrEqual(relativeError(after, want), 1e-5, "\(name): fused after the patch vs unfused")
            // A session prepared after the patch computes the same as the one that picked it up at run time.
            XCTAssertEqual(try model.prepare(batch: 2).run([x])[0].floats(), after, name)
        }
    }

    func testObservedValuesStayUnfused() throws {
        let model = try load("edge")
        let conv = model.graph.nodes.first { $0.opType == "Conv" }!
        let bn = model.graph.nodes.first { $0.opType == "BatchNormalization" && $0.inputs[0] == conv.outputs[0] }!
        let x = images(2, seed: 21)
        let plain = try model.prepare(batch: 2, options: PrepareOptions(observe: [conv.outputs[0], bn.outputs[0]],
                                                                        fuseFloat: false)).run([x])
        // Observing the conv output keeps that Conv whole; observing the BN output keeps its Relu separate.
        let keepConv = try model.prepare(batch: 2, options: PrepareOptions(observe: [conv.outputs[0]]))
        XCTAssertEqual(keepConv.stepOperators.first, "Conv")
        XCTAssertEqual(Array(keepConv.stepOperators.prefix(3)), ["Conv", "BatchNormalization", "Relu"])
        let keepBN = try model.prepare(batch: 2, options: PrepareOptions(observe: [bn.outputs[0]]))
        XCTAssertEqual(Array(keepBN.stepOperators.prefix(2)), [FloatFusion.opType, "Relu"])
        let a = try keepConv.run([x]), b = try keepBN.run([x])
        XCTAssertLessThanOrEqual(relativeError(a[1].floats(), plain[1].floats()), 1e-6)
        XCTAssertLessThanOrEqual(relativeError(b[1].floats(), plain[2].floats()), 1e-6)
        XCTAssertLessThanOrEqual(relativeError(a[0].floats(), plain[0].floats()), 1e-5)
        XCTAssertLessThanOrEqual(relativeError(b[0].floats(), plain[0].floats()), 1e-5)
    }

    // MARK: - activations without a normalization, on a small graph

    func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [String: Attribute] = [:]) -> Node {
        Node(opType: op, domain: "", name: outputs[0] + "_node", inputs: inputs, outputs: outputs, attributes: attributes,
             opsetVersion: 17)
    }

    /// x -> Conv(w, bias) -> act -> y; `act` nodes read "c" and write "y".
    func convGraph(_ act: [Node], extra: [(String, Tensor)] = [], extraInputs: [ValueDeclaration] = []) -> Model {
        var rng = KernelRNG(seed: 31)
        var inits: [(String, Tensor)] = [
            ("w", Tensor(shape: [6, 3, 3, 3], floats: rng.floats(6 * 27))),
            ("b", Tensor(shape: [6], floats: rng.floats(6))),
        ] + extra
        inits.sort { $0.0 < $1.0 }
        let graph = Graph(
            name: "conv-act",
            nodes: [node("Conv", ["x", "w", "b"], ["c"], ["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])])] + act,
            initializers: Dictionary(uniqueKeysWithValues: inits), initializerOrder: inits.map { $0.0 },
            inputs: [ValueDeclaration(name: "x", isTensor: true, type: .float32, shape: [.fixed(2), .fixed(3), .fixed(9), .fixed(9)])]
                + extraInputs,
            outputs: [ValueDeclaration(name: "y", isTensor: true, type: .float32, shape: nil)],
            opsetVersion: 17, irVersion: 8, producer: "test")
        return Model(graph: graph)
    }

    func testReluAndClipFuseWithoutNormalization() throws {
        var rng = KernelRNG(seed: 41)
        let x = Tensor(shape: [2, 3, 9, 9], floats: rng.floats(2 * 3 * 81))
        let lo = Tensor(shape: [], floats: [-0.3]), hi = Tensor(shape: [], floats: [0.4])
        let variants: [(String, Model)] = [
            ("relu", convGraph([node("Relu", ["c"], ["y"])])),
            ("clip", convGraph([node("Clip", ["c", "lo", "hi"], ["y"])], extra: [("lo", lo), ("hi", hi)])),
            ("clip max only", convGraph([node("Clip", ["c", "", "hi"], ["y"])], extra: [("hi", hi)])),
        ]
        for (what, model) in variants {
            let fused = try model.prepare()
            XCTAssertEqual(fused.stepOperators, [FloatFusion.opType], what)
            let got = try fused.run([x])[0].floats()
            let want = try model.prepare(options: Self.unfused).run([x])[0].floats()
            XCTAssertLessThanOrEqual(relativeError(got, want), 1e-6, what)
            XCTAssertGreaterThan(Set(want).count, 20, what)
            // The activation really clamps something.
            XCTAssertLessThan(Set(want).count, want.count, what)
        }
        // A Clip bound computed at run time is left to the Clip op.
        let dynamic = convGraph([node("Clip", ["c", "lo"], ["y"])],
                                extraInputs: [ValueDeclaration(name: "lo", isTensor: true, type: .float32, shape: [])])
        XCTAssertEqual(try dynamic.prepare().stepOperators, ["Conv", "Clip"])
    }

    /// Conv -> BatchNormalization (a fused conv) -> `tail` (nodes reading "n"), the norm's parameters included.
    func normGraph(_ tail: [Node], extra: [(String, Tensor)] = [], extraInputs: [ValueDeclaration] = [],
                   _ rng: inout KernelRNG) -> Model {
        let norm: [(String, Tensor)] = [("g", Tensor(shape: [6], floats: rng.floats(6).map { 1 + $0 / 2 })),
                                        ("be", Tensor(shape: [6], floats: rng.floats(6))),
                                        ("m", Tensor(shape: [6], floats: rng.floats(6))),
                                        ("v", Tensor(shape: [6], floats: rng.floats(6).map { 1 + abs($0) }))]
        return convGraph([node("BatchNormalization", ["c", "g", "be", "m", "v"], ["n"])] + tail, extra: extra + norm,
                         extraInputs: extraInputs)
    }

    func testResidualAddJoinsTheConv() throws {
        var rng = KernelRNG(seed: 43)
        let x = Tensor(shape: [2, 3, 9, 9], floats: rng.floats(2 * 3 * 81))
        let full = Tensor(shape: [2, 6, 5, 5], floats: rng.floats(300))
        let perChannel = Tensor(shape: [1, 6, 1, 1], floats: rng.floats(6))
        let wider = Tensor(shape: [3, 2, 6, 5, 5], floats: rng.floats(900))   // the conv output broadcasts into it
        let relu = node("Relu", ["s"], ["y"])
        for (what, r) in [("same shape", full), ("per channel", perChannel), ("wider", wider)] {
            // The conv output as either operand; with and without the Relu.
            for inputs in [["n", "r"], ["r", "n"]] {
                for withRelu in [true, false] {
                    let add = node("Add", inputs, [withRelu ? "s" : "y"])
                    let model = normGraph(withRelu ? [add, relu] : [add], extra: [("r", r)], &rng)
                    let label = "\(what) \(inputs) relu \(withRelu)"
                    let fused = try model.prepare()
                    XCTAssertEqual(fused.stepOperators, [FloatFusion.opType], label)
                    let got = try fused.run([x])[0], want = try model.prepare(options: Self.unfused).run([x])[0]
                    XCTAssertEqual(got.shape, want.shape, label)
                    XCTAssertLessThanOrEqual(relativeError(got.floats(), want.floats()), 1e-6, label)
                    XCTAssertEqual(want.floats().contains(0), withRelu, label)
                    XCTAssertTrue(want.floats().contains { $0 > 0 }, label)
                }
            }
        }
        // The residual a graph input (written before each run), and the Add's output observed: the Relu stays.
        let z = ValueDeclaration(name: "z", isTensor: true, type: .float32, shape: [.fixed(2), .fixed(6), .fixed(5), .fixed(5)])
        let observed = normGraph([node("Add", ["n", "z"], ["s"]), relu], extraInputs: [z], &rng)
        let session = try observed.prepare(options: PrepareOptions(observe: ["s"]))
        XCTAssertEqual(session.stepOperators, [FloatFusion.opType, "Relu"])
        let got = try session.run([x, full]), want = try observed.prepare(options: Self.unfused).run([x, full])
        XCTAssertLessThanOrEqual(relativeError(got[0].floats(), want[0].floats()), 1e-6)
        // Two fused convs' outputs added: the later conv joins, the earlier one's output is its residual.
        let second = [node("Conv", ["x", "w", "b"], ["c2"], ["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])]),
                      node("BatchNormalization", ["c2", "v", "g", "m", "v"], ["n2"])]
        let two = normGraph(second + [node("Add", ["n", "n2"], ["s"]), relu], &rng)
        let both = try two.prepare()
        XCTAssertEqual(both.stepOperators, [FloatFusion.opType, FloatFusion.opType])
        let a = try both.run([x])[0].floats(), b = try two.prepare(options: Self.unfused).run([x])[0].floats()
        XCTAssertLessThanOrEqual(relativeError(a, b), 1e-6)
        XCTAssertTrue(b.contains(0) && b.contains { $0 > 0 })
    }

    func testAddReluAfterConvFuses() throws {
        var rng = KernelRNG(seed: 44)
        let x = Tensor(shape: [2, 3, 9, 9], floats: rng.floats(2 * 3 * 81))
        let full = Tensor(shape: [2, 6, 5, 5], floats: rng.floats(300))
        // The conv's output is a graph output too: no join, but Add -> Relu is still one pass.
        var graph = normGraph([node("Add", ["n", "r"], ["s"]), node("Relu", ["s"], ["y"])], extra: [("r", full)], &rng).graph
        graph.outputs.append(ValueDeclaration(name: "n", isTensor: true, type: .float32, shape: nil))
        let model = Model(graph: graph)
        let fused = try model.prepare()
        XCTAssertEqual(fused.stepOperators, [FloatFusion.opType, FloatFusion.addReluOpType])
        let got = try fused.run([x]), want = try model.prepare(options: Self.unfused).run([x])
        for k in 0..<2 { XCTAssertLessThanOrEqual(relativeError(got[k].floats(), want[k].floats()), 1e-6, "output \(k)") }
        XCTAssertTrue(want[0].floats().contains(0) && want[0].floats().contains { $0 > 0 })
        // An Add of two graph inputs is not behind a conv: left alone.
        let z = ValueDeclaration(name: "z", isTensor: true, type: .float32, shape: [.fixed(2), .fixed(6), .fixed(5), .fixed(5)])
        let plain = convGraph([node("Add", ["z", "z2"], ["s"]), node("Relu", ["s"], ["t"]), node("Add", ["c", "t"], ["y"])],
                              extraInputs: [z, ValueDeclaration(name: "z2", isTensor: true, type: .float32, shape: z.shape)])
        XCTAssertEqual(try plain.prepare().stepOperators.filter { $0 == FloatFusion.addReluOpType }, [])
    }

    func testAddReluKernel() {
        // Vector bodies and tails, the pool's split (large n), in place, and NaN -> 0 as the Relu op gives it.
        var rng = KernelRNG(seed: 47)
        for n in [1, 15, 16, 17, 100, 40_000] {
            let a = rng.floats(n), b = rng.floats(n)
            var y = [Float](repeating: .nan, count: n)
            cedge_add_relu_f32(n, a, b, &y)
            XCTAssertEqual(y, zip(a, b).map { max($0 + $1, 0) }, "n \(n)")
            var inPlace = a
            inPlace.withUnsafeMutableBufferPointer { p in cedge_add_relu_f32(n, p.baseAddress, b, p.baseAddress) }
            XCTAssertEqual(inPlace, y, "in place, n \(n)")
        }
        var y: [Float] = [7]
        cedge_add_relu_f32(1, [Float.nan], [1], &y)
        XCTAssertEqual(y, [0])
    }

    /// x -> 3x3 stride-2 Conv -> BN -> Relu -> "a", and x -> 1x1 Conv (`shortcut` attributes) -> BN -> "b".
    func shortcutGraph(_ shortcut: [String: Attribute]) -> Model {
        var rng = KernelRNG(seed: 47)
        func norm(_ p: String) -> [(String, Tensor)] {
            [(p + "g", Tensor(shape: [6], floats: rng.floats(6).map { 1 + $0 / 2 })), (p + "b", Tensor(shape: [6], floats: rng.floats(6))),
             (p + "m", Tensor(shape: [6], floats: rng.floats(6))), (p + "v", Tensor(shape: [6], floats: rng.floats(6).map { 1 + abs($0) }))]
        }
        var inits: [(String, Tensor)] = [("wa", Tensor(shape: [6, 3, 3, 3], floats: rng.floats(6 * 27))),
                                         ("wb", Tensor(shape: [6, 3, 1, 1], floats: rng.floats(6 * 3)))] + norm("na") + norm("nb")
        inits.sort { $0.0 < $1.0 }
        let nodes = [
            node("Conv", ["x", "wa"], ["ca"], ["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])]),
            node("BatchNormalization", ["ca", "nag", "nab", "nam", "nav"], ["ba"]), node("Relu", ["ba"], ["a"]),
            node("Conv", ["x", "wb"], ["cb"], shortcut), node("BatchNormalization", ["cb", "nbg", "nbb", "nbm", "nbv"], ["b"]),
        ]
        let out = { (n: String) in ValueDeclaration(name: n, isTensor: true, type: .float32, shape: nil) }
        let graph = Graph(name: "shortcut", nodes: nodes, initializers: Dictionary(uniqueKeysWithValues: inits),
                          initializerOrder: inits.map { $0.0 },
                          inputs: [ValueDeclaration(name: "x", isTensor: true, type: .float32,
                                                    shape: [.fixed(2), .fixed(3), .fixed(9), .fixed(9)])],
                          outputs: [out("a"), out("b")], opsetVersion: 17, irVersion: 8, producer: "test")
        return Model(graph: graph)
    }

    func testShortcutConvJoinsItsBlockConv() throws {
        var rng = KernelRNG(seed: 53)
        let x = Tensor(shape: [2, 3, 9, 9], floats: rng.floats(2 * 3 * 81))
        let variants: [(String, [String: Attribute], [String])] = [
            ("1x1 stride 2", ["strides": .ints([2, 2])], [FusedConvPair.opType]),
            ("other strides", ["strides": .ints([1, 2]), "pads": .ints([0, 0, 0, 0])], [FloatFusion.opType, FloatFusion.opType]),
            ("auto_pad", ["strides": .ints([2, 2]), "auto_pad": .string("SAME_UPPER")], [FloatFusion.opType, FloatFusion.opType]),
        ]
        for (what, attributes, ops) in variants {
            let model = shortcutGraph(attributes)
            let fused = try model.prepare()
            XCTAssertEqual(fused.stepOperators, ops, what)
            let got = try fused.run([x]), want = try model.prepare(options: Self.unfused).run([x])
            for k in 0..<2 {
                XCTAssertLessThanOrEqual(relativeError(got[k].floats(), want[k].floats()), 1e-6, "\(what) output \(k)")
                XCTAssertGreaterThan(Set(want[k].floats()).count, 20, what)
            }
        }
    }
}
