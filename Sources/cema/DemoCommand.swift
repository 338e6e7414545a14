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
        RuntimeThreads.set(threads)
        let data: IDXDataset
        do {
            if let images {
                guard let labels else { fail("--images needs --labels") }
                data = try IDXDataset.load(images: images, labels: labels)
            } else {
                data = try FashionMNIST.load(.test)
            }
        } catch { fail("\(error)") }
        let m = loadModel(model)
        let pixels = data.images.pixelsPerImage
        let session: Session
        do { session = try m.prepare(batch: batch) } catch { fail("\(model): \(error)") }
        guard session.inputShapes[0].reduce(1, *) == batch * pixels else {
            fail("\(model) takes \(describeShape(session.inputShapes[0])), the images are \(data.images.rows)x\(data.images.columns)")
        }
        let classes = session.outputShapes[0].last ?? 0
        let input = session.inputPointer(0).assumingMemoryBound(to: Float.self)
        var correct = 0
        let start = Date()
        var first = 0
        while first < data.count {
            let n = min(batch, data.count - first)
            for i in 0..<batch * pixels { input[i] = 0 }
            for b in 0..<n {
                let offset = (first + b) * pixels
                for p in 0..<pixels { input[b * pixels + p] = Float(data.images.pixels[offset + p]) / 255 }
            }
            session.run()
            let logits = session.outputView(0).f32
            for b in 0..<n {
                let row = logits + b * classes
                let probabilities = softmax(Array(UnsafeBufferPointer(start: row, count: classes)))
                let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
                let label = Int(data.labels.labels[first + b])
                if ranked[0] == label { correct += 1 }
                if first + b < show {
                    let top = ranked.prefix(3).map { "\(name($0)) \(String(format: "%.1f%%", probabilities[$0] * 100))" }
                    print("image \(first + b) (\(name(label))): " + top.joined(separator: ", "))
                }
            }
            first += n
        }
        let seconds = Date().timeIntervalSince(start)
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
