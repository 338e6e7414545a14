// Runs test cases in the ONNX backend-test layout (model.onnx + test_data_set_N/{input,output}_K.pb) and
// compares outputs; shared by the host CLI and the board binary so both report the same way.
import CEdgeShim

public enum CaseOutcome {
    case passed
    case failed(String)
    case unsupported(String)
}

public enum Conformance {
    public static let relativeTolerance = 1e-3
    public static let absoluteTolerance = 1e-5

    /// Case directories under the given paths: a path holding model.onnx is a case, otherwise each of its
    /// subdirectories that holds one is.
    public static func caseDirectories(_ roots: [String]) -> [String] {
        var out: [String] = []
        for root in roots {
            if fileExists(root + "/model.onnx") { out.append(root); continue }
            for name in listDirectory(root) where fileExists(root + "/" + name + "/model.onnx") {
                out.append(root + "/" + name)
            }
        }
        return out
    }

    public static func runCase(_ directory: String) -> CaseOutcome {
        let graph: Graph
        do {
            graph = try ModelLoader.load(path: directory + "/model.onnx")
        } catch {
            return classify(error)
        }
        for declared in graph.inputs + graph.outputs where !declared.isTensor || declared.type == .bfloat16 || declared.type == .string {
            return .unsupported("value '\(declared.name)' is \(declared.isTensor ? declared.type!.name : "a sequence, map or optional")")
        }
        let model = Model(graph: graph)
        var sets = listDirectory(directory).filter { $0.hasPrefix("test_data_set_") }
        sets.sort()
        if sets.isEmpty { return .failed("no test_data_set_N directories") }
        for set in sets {
            let path = directory + "/" + set
            var fixed: [String: Tensor] = [:]
            // Backend tests feed shape-carrying tensors (Reshape's shape, Slice's starts...) as graph inputs;
            // deployed models keep them as initializers. Fix such an input to its test value and retry.
            var result = SetResult.retry
            while case .retry = result {
                do {
                    result = try runSet(graph, model, path, fixed: &fixed)
                } catch {
                    return classify(error)
                }
            }
            if case .mismatch(let why) = result { return .failed("\(set) \(why)") }
        }
        return .passed
    }

    enum SetResult {
        case matched
        case mismatch(String)
        /// An input had to be fixed to its value; run the set again.
        case retry
    }

    static func runSet(_ graph: Graph, _ model: Model, _ path: String, fixed: inout [String: Tensor])
        throws(ModelLoadError) -> SetResult {
        var inputs: [Tensor] = []
        var shapes: [String: [Int]] = [:]
        var types: [String: ElementType] = [:]
        var all: [String: Tensor] = [:]
        for (k, declared) in graph.inputs.enumerated() {
            let file = path + "/input_\(k).pb"
            if !fileExists(file) { throw .invalidModel(reason: "\(file) is missing") }
            let t = try TensorProtoCodec.decode(bytes: try readFile(file), label: file).tensor
            all[declared.name] = t
            if fixed[declared.name] != nil { continue }
            inputs.append(t)
            shapes[declared.name] = t.shape
            types[declared.name] = t.type
        }
        let session: Session
        do {
            session = try model.prepare(inputShapes: shapes, inputTypes: types, fixedInputs: fixed)
        } catch {
            if case .valueNeededAtPrepare(_, _, let value, _) = error, let t = all[value], fixed[value] == nil {
                fixed[value] = t
                return .retry
            }
            throw error
        }
        let outputs = try session.run(inputs)
        for (k, actual) in outputs.enumerated() {
            let file = path + "/output_\(k).pb"
            if !fileExists(file) { continue }
            let expected = try TensorProtoCodec.decode(bytes: try readFile(file), label: file).tensor
            if let problem = compare(actual, expected) {
                return .mismatch("output \(k) ('\(session.outputNames[k])'): \(problem)")
            }
        }
        return .matched
    }

