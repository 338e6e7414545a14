// `cema demo`: classify Fashion-MNIST test images with a model and print its top predictions.
import ArgumentParser
import EdgeRuntime
import Foundation
import Simulation

let fashionClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify Fashion-MNIST test images: top-3 predictions for the first few, accuracy over all.")

    @Argument(help: "ONNX model taking [N, 1, 28, 28] pixels in [0, 1].") var model: String = "models/edge.onnx"
    @Option(help: "IDX images (default: Debian's dataset-fashion-mnist test set).") var images: String?
    @Option(help: "IDX labels matching --images.") var labels: String?
    @Option(help: "Images to show predictions for.") var show: Int = 8
    @Option(help: "Batch size.") var batch: Int = 64
    @Option(help: "Kernel threads (0: all cores).") var threads: Int = 0

    func run() throws {
        if (images == nil) != (labels == nil) { fail("--images and --labels go together") }
        if batch < 1 { fail("--batch must be positive") }
        RuntimeThreads.set(threads)
        let data: IDXDataset
        do { data = try images.map { try IDXDataset.load(images: $0, labels: labels!) } ?? FashionMNIST.load(.test) } catch { fail("\(error)") }
        let classifier: BatchClassifier
        do {
            classifier = try BatchClassifier(model: loadModel(model), name: model, batch: batch,
                                             rows: data.images.rows, columns: data.images.columns)
        } catch { fail("\(error)") }
        let start = Date()
        let correct = classifier.correctCount(data.images, data.labels)
        let seconds = Date().timeIntervalSince(start)
        let shown = min(show, data.count, batch)
        data.images.pixels.withUnsafeBufferPointer { px in
            let logits = classifier.logits(px.baseAddress!, count: shown)
            for i in 0..<shown {
                let probabilities = softmax(Array(UnsafeBufferPointer(start: logits + i * classifier.classes, count: classifier.classes)))
                let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
                let top = ranked.prefix(3).map { "\(name($0)) \(String(format: "%.1f%%", probabilities[$0] * 100))" }
                print("image \(i) (\(name(Int(data.labels.labels[i])))): " + top.joined(separator: ", "))
            }
        }
        print(String(format: "accuracy %.2f%% on %d images (%.0f images/s, batch %d, kernels %@)",
                     Double(correct) * 100 / Double(data.count), data.count, Double(data.count) / seconds, batch,
                     Platform.kernelISA))
    }

    func name(_ k: Int) -> String { k < fashionClasses.count ? fashionClasses[k] : "class \(k)" }
}

func softmax(_ x: [Float]) -> [Float] {
    let m = x.max() ?? 0
    let e = x.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}
