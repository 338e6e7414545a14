// Prepares a graph for fixed input shapes: topological order, shape inference, constant folding, and a
// static memory plan in which every activation owns a slot of one arena reused across inferences.
import CEdgeShim

struct PlannedStep {
    var node: Node
    var inputs: [Int?]        // value ids (nil: omitted optional input)
    var outputs: [Int]
    var build: OpBuild
}

/// Where a value lives at run time.
enum Placement {
    case constant(Tensor)
    case arena(offset: Int)
    case alias(of: Int)
}

struct Plan {
    var values: [ValueInfo]
    var names: [String]
    var placements: [Placement]
    var steps: [PlannedStep]
    var inputIds: [Int]
    var outputIds: [Int]
    var arenaBytes: Int
}

enum Planner {
    static let alignment = 64

    /// `fixedInputs` are graph inputs whose values are known when preparing: they become constants
    /// (and stop being session inputs), so shape-carrying inputs fold like initializers.
    static func plan(graph original: Graph, inputShapes: [String: [Int]], inputTypes: [String: ElementType] = [:],
                     fixedInputs: [String: Tensor] = [:], options: PrepareOptions = PrepareOptions()) throws(ModelLoadError) -> Plan {
        var graph = options.fuseQuantized ? QuantizedFusion.rewrite(original, keep: Set(options.observe)) : original
        if options.precision == .fp16 { graph = HalfPrecisionWeights.rewrite(graph) }
        // After the fp16 rewrite, which only recognises plain Conv nodes; observed values stay unfused.
        if options.fuseFloat { graph = FloatFusion.rewrite(graph, keep: Set(options.observe)) }
        var ids: [String: Int] = [:]
        var values: [ValueInfo] = []
        var names: [String] = []
        var placements: [Placement] = []

        func define(_ name: String, _ info: ValueInfo) -> Int {
            let id = values.count
            values.append(info)
            names.append(name)
            placements.append(info.constant.map { Placement.constant($0) } ?? .arena(offset: -1))
            ids[name] = id
            return id
        }

        for name in Array(inputShapes.keys) + Array(fixedInputs.keys) where !graph.inputs.contains(where: { $0.name == name }) {
            throw .unknownInput(name: name)
        }
        for name in graph.initializerOrder {
            let t = graph.initializers[name]!
            _ = define(name, ValueInfo(type: t.type, shape: t.shape, constant: t))
        }
        var inputIds: [Int] = []
        for declared in graph.inputs {
            if let value = fixedInputs[declared.name] {
                if let type = declared.type, type != value.type {
                    throw .inputTypeMismatch(input: declared.name, expected: type.name, got: value.type.name)
                }
                _ = try resolveShape(declared, given: value.shape)
                _ = define(declared.name, ValueInfo(type: value.type, shape: value.shape, constant: value))
                continue
            }
            guard declared.isTensor else {
                throw .unsupportedElementType(tensor: declared.name, type: "a sequence, map or optional (not a tensor)")
            }
            guard let type = declared.type ?? inputTypes[declared.name] else {
                throw .unsupportedElementType(tensor: declared.name, type: "undeclared")
            }
            if type == .bfloat16 || type == .string { throw .unsupportedElementType(tensor: declared.name, type: type.name) }
            if let given = inputTypes[declared.name], given != type {
                throw .inputTypeMismatch(input: declared.name, expected: type.name, got: given.name)
            }
            let shape = try resolveShape(declared, given: inputShapes[declared.name])
            inputIds.append(define(declared.name, ValueInfo(type: type, shape: shape)))
        }

        var steps: [PlannedStep] = []
        for node in try topologicalOrder(graph) {
            var inputIndices: [Int?] = []
            var infos: [ValueInfo?] = []
            for name in node.inputs {
                if name.isEmpty { inputIndices.append(nil); infos.append(nil); continue }
                guard let id = ids[name] else { throw .missingInput(name: name, node: node.label) }
                inputIndices.append(id)
                infos.append(values[id])
            }
            let build = try OperatorTable.build(OpContext(node: node, inputs: infos))
            if build.outputs.count < node.outputs.count {
                throw .unsupportedOperator(op: node.opType, node: node.label,
                                           reason: "node lists \(node.outputs.count) outputs, only \(build.outputs.count) are produced")
            }
            for out in build.outputs {
                var n = 1
                for d in out.shape {
                    let (p, overflow) = n.multipliedReportingOverflow(by: d)
                    if d < 0 || overflow || p > Int(Int32.max) {
                        throw .shapeError(node: node.label, reason: "output shape \(describeShape(out.shape)) is invalid or too large")
                    }
                    n = p
                }
            }
            // Shape and Size read only their input's shape, which is known now even when its data is not.
            let shapeOnly = node.opType == "Shape" || node.opType == "Size"
            let foldable = !node.inputs.isEmpty || node.opType == "Constant"
            if shapeOnly || (foldable && build.foldable && infos.allSatisfy({ $0 == nil || $0!.constant != nil })) {
                // Everything this node reads is known now: run it once and keep the results.
                var outs: [Tensor] = []
                for (i, _) in node.outputs.enumerated() {
                    outs.append(Tensor(type: build.outputs[i].type, shape: build.outputs[i].shape))
                }
                let inViews: [TensorView?] = infos.map { info in shapeOnly ? nil : info?.constant.map(viewOf) }
                build.makeKernel(inViews, outs.map(viewOf))()
                for (i, name) in node.outputs.enumerated() where !name.isEmpty {
                    _ = define(name, ValueInfo(type: outs[i].type, shape: outs[i].shape, constant: outs[i]))
                }
                continue
            }
            var outputIds: [Int] = []
            for (i, name) in node.outputs.enumerated() {
                let info = ValueInfo(type: build.outputs[i].type, shape: build.outputs[i].shape)
                // Omitted optional outputs still get memory: the kernel writes them.
                outputIds.append(define(name.isEmpty ? "\(node.label):unused\(i)" : name, info))
                if name.isEmpty { ids.removeValue(forKey: "\(node.label):unused\(i)") }
            }
            steps.append(PlannedStep(node: node, inputs: inputIndices, outputs: outputIds, build: build))
        }

        var outputIds: [Int] = []
        for declared in graph.outputs {
            guard let id = ids[declared.name] else { throw .missingInput(name: declared.name, node: "graph output") }
            outputIds.append(id)
        }
        for name in options.observe {
            guard let id = ids[name] else { throw .missingInput(name: name, node: "observed value") }
            outputIds.append(id)
        }

        let arenaBytes = assignArena(values: values, placements: &placements, steps: steps,
                                     inputIds: inputIds, outputIds: outputIds)
        return Plan(values: values, names: names, placements: placements, steps: steps,
                    inputIds: inputIds, outputIds: outputIds, arenaBytes: arenaBytes)
    }

