// `cema evaluate`: accuracy of a model on the clean test set and on FMNIST-C streams (the 15x5 grid).
import ArgumentParser
import EdgeRuntime
import Foundation
import Simulation

extension BatchClassifier {
    /// Top-1 class of every image, in order.
    func allPredictions(_ images: IDXImages) -> [Int] {
        var out: [Int] = []
        images.pixels.withUnsafeBufferPointer { px in
            var first = 0
            while first < images.count {
                let n = min(batch, images.count - first)
                out += predictions(logits(px.baseAddress! + first * pixelsPerImage, count: n), count: n)
                first += n
            }
        }
        return out
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accuracy on the clean test set and, with --corruption, on FMNIST-C streams.",
        discussion: "Images are corrupted on the fly (deterministic for --seed, the same bytes `cema corrupt` writes). "
            + "With --corruption all --severity all it prints the 15x5 grid as a Markdown table. Default data: the "
            + "test split of Debian's dataset-fashion-mnist.")

    @Argument(help: "ONNX model taking [N, 1, 28, 28] pixels in [0, 1].") var model: String
    @Option(help: "A corruption name, a comma-separated list, or 'all' (default: clean images only).") var corruption: String?
    @Option(help: "A severity 1-5, a comma-separated list, or 'all' (with --corruption; default all).") var severity = "all"
    @Option(help: "IDX images, gzip or plain (default: Fashion-MNIST t10k).") var images: String?
    @Option(help: "IDX labels matching --images.") var labels: String?
    @Option(help: "Evaluate only the first N images.") var count: Int?
    @Option(help: "Corruption seed.") var seed: UInt64 = 0
    @Option(help: "Batch size.") var batch: Int = 100
    @Option(help: "Kernel threads (0: all cores).") var threads: Int = 0
    @Option(help: "Also write the grid as Markdown to this file.") var markdown: String?
    @Flag(help: "Skip the clean-set row.") var noClean = false
    @Option(help: "fp32, fp16 (weights stored as binary16, arithmetic in fp32) or int8 (needs a QDQ model: cema quantize); default: as the file is.")
    var precision: String?
    @Option(help: "Write the clean-set predictions here, one class index per line (top-1 agreement between models and runtimes).")
    var predictions: String?

    func run() throws {
        if (images == nil) != (labels == nil) { fail("--images and --labels go together") }
        if batch < 1 { fail("--batch must be positive") }
        if let count, count <= 0 { fail("--count must be positive") }
        RuntimeThreads.set(threads)
        let dataset: IDXDataset
        do {
            let full = try images.map { try IDXDataset.load(images: $0, labels: labels!) } ?? FashionMNIST.load(.test)
            dataset = full.prefix(count)
        } catch { fail("\(error)") }
        let corruptions = corruption.map(parseCorruptions) ?? []
        let severities = corruption == nil ? [] : parseSeverities(severity)
        if !corruptions.isEmpty {
            do { try dataset.requireImageSize(rows: Corruption.imageSide, columns: Corruption.imageSide) } catch { fail("\(error)") }
        }
        let classifier: BatchClassifier
        let precisionName: String
        do {
            let file = loadModel(model)
            let m = try file.forDevice(precision.map { try DevicePrecision(parsing: $0) })
            let name = precision ?? file.nativePrecision.rawValue
            precisionName = name == "int8" ? "int8 (\(Platform.int8Path))" : name == "fp16" ? "fp16 \(Platform.halfPath)" : name
            classifier = try BatchClassifier(model: m, name: model, batch: batch,
                                             rows: dataset.images.rows, columns: dataset.images.columns)
        } catch { fail("\(error)") }

        print("\(model): \(dataset.count) images, batch \(batch), \(RuntimeThreads.current) threads, kernels \(Platform.kernelISA), \(precisionName)")
        var grid = AccuracyGrid()
        let streams = corruptions.flatMap { c in severities.map { (c, $0) } }
        let progress = ProgressLine(total: streams.count + (noClean ? 0 : 1), label: "evaluate")
        if !noClean {
            let correct = classifier.correctCount(dataset.images, dataset.labels)
            grid.clean = .init(correct: correct, total: dataset.count)
            if let predictions {
                let text = classifier.allPredictions(dataset.images).map { "\($0)\n" }.joined()
                guard FileManager.default.createFile(atPath: predictions, contents: Data(text.utf8)) else { fail("cannot write \(predictions)") }
            }
            progress.step("clean \(percent(grid.clean!.accuracy))%")
        }
        let suite = CorruptionSuite(seed: seed)
        for (c, s) in streams {
            let shifted = suite.corrupt(dataset.images, c, severity: s)
            let correct = classifier.correctCount(shifted, dataset.labels)
            grid.cells.append(.init(corruption: c, severity: s, score: .init(correct: correct, total: dataset.count)))
            progress.step("\(c.rawValue) s\(s) \(percent(grid.cells.last!.accuracy))%")
        }

        if let clean = grid.clean { print("clean accuracy: \(percent(clean.accuracy))% (\(clean.correct)/\(clean.total))") }
        if streams.count == 1, let cell = grid.cells.first {
            print("\(cell.corruption.rawValue) severity \(cell.severity): \(percent(cell.accuracy))% (\(cell.score.correct)/\(cell.score.total))")
        } else if !streams.isEmpty {
            print(grid.markdown())
            if let mean = grid.meanCorruptedAccuracy { print("mean over \(grid.cells.count) streams: \(percent(mean))%") }
        }
        print(String(format: "time: %.1f s", progress.elapsed))
        if let markdown {
            var text = grid.clean.map { "clean accuracy: \(percent($0.accuracy))%\n\n" } ?? ""
            if !grid.cells.isEmpty { text += grid.markdown() + "\n" }
            guard FileManager.default.createFile(atPath: markdown, contents: Data(text.utf8)) else { fail("cannot write \(markdown)") }
        }
    }
}
