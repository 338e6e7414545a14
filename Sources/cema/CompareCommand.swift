// `cema compare`: are two TensorProto files equal within a tolerance (used to check board outputs).
import ArgumentParser
import EdgeRuntime

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compare two TensorProto files elementwise.")

    @Argument(help: "Result TensorProto file.") var actual: String
    @Argument(help: "Reference TensorProto file.") var expected: String
    @Option(help: "Absolute tolerance.") var atol: Double = 1e-5
    @Option(help: "Relative tolerance.") var rtol: Double = 0

    func run() throws {
        do {
            let a = try TensorProtoCodec.decode(bytes: try readFile(actual), label: actual).tensor
            let e = try TensorProtoCodec.decode(bytes: try readFile(expected), label: expected).tensor
            if let problem = EdgeRuntime.Conformance.compare(a, e, rtol: rtol, atol: atol) {
                fail("\(actual) differs from \(expected): \(problem)")
            }
            print("equal within atol \(atol), rtol \(rtol): max abs difference \(EdgeRuntime.Conformance.maxAbsoluteDifference(a, e))")
        } catch { fail("\(error)") }
    }
}
