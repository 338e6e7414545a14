// A model prepared for fixed input shapes: one arena, kernels bound to it, inputs in and outputs out.
import CEdgeShim

public final class Session {
    public let inputNames: [String]
    public let outputNames: [String]
    public let inputShapes: [[Int]]
    public let outputShapes: [[Int]]
    public let inputTypes: [ElementType]
    public let outputTypes: [ElementType]
    /// Bytes of activation memory (the arena), for reports.
    public let arenaBytes: Int
    /// Bytes of the constant tensors the kernels read (weights, norm parameters, folded constants), each
    /// buffer once. Copies a kernel packs for itself at bind time are not in it.
    public let constantBytes: Int
    /// Operator type of each executed step, in order (folded constants are not steps).
    public let stepOperators: [String]

    private let arena: TensorBuffer
    /// Folded constants the kernels point into: the session owns them.
    private let constants: [Tensor]
    private let kernels: [Kernel]
    private let inputViews: [TensorView]
    private let outputViews: [TensorView]

    init(plan: Plan) {
        arenaBytes = plan.arenaBytes
        arena = TensorBuffer(byteCount: max(plan.arenaBytes, Planner.alignment))
        constants = plan.placements.compactMap { placement in
            if case .constant(let t) = placement { return t }
            return nil
        }
        var buffers = Set<UnsafeMutableRawPointer>()
        var bytes = 0
        for t in constants where buffers.insert(t.raw).inserted { bytes += t.byteCount }
        constantBytes = bytes
        let base = arena.pointer
        var views: [TensorView] = []
        views.reserveCapacity(plan.values.count)
        for (id, info) in plan.values.enumerated() {
            var placement = plan.placements[id]
            if case .alias(let of) = placement { placement = plan.placements[of] }
            switch placement {
            case .constant(let t): views.append(TensorView(type: info.type, shape: info.shape, data: t.raw))
            case .arena(let offset): views.append(TensorView(type: info.type, shape: info.shape, data: base + offset))
            case .alias: fatalError("alias chains are resolved to their root by the planner")
            }
        }
        var kernels: [Kernel] = []
        for step in plan.steps {
            let ins: [TensorView?] = step.inputs.map { id in id.map { views[$0] } }
            kernels.append(step.build.makeKernel(ins, step.outputs.map { views[$0] }))
        }
        self.kernels = kernels
        inputViews = plan.inputIds.map { views[$0] }
        outputViews = plan.outputIds.map { views[$0] }
        inputNames = plan.inputIds.map { plan.names[$0] }
        outputNames = plan.outputIds.map { plan.names[$0] }
        inputShapes = inputViews.map { $0.shape }
        outputShapes = outputViews.map { $0.shape }
        inputTypes = inputViews.map { $0.type }
        outputTypes = outputViews.map { $0.type }
        stepOperators = plan.steps.map { $0.node.opType }
    }

    /// Where input i must be written before `run()`; lets callers fill it without a copy.
    public func inputPointer(_ i: Int) -> UnsafeMutableRawPointer { inputViews[i].data }
    /// Output i after `run()`; valid until the next run.
    public func outputView(_ i: Int) -> TensorView { outputViews[i] }

    /// Runs the bound kernels over whatever the input slots hold. Allocates nothing.
    public func run() {
        for kernel in kernels { kernel() }
    }

    /// Runs step `index` alone (of `stepOperators.count`, in order): for per-step timing (`cema bench --profile`).
    public func runStep(_ index: Int) {
        kernels[index]()
    }

    /// Copies inputs in (checked against the prepared shapes and types), runs, and copies outputs out.
    public func run(_ inputs: [Tensor]) throws(ModelLoadError) -> [Tensor] {
        if inputs.count != inputViews.count {
            throw .invalidModel(reason: "the model takes \(inputViews.count) inputs, \(inputs.count) were given")
        }
        for (i, t) in inputs.enumerated() {
            let view = inputViews[i]
            if t.type != view.type {
                throw .inputTypeMismatch(input: inputNames[i], expected: view.type.name, got: t.type.name)
            }
            if t.shape != view.shape {
                throw .inputShapeMismatch(input: inputNames[i], expected: describeShape(view.shape), got: describeShape(t.shape))
            }
            view.data.copyMemory(from: t.raw, byteCount: t.byteCount)
        }
        run()
        var outputs: [Tensor] = []
        for view in outputViews {
            let t = Tensor(type: view.type, shape: view.shape)
            t.raw.copyMemory(from: view.data, byteCount: t.byteCount)
            outputs.append(t)
        }
        return outputs
    }
}

/// A loaded model: its graph, ready to be prepared for concrete input shapes.
public final class Model {
    public let graph: Graph
    /// SHA-256 of the ONNX file bytes it was loaded from: the identity a parameter patch must name.
    /// Empty for a model built from a Graph, which therefore accepts no patch.
    public let modelSHA256: [UInt8]
    /// 0 for the file as loaded; the new_version of the last parameter patch applied since.
    public internal(set) var version: UInt64 = 0

    public init(graph: Graph, modelSHA256: [UInt8] = []) {
        self.graph = graph
        self.modelSHA256 = modelSHA256
    }

    public convenience init(path: String) throws(ModelLoadError) {
        try self.init(bytes: try readFile(path))
    }

    public convenience init(bytes: [UInt8]) throws(ModelLoadError) {
        // fp16 files load as fp32 graphs with binary16 weights, what `--precision fp16` runs.
        self.init(graph: HalfPrecisionGraph.lowered(try ModelLoader.load(bytes: bytes)), modelSHA256: SHA256.digest(bytes))
    }

    /// Plans memory and binds kernels for these input shapes (inputs with fully fixed declared shapes
    /// may be left out). Shape errors, unsupported operators and missing values surface here.
    /// `fixedInputs` are inputs whose values are known now (shape tensors fed as inputs): they are
    /// folded in and are no longer session inputs.
    public func prepare(inputShapes: [String: [Int]] = [:], inputTypes: [String: ElementType] = [:],
                        fixedInputs: [String: Tensor] = [:], options: PrepareOptions = PrepareOptions()) throws(ModelLoadError) -> Session {
        Session(plan: try Planner.plan(graph: graph, inputShapes: inputShapes, inputTypes: inputTypes,
                                       fixedInputs: fixedInputs, options: options))
    }

    /// Prepares with the first dimension of every input set to `batch` (other symbolic dims must be fixed).
    public func prepare(batch: Int, options: PrepareOptions = PrepareOptions()) throws(ModelLoadError) -> Session {
        var shapes: [String: [Int]] = [:]
        for input in graph.inputs {
            guard let declared = input.shape else { continue }
            var shape: [Int] = []
            for (i, d) in declared.enumerated() {
                switch d {
                case .fixed(let n): shape.append(i == 0 ? batch : n)
                case .symbolic: if i == 0 { shape.append(batch) } else {
                    throw .inputShapeMismatch(input: input.name, expected: "fixed dimensions after the batch",
                                              got: "symbolic dimension \(i)")
                }
                }
            }
            shapes[input.name] = shape
        }
        return try prepare(inputShapes: shapes, options: options)
    }
}