    /// The concrete shape of a graph input: the caller's, checked against the declaration, or the
    /// declaration's own when every dimension is fixed.
    static func resolveShape(_ declared: ValueDeclaration, given: [Int]?) throws(ModelLoadError) -> [Int] {
        let expected = declared.shape
        func describeDeclared() -> String {
            guard let expected else { return "any shape" }
            var s = "["
            for (i, d) in expected.enumerated() {
                if i > 0 { s += ", " }
                switch d {
                case .fixed(let n): s += "\(n)"
                case .symbolic(let name): s += name.isEmpty ? "?" : name
                }
            }
            return s + "]"
        }
        if let given {
            if given.contains(where: { $0 < 0 }) {
                throw .inputShapeMismatch(input: declared.name, expected: describeDeclared(), got: describeShape(given))
            }
            if let expected {
                var ok = expected.count == given.count
                if ok {
                    for (d, g) in zip(expected, given) {
                        if case .fixed(let n) = d, n != g, n > 0 { ok = false }
                    }
                }
                if !ok { throw .inputShapeMismatch(input: declared.name, expected: describeDeclared(), got: describeShape(given)) }
            }
            return given
        }
        guard let expected else { throw .missingGraphInput(name: declared.name) }
        var shape: [Int] = []
        for d in expected {
            guard case .fixed(let n) = d, n >= 0 else {
                throw .inputShapeMismatch(input: declared.name, expected: describeDeclared(), got: "no shape (give one)")
            }
            shape.append(n)
        }
        return shape
    }

