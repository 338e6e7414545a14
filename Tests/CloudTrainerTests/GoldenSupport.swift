// Test support: the PyTorch goldens written by models/make_grad_golden.py (models/golden/grad_golden.json
// indexes raw float32 arrays and scalars), and the error measure the golden tests assert on.
import Foundation
import XCTest

struct GradGolden {
    let arrays: [String: (file: String, offset: Int, shape: [Int])]
    let scalars: [String: Double]
    let teacherSource: String
    /// PyTorch module names of the edge model's BN layers, in order.
    let bnLayers: [String]
    /// The same for the foundation model.
    let foundationBNLayers: [String]
    private var files: [String: [Float]] = [:]

    static let directory = repositoryRoot.appendingPathComponent("models/golden")

    init() throws {
        let data = try Data(contentsOf: GradGolden.directory.appendingPathComponent("grad_golden.json"))
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let arrays = json["arrays"] as? [String: [String: Any]],
              let scalars = json["scalars"] as? [String: Double] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        var parsed: [String: (String, Int, [Int])] = [:]
        for (k, v) in arrays {
            parsed[k] = (v["file"] as! String, v["offset"] as! Int, v["shape"] as! [Int])
        }
        self.arrays = parsed
        self.scalars = scalars
        teacherSource = json["teacher_source"] as? String ?? ""
        bnLayers = json["bn_layers"] as? [String] ?? []
        foundationBNLayers = json["foundation_bn_layers"] as? [String] ?? []
        for file in Set(parsed.values.map { $0.0 }) {
            files[file] = try readFloats(GradGolden.directory.appendingPathComponent(file))
        }
    }

    func array(_ key: String, file: StaticString = #filePath, line: UInt = #line) -> [Float] {
        guard let a = arrays[key], let data = files[a.file] else {
            XCTFail("golden array \(key) is missing", file: file, line: line)
            return []
        }
        let n = a.shape.reduce(1, *)
        return Array(data[a.offset..<(a.offset + n)])
    }

    func scalar(_ key: String, file: StaticString = #filePath, line: UInt = #line) -> Float {
        guard let v = scalars[key] else {
            XCTFail("golden scalar \(key) is missing", file: file, line: line)
            return .nan
        }
        return Float(v)
    }
}

/// Relative error of `got` against `expected`: max_i |got_i - expected_i| / max(|expected_i|, floor),
/// floor = 1e-2 * max_j |expected_j| (entries far below the tensor's scale are judged against it, since
/// float32 sums cancel there), and never below 1e-6.
func relativeError(_ got: [Float], _ expected: [Float]) -> Double {
    precondition(got.count == expected.count, "lengths differ: \(got.count) vs \(expected.count)")
    let scale = expected.map { abs(Double($0)) }.max() ?? 0
    let floor = max(1e-2 * scale, 1e-6)
    var worst = 0.0
    for i in 0..<got.count {
        let e = abs(Double(got[i]) - Double(expected[i])) / max(abs(Double(expected[i])), floor)
        if !e.isFinite { return .infinity }
        worst = max(worst, e)
    }
    return worst
}

/// For reports: max_i |got_i - expected_i| / |expected_i| over entries with |expected_i| >= 1e-3 * max|expected|,
/// and the largest absolute difference.
func plainErrors(_ got: [Float], _ expected: [Float]) -> (relative: Double, absolute: Double) {
    let scale = expected.map { abs(Double($0)) }.max() ?? 0
    var rel = 0.0, absolute = 0.0
    for i in 0..<min(got.count, expected.count) {
        let d = abs(Double(got[i]) - Double(expected[i]))
        absolute = max(absolute, d)
        if abs(Double(expected[i])) >= 1e-3 * scale { rel = max(rel, d / abs(Double(expected[i]))) }
    }
    return (rel, absolute)
}

func assertClose(_ got: [Float], _ expected: [Float], tolerance: Double, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard got.count == expected.count, !expected.isEmpty else {
        XCTFail("\(what): \(got.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    let e = relativeError(got, expected)
    XCTAssertLessThanOrEqual(e, tolerance, "\(what): relative error \(e)", file: file, line: line)
}
