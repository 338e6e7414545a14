// `cema patch diff|apply|inspect`: make, apply and read the parameter patches the cloud sends to devices.
import ArgumentParser
import CloudTrainer
import EdgeRuntime
import Foundation

struct PatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Make, apply and inspect parameter patches (new normalization parameters for a model).",
        subcommands: [PatchDiffCommand.self, PatchApplyCommand.self, PatchInspectCommand.self])
}

private func readBytes(_ path: String) -> [UInt8] {
    do { return try readFile(path) } catch { fail("\(error)") }
}

private func writeBytes(_ bytes: [UInt8], to path: String) {
    do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        fail("cannot write \(path): \(error.localizedDescription)")
    }
}

private func loadModel(bytes: [UInt8], path: String) -> Model {
    do { return try Model(bytes: bytes) } catch { fail("\(path): \(error)") }
}

struct PatchDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Write the patch that turns BASE into NEW (same graph; only normalization parameters may differ).")

    @Argument(help: "The model devices run (its SHA-256 is the patch's model identity).") var base: String
    @Argument(help: "The same model with new normalization parameters.") var new: String
    @Option(help: "Patch file to write.") var out: String
    @Option(help: "Precision of the values: fp32 or fp16.") var precision: String = "fp32"
    @Option(help: "Version the device's model must be at.") var baseVersion: UInt64 = 0
    @Option(help: "Version after the patch (default: base version + 1).") var newVersion: UInt64?
    @Option(help: "Creation time to record, in ms since 1970 (default: now; set it for reproducible bytes).")
    var createdUnixMs: UInt64?

    func run() throws {
        guard let precision = PatchPrecision(rawValue: precision) else {
            fail("--precision \(precision): expected fp32 or fp16")
        }
        let newVersion = newVersion ?? baseVersion &+ 1
        if newVersion == baseVersion { fail("--new-version must differ from --base-version (\(baseVersion))") }
        let baseModel = loadModel(bytes: readBytes(base), path: base)
        let newModel = loadModel(bytes: readBytes(new), path: new)
        let changed: [(name: String, dims: [Int], values: [Float])]
        do { changed = try PatchDiff.changedParameters(base: baseModel.graph, new: newModel.graph) } catch {
            fail("\(base) -> \(new): \(error)")
        }
        let created = createdUnixMs ?? UInt64(Date().timeIntervalSince1970 * 1000)
        let bytes: [UInt8]
        do {
            let patch = try PatchExporter.makePatch(
                modelSHA256: baseModel.modelSHA256, baseVersion: baseVersion, newVersion: newVersion,
                parameters: changed, precision: precision, createdUnixMs: created)
            bytes = try PatchExporter.serialize(patch)
        } catch { fail("\(error)") }
        writeBytes(bytes, to: out)
        let count = changed.reduce(0) { $0 + $1.values.count }
        print("wrote \(out): \(changed.count) parameters, \(count) values (\(precision.rawValue)), \(bytes.count) bytes, version \(baseVersion) -> \(newVersion)")
    }
}

struct PatchApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply patches in order, with every check a device makes, and write the patched model.")

    @Argument(help: "The base model the patches were made for.") var model: String
    @Argument(help: "Patch files, applied in order (versions must chain from 0).") var patches: [String]
    @Option(help: "ONNX file to write.") var out: String

    func run() throws {
        if patches.isEmpty { fail("give at least one patch file") }
        let original = readBytes(model)
        let m = loadModel(bytes: original, path: model)
        var names: [String] = []
        for path in patches {
            do {
                let patch = try PatchDecoder.decode(bytes: readBytes(path))
                try m.apply(patch)
                for p in patch.parameters where !names.contains(p.name) { names.append(p.name) }
            } catch { fail("\(path): \(error)") }
        }
        let bytes: [UInt8]
        do { bytes = try PatchedModelWriter.write(m, names: names, original: original) } catch {
            fail("\(model): \(error)")
        }
        writeBytes(bytes, to: out)
        print("wrote \(out): \(patches.count) patch(es) applied, \(names.count) parameters replaced, model version \(m.version)")
    }
}

struct PatchInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a patch's model identity, versions and parameters.")

    @Argument(help: "Patch file.") var patch: String

    func run() throws {
        let bytes = readBytes(patch)
        let s: PatchSummary
        do { s = try PatchReader.summary(bytes: bytes) } catch { fail("\(patch): \(error)") }
        print("patch       \(patch)")
        print("model       sha256 \(s.modelSHA256Hex)")
        print("versions    \(s.baseVersion) -> \(s.newVersion)")
        let created = Date(timeIntervalSince1970: Double(s.createdUnixMs) / 1000)
        print("created     \(s.createdUnixMs) ms (\(ISO8601DateFormatter().string(from: created)))")
        print("signature   " + (s.signatureBytes == 0 ? "none" : "\(s.signatureBytes) bytes (not verified here)"))
        print("parameters  \(s.tensors.count), \(s.tensors.reduce(0) { $0 + $1.count }) values")
        for t in s.tensors {
            let dims = t.dims.isEmpty ? "" : " \(describeShape(t.dims))"
            print("  \(t.name) \(t.kind)\(dims): \(t.count) values, min \(t.min), max \(t.max), \(t.valueBytes) bytes")
        }
        print("total       \(s.totalBytes) bytes")
    }
}