    /// ONNX requires nodes in topological order; exporters sometimes break it, so sort (stable, Kahn).
    static func topologicalOrder(_ graph: Graph) throws(ModelLoadError) -> [Node] {
        var producer: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for out in node.outputs where !out.isEmpty { producer[out] = i }
        }
        var pending = [Int](repeating: 0, count: graph.nodes.count)
        var consumers = [[Int]](repeating: [], count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() {
            for name in node.inputs where !name.isEmpty {
                if let p = producer[name], graph.initializers[name] == nil, p != i {
                    pending[i] += 1
                    consumers[p].append(i)
                }
            }
        }
        var ready: [Int] = []
        for i in 0..<graph.nodes.count where pending[i] == 0 { ready.append(i) }
        var order: [Node] = []
        var head = 0
        // Keep file order among ready nodes so results are reproducible.
        while head < ready.count {
            let i = ready[head]
            head += 1
            order.append(graph.nodes[i])
            for c in consumers[i] {
                pending[c] -= 1
                if pending[c] == 0 { ready.append(c) }
            }
        }
        if order.count != graph.nodes.count { throw .invalidModel(reason: "the graph has a cycle") }
        return order
    }

    static func roundUp(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// Liveness-based first-fit placement of every non-constant value in one arena.
    static func assignArena(values: [ValueInfo], placements: inout [Placement], steps: [PlannedStep],
                            inputIds: [Int], outputIds: [Int]) -> Int {
        let never = Int.max
        var root = Array(0..<values.count)
        for step in steps where step.build.aliasesInput0 {
            if let src = step.inputs.first ?? nil, case .arena = placements[src] {
                root[step.outputs[0]] = root[src]
            }
        }
        // Lifetimes in step indices: inputs are born before step 0, outputs live to the end.
        var birth = [Int](repeating: never, count: values.count)
        var death = [Int](repeating: -1, count: values.count)
        for id in inputIds { birth[root[id]] = -1; death[root[id]] = max(death[root[id]], -1) }
        for (s, step) in steps.enumerated() {
            for id in step.outputs {
                birth[root[id]] = min(birth[root[id]], s)
                death[root[id]] = max(death[root[id]], s)
            }
            for case let id? in step.inputs { death[root[id]] = max(death[root[id]], s) }
        }
        for id in outputIds { death[root[id]] = never }
        for id in inputIds { death[root[id]] = never }  // callers write inputs before each run

        var size = [Int](repeating: 0, count: values.count)
        for id in 0..<values.count {
            if case .arena = placements[id] {
                size[root[id]] = max(size[root[id]], roundUp(values[id].shape.reduce(1, *) * max(values[id].type.byteSize, 1)))
            }
        }

        var free: [(offset: Int, size: Int)] = []
        var end = 0
        var offset = [Int](repeating: -1, count: values.count)
        func allocate(_ bytes: Int) -> Int {
            var best = -1
            for (i, block) in free.enumerated() where block.size >= bytes {
                if best < 0 || block.size < free[best].size { best = i }
            }
            if best >= 0 {
                let block = free[best]
                if block.size == bytes { free.remove(at: best) } else { free[best] = (block.offset + bytes, block.size - bytes) }
                return block.offset
            }
            let at = end
            end += bytes
            return at
        }
        func release(_ at: Int, _ bytes: Int) {
            free.append((at, bytes))
            free.sort { $0.offset < $1.offset }
            var merged: [(offset: Int, size: Int)] = []
            for block in free {
                if let last = merged.last, last.offset + last.size == block.offset {
                    merged[merged.count - 1].size += block.size
                } else { merged.append(block) }
            }
            if let last = merged.last, last.offset + last.size == end {
                end = last.offset
                merged.removeLast()
            }
            free = merged
        }

        for id in inputIds where offset[root[id]] < 0 { offset[root[id]] = allocate(size[root[id]]) }
        for (s, step) in steps.enumerated() {
            for id in step.outputs where root[id] == id && offset[id] < 0 { offset[id] = allocate(size[id]) }
            var released: [Int] = []
            for case let id? in step.inputs {
                let r = root[id]
                if death[r] == s, offset[r] >= 0, !released.contains(r) { released.append(r) }
            }
            for id in step.outputs where root[id] == id && death[id] == s && !released.contains(id) { released.append(id) }
            for r in released { release(offset[r], size[r]) }
        }
        var peak = 0
        for id in 0..<values.count {
            guard case .arena = placements[id] else { continue }
            if root[id] != id {
                placements[id] = .alias(of: root[id])
            } else {
                placements[id] = .arena(offset: offset[id])
                peak = max(peak, offset[id] + size[id])
            }
        }
        return peak
    }
}

func viewOf(_ t: Tensor) -> TensorView {
    TensorView(type: t.type, shape: t.shape, data: t.raw)
}
