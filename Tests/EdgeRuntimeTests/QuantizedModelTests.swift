// QDQ models end to end: the fused int8 Conv/Gemm path against a float reference computed here, against the
// unfused dequantize -> fp32 -> quantize path, and under norm-affine patches (weights byte-identical).
import CEdgeShim
@testable import EdgeRuntime
import XCTest

final class QuantizedModelTests: XCTestCase {
    // Geometry of the test convolution.
    let n = 2, ic = 3, oc = 4, hw = 6
    let xScale: Float = 1.0 / 100, xZero: UInt8 = 128
    let yScale: Float = 0.02, yZero: UInt8 = 0
    let eps: Float = 1e-5

    struct Parameters {
        var w: [Int8], wScale: [Float], bias: [Float]
        var gamma: [Float], beta: [Float], mean: [Float], variance: [Float]
    }

    func parameters() -> Parameters {
        var rng = KernelRNG(seed: 9)
        return Parameters(
            w: (0..<(oc * ic * 9)).map { _ in Int8(rng.int(-127, 127)) },
            wScale: (0..<oc).map { _ in 0.004 * (1.5 + rng.float()) },
            bias: (0..<oc).map { _ in 0.2 * rng.float() },
            gamma: (0..<oc).map { _ in 1 + 0.5 * rng.float() }, beta: (0..<oc).map { _ in 0.3 * rng.float() },
            mean: (0..<oc).map { _ in 0.2 * rng.float() }, variance: (0..<oc).map { _ in 1.2 + rng.float() })
    }

    func scalar<T>(_ type: ElementType, _ v: T) -> Tensor {
        let t = Tensor(type: type, shape: [])
        t.raw.assumingMemoryBound(to: T.self)[0] = v
        return t
    }