    static func classify(_ error: ModelLoadError) -> CaseOutcome {
        switch error {
        case .unsupportedOperator, .unsupportedElementType, .unsupportedOpset, .externalData, .valueNeededAtPrepare:
            return .unsupported(error.description)
        default:
            return .failed(error.description)
        }
    }

    /// nil when equal within tolerance; otherwise what differs.
    public static func compare(_ actual: Tensor, _ expected: Tensor,
                               rtol: Double = relativeTolerance, atol: Double = absoluteTolerance) -> String? {
        if actual.type != expected.type { return "element type \(actual.type.name), expected \(expected.type.name)" }
        if actual.shape != expected.shape {
            return "shape \(describeShape(actual.shape)), expected \(describeShape(expected.shape))"
        }
        var worst = 0.0, worstIndex = -1
        let exact = !actual.type.isFloatingPoint
        for i in 0..<actual.count {
            let a = actual.scalarAsDouble(i), e = expected.scalarAsDouble(i)
            if a.isNaN && e.isNaN { continue }
            if a == e { continue }  // also equal infinities
            let error = a.isNaN || e.isNaN ? Double.infinity : (a - e).magnitude
            let allowed = exact ? 0 : atol + rtol * e.magnitude
            if error > allowed && (error > worst || worstIndex < 0) {
                worst = error
                worstIndex = i
            }
        }
        if worstIndex >= 0 {
            return "max error \(worst) at element \(worstIndex) (got \(actual.scalarAsDouble(worstIndex)), expected \(expected.scalarAsDouble(worstIndex)))"
        }
        return nil
    }

    /// Largest absolute difference (for reports when outputs agree).
    public static func maxAbsoluteDifference(_ a: Tensor, _ b: Tensor) -> Double {
        var worst = 0.0
        for i in 0..<min(a.count, b.count) { worst = max(worst, (a.scalarAsDouble(i) - b.scalarAsDouble(i)).magnitude) }
        return worst
    }
}

/// True for an existing regular file.
public func fileExists(_ path: String) -> Bool { cedge_read_file_exists(path) != 0 }

/// Sorted entry names of a directory (hidden ones skipped); empty when it cannot be read.
public func listDirectory(_ path: String) -> [String] {
    var joined: UnsafeMutablePointer<CChar>? = nil
    if cedge_list_directory(path, &joined) != 0 { return [] }
    defer { cedge_free(joined) }
    let text = String(cString: joined!)
    var names: [String] = []
    for part in text.split(separator: "\n") { names.append(String(part)) }
    return names
}

public struct ConformanceSummary {
    public var passed = 0
    public var failed = 0
    public var unsupported = 0
}

/// Runs cases, printing "pass NAME", "FAIL NAME: why" or "unsupported NAME: why" per case and the final
/// "N passed, M failed, K unsupported" line.
public func runConformance(_ cases: [String], quiet: Bool = false) -> ConformanceSummary {
    var summary = ConformanceSummary()
    for directory in cases {
        let name = directory.split(separator: "/").last.map(String.init) ?? directory
        switch Conformance.runCase(directory) {
        case .passed:
            summary.passed += 1
            if !quiet { print("pass \(name)") }
        case .failed(let why):
            summary.failed += 1
            print("FAIL \(name): \(why)")
        case .unsupported(let why):
            summary.unsupported += 1
            if !quiet { print("unsupported \(name): \(why)") }
        }
    }
    print("\(summary.passed) passed, \(summary.failed) failed, \(summary.unsupported) unsupported")
    return summary
}

/// Writes bytes to a file, mapping OS errors to a typed error.
public func writeFile(_ path: String, _ bytes: [UInt8]) throws(ModelLoadError) {
    let status = bytes.withUnsafeBufferPointer { cedge_write_file(path, $0.baseAddress, $0.count) }
    if status != 0 { throw .fileUnreadable(path: path, reason: String(cString: cedge_error_text(status))) }
}