    func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [String: Attribute] = [:]) -> Node {
        Node(opType: op, domain: "", name: outputs[0] + "_node", inputs: inputs, outputs: outputs, attributes: attributes, opsetVersion: 17)
    }

    /// x -> Q -> DQ -> Conv(DQ(W int8 per channel), bias) -> BN -> Relu -> Q -> DQ -> y, as ONNX bytes.
    func qdqModel(_ p: Parameters, xScaleOverride: Float? = nil, zeroType: ElementType = .uint8) throws -> [UInt8] {
        let w = Tensor(type: .int8, shape: [oc, ic, 3, 3])
        for (i, v) in p.w.enumerated() { w.pointer(as: Int8.self)[i] = v }
        var inits: [(String, Tensor)] = [
            ("xs", Tensor(shape: [], floats: [xScaleOverride ?? xScale])),
            ("xz", zeroType == .uint8 ? scalar(.uint8, xZero) : scalar(zeroType, Int16(0))),
            ("w", w), ("ws", Tensor(shape: [oc], floats: p.wScale)), ("wz", Tensor(type: .int8, shape: [oc])),
            ("b", Tensor(shape: [oc], floats: p.bias)),
            ("gamma", Tensor(shape: [oc], floats: p.gamma)), ("beta", Tensor(shape: [oc], floats: p.beta)),
            ("mean", Tensor(shape: [oc], floats: p.mean)), ("var", Tensor(shape: [oc], floats: p.variance)),
            ("ys", Tensor(shape: [], floats: [yScale])), ("yz", scalar(.uint8, yZero)),
        ]
        inits.sort { $0.0 < $1.0 }
        let graph = Graph(
            name: "qdq", nodes: [
                node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
                node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
                node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], ["axis": .int(0)]),
                node("Conv", ["xd", "wd", "b"], ["c"], ["pads": .ints([1, 1, 1, 1]), "kernel_shape": .ints([3, 3])]),
                node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["bn"], ["epsilon": .float(eps)]),
                node("Relu", ["bn"], ["r"]),
                node("QuantizeLinear", ["r", "ys", "yz"], ["rq"]),
                node("DequantizeLinear", ["rq", "ys", "yz"], ["y"]),
            ],
            initializers: Dictionary(uniqueKeysWithValues: inits), initializerOrder: inits.map { $0.0 },
            inputs: [ValueDeclaration(name: "x", isTensor: true, type: .float32, shape: [.fixed(n), .fixed(ic), .fixed(hw), .fixed(hw)])],
            outputs: [ValueDeclaration(name: "y", isTensor: true, type: .float32, shape: nil)],
            opsetVersion: 17, irVersion: 8, producer: "test")
        return try ONNXGraphWriter.encode(graph)
    }

    func input() -> Tensor {
        var rng = KernelRNG(seed: 3)
        return Tensor(shape: [n, ic, hw, hw], floats: (0..<(n * ic * hw * hw)).map { _ in 1.2 * rng.float() })
    }

    /// The QDQ graph's meaning, computed in Double from the ONNX definitions of each node.
    func reference(_ p: Parameters, _ x: Tensor) -> [Float] {
        let xs = x.floats()
        func q(_ v: Double, _ s: Float, _ z: UInt8) -> Double {
            let r = (v / Double(s)).rounded(.toNearestOrEven) + Double(z)
            return Swift.max(0, Swift.min(255, r))
        }
        let xd = xs.map { (q(Double($0), xScale, xZero) - Double(xZero)) * Double(xScale) }
        var out = [Float](repeating: 0, count: n * oc * hw * hw)
        for b in 0..<n {
            for m in 0..<oc {
                let g = Double(p.gamma[m]) / Double(p.variance[m] + eps).squareRoot()
                for y in 0..<hw {
                    for x0 in 0..<hw {
                        var acc = 0.0
                        for c in 0..<ic {
                            for ky in 0..<3 {
                                for kx in 0..<3 {
                                    let iy = y + ky - 1, ix = x0 + kx - 1
                                    if iy < 0 || iy >= hw || ix < 0 || ix >= hw { continue }
                                    let wv = Double(p.w[((m * ic + c) * 3 + ky) * 3 + kx]) * Double(p.wScale[m])
                                    acc += wv * xd[((b * ic + c) * hw + iy) * hw + ix]
                                }
                            }
                        }
                        var v = (acc + Double(p.bias[m]) - Double(p.mean[m])) * g + Double(p.beta[m])
                        v = Swift.max(v, 0)
                        out[((b * oc + m) * hw + y) * hw + x0] = Float((q(v, yScale, yZero) - Double(yZero)) * Double(yScale))
                    }
                }
            }
        }
        return out
    }

    /// Every output within one quantization step of the reference and nearly all of them exact: the folded
    /// float requantization may round a value lying within float error of a .5 boundary the other way.
    func assertMatches(_ got: [Float], _ want: [Float], line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, line: line)
        var exact = 0
        for (g, w) in zip(got, want) {
            XCTAssertLessThanOrEqual(abs(g - w), yScale * 1.001, line: line)
            if abs(g - w) < yScale / 2 { exact += 1 }
        }
        XCTAssertGreaterThanOrEqual(Double(exact), 0.97 * Double(want.count), line: line)
    }

    func testFusedPathMatchesReferenceAndUnfusedPath() throws {
        let p = parameters()
        let model = try Model(bytes: try qdqModel(p))
        let x = input()
        let fused = try model.prepare()
        XCTAssertEqual(fused.stepOperators, ["QuantizeLinear", "QConv", "DequantizeLinear"])
        let unfused = try model.prepare(options: PrepareOptions(fuseQuantized: false))
        XCTAssertTrue(unfused.stepOperators.contains("BatchNormalization"))
        let want = reference(p, x)
        assertMatches(try fused.run([x])[0].floats(), want)
        assertMatches(try unfused.run([x])[0].floats(), want)
        // The output really depends on the input (not a constant that would pass by accident).
        XCTAssertGreaterThan(Set(want).count, 20)
    }

    /// Observing a value inside a fusable chain (calibration does) stops the fusion there instead of failing
    /// at prepare: the conv output and the BatchNormalization output stay visible and equal the unfused path's.
    func testObservedValuesInsideAFusedChainStayVisible() throws {
        let p = parameters()
        let model = try Model(bytes: try qdqModel(p))
        let x = input()
        for name in ["c", "bn"] {
            let observed = try model.prepare(options: PrepareOptions(observe: [name]))
            XCTAssertTrue(observed.stepOperators.contains("QConv"), "\(observed.stepOperators)")
            let unfused = try model.prepare(options: PrepareOptions(fuseQuantized: false, observe: [name], fuseFloat: false))
            let got = try observed.run([x]), want = try unfused.run([x])
            XCTAssertEqual(got.count, 2)
            for (g, w) in zip(got[1].floats(), want[1].floats()) { XCTAssertEqual(g, w, accuracy: 1e-4 * Swift.max(1, abs(w))) }
            assertMatches(got[0].floats(), reference(p, x))
        }
    }

    func testPatchChangesOutputsButNeverTheWeights() throws {
        var p = parameters()
        let bytes = try qdqModel(p)
        let model = try Model(bytes: bytes)
        let session = try model.prepare()
        let x = input()
        let before = try session.run([x])[0].floats()
        let weight = model.graph.initializers["w"]!
        let weightBytes = Array(UnsafeRawBufferPointer(start: weight.raw, count: weight.byteCount))

        p.gamma = p.gamma.map { $0 * 0.6 }
        p.beta = p.beta.map { $0 + 0.25 }
        p.mean = p.mean.map { $0 - 0.1 }
        try model.apply(ParameterPatch(modelSHA256: SHA256.digest(bytes), baseVersion: 0, newVersion: 1, parameters: [
            PatchParameter(name: "gamma", dims: [oc], values: p.gamma), PatchParameter(name: "beta", dims: [oc], values: p.beta),
            PatchParameter(name: "mean", dims: [oc], values: p.mean),
        ]))
        let after = try session.run([x])[0].floats()
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: weight.raw, count: weight.byteCount)), weightBytes)
        XCTAssertNotEqual(after, before)
        assertMatches(after, reference(p, x))
        // A session prepared after the patch agrees with the one that picked it up at run time.
        XCTAssertEqual(try model.prepare().run([x])[0].floats(), after)
    }

    func testBadQuantizationParametersAreRefused() throws {
        let p = parameters()
        let zeroScale = try Model(bytes: try qdqModel(p, xScaleOverride: 0))
        XCTAssertThrowsError(try zeroScale.prepare()) { error in
            guard case .invalidTensor(let name, _)? = error as? ModelLoadError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "xs")
        }
        let int16Zero = try Model(bytes: try qdqModel(p, zeroType: .int16))
        XCTAssertThrowsError(try int16Zero.prepare()) { error in
            guard case .unsupportedOperator(let op, _, let reason)? = error as? ModelLoadError else { return XCTFail("\(error)") }
            XCTAssertEqual(op, "QuantizeLinear")
            XCTAssertTrue(reason.contains("int16"), reason)
        }
    }

    /// fp32 Conv -> BN -> Relu -> GAP -> Flatten -> Gemm, quantized by QuantizedGraphBuilder, written and
    /// re-read: int8 everywhere it should be, BN still patchable, logits close to fp32.
    func testQuantizerOutputRunsInt8AndStaysClose() throws {
        var rng = KernelRNG(seed: 5)
        let inits: [(String, Tensor)] = [
            ("cw", Tensor(shape: [8, 1, 3, 3], floats: rng.floats(72))),
            ("g", Tensor(shape: [8], floats: (0..<8).map { _ in 1 + 0.2 * rng.float() })),
            ("be", Tensor(shape: [8], floats: rng.floats(8).map { 0.1 * $0 })),
            ("mu", Tensor(shape: [8], floats: rng.floats(8).map { 0.1 * $0 })),
            ("va", Tensor(shape: [8], floats: (0..<8).map { _ in 1 + 0.5 * rng.float() })),
            ("fw", Tensor(shape: [5, 8], floats: rng.floats(40))), ("fb", Tensor(shape: [5], floats: rng.floats(5))),
        ]
        let graph = Graph(
            name: "fp32", nodes: [
                node("Conv", ["x", "cw"], ["c"], ["pads": .ints([1, 1, 1, 1])]),
                node("BatchNormalization", ["c", "g", "be", "mu", "va"], ["bn"]),
                node("Relu", ["bn"], ["r"]),
                node("GlobalAveragePool", ["r"], ["p"]),
                node("Flatten", ["p"], ["f"]),
                node("Gemm", ["f", "fw", "fb"], ["logits"], ["transB": .int(1)]),
            ],
            initializers: Dictionary(uniqueKeysWithValues: inits), initializerOrder: inits.map { $0.0 },
            inputs: [ValueDeclaration(name: "x", isTensor: true, type: .float32, shape: [.symbolic("N"), .fixed(1), .fixed(8), .fixed(8)])],
            outputs: [ValueDeclaration(name: "logits", isTensor: true, type: .float32, shape: nil)],
            opsetVersion: 17, irVersion: 8, producer: "test")
        let fp32 = Model(graph: graph)
        XCTAssertEqual(QuantizedGraphBuilder.activationsToQuantize(graph), ["x", "r", "f"])
        let calibrator = try ActivationCalibrator(model: fp32, names: QuantizedGraphBuilder.activationsToQuantize(graph), batch: 16)
        let x = Tensor(shape: [16, 1, 8, 8], floats: (0..<(16 * 64)).map { _ in 0.5 + 0.5 * rng.float() })
        calibrator.session.inputPointer(0).copyMemory(from: x.raw, byteCount: x.byteCount)
        calibrator.session.run()
        calibrator.recordRanges(rows: 16)
        let ranges = calibrator.ranges()
        XCTAssertEqual(ranges["x"]!.min, x.floats().min()!)
        XCTAssertEqual(ranges["r"]!.min, 0)
        let bytes = try ONNXGraphWriter.encode(try QuantizedGraphBuilder.build(graph, ranges: ranges))
        let q = try Model(bytes: bytes)
        XCTAssertNil(q.graph.initializers["cw"])
        XCTAssertEqual(q.graph.initializers["cw_quantized"]?.type, .int8)
        XCTAssertTrue(PatchTargets(graph: q.graph).patchable.isSuperset(of: ["g", "be", "mu", "va"]))
        let session = try q.prepare(batch: 16)
        XCTAssertEqual(session.stepOperators.filter { $0 == "QConv" || $0 == "QGemm" }, ["QConv", "QGemm"])
        let want = try fp32.prepare(batch: 16).run([x])[0].floats()
        let got = try session.run([x])[0].floats()
        let range = want.max()! - want.min()!
        for (g, w) in zip(got, want) { XCTAssertLessThan(abs(g - w), 0.05 * range) }
        XCTAssertNotEqual(got, want)   // it is really quantized
    }
}
