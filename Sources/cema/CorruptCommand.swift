// `cema corrupt`: writes FMNIST-C (or any 28x28 IDX set under ImageNet-C corruptions) plus contact sheets.
import ArgumentParser
import Foundation
import Simulation

struct Corrupt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corrupt",
        abstract: "Corrupt a 28x28 IDX data set with the ImageNet-C corruptions (FMNIST-C), deterministically for a seed.",
        discussion: "Writes OUT/<corruption>/<severity>/images-idx3-ubyte and labels-idx1-ubyte (.gz with --gzip) "
            + "for every requested pair, OUT/<corruption>/contact-sheet.png (clean row, then one row per severity) and "
            + "OUT/contact-sheet.png (clean row, then one row per pair). Default input: the test split of Debian's "
            + "dataset-fashion-mnist. Benchmark corruptions ('all'): \(Corruption.benchmark.map(\.rawValue).joined(separator: ", ")). "
            + "Validation corruptions ('validation', for choosing hyperparameters only): \(Corruption.validation.map(\.rawValue).joined(separator: ", ")).")

    @Option(help: "A corruption name, a comma-separated list, 'all' (the 15 benchmark corruptions) or 'validation'.")
    var corruption = "all"

    @Option(help: "A severity 1-5, a comma-separated list, or 'all'.")
    var severity = "all"

    @Option(help: "Output directory (created if missing).")
    var out: String

    @Option(help: "IDX image file, gzip or plain (default: Fashion-MNIST t10k from dataset-fashion-mnist).")
    var images: String?

    @Option(help: "IDX label file matching --images.")
    var labels: String?

    @Option(help: "Seed; image i of (corruption, severity) depends only on (seed, corruption, severity, i).")
    var seed: UInt64 = 0

    @Option(help: "Corrupt only the first N images.")
    var count: Int?

    @Flag(help: "Write gzip-compressed IDX files (.gz).")
    var gzip = false

    @Option(help: "Images per contact-sheet row.")
    var sheetColumns = 10

    @Option(help: "Pixel enlargement in the contact sheets.")
    var sheetScale = 2

    func run() throws {
        let corruptions = parseCorruptions(corruption)
        let severities = parseSeverities(severity)
        if (images == nil) != (labels == nil) { fail("--images and --labels go together") }
        if let count, count <= 0 { fail("--count must be positive") }
        if sheetColumns < 1 || sheetScale < 1 { fail("--sheet-columns and --sheet-scale must be positive") }

        let dataset: IDXDataset
        do {
            let full = try images.map { try IDXDataset.load(images: $0, labels: labels!) } ?? FashionMNIST.load(.test)
            try full.requireImageSize(rows: Corruption.imageSide, columns: Corruption.imageSide)
            dataset = full.prefix(count)
        } catch { fail("\(error)") }

        let suite = CorruptionSuite(seed: seed)
        let shown = min(sheetColumns, dataset.count)
        let clean = (0..<shown).map { dataset.images.image(at: $0) }
        var overview = ContactSheet()
        overview.addRow(clean)
        let suffix = gzip ? ".gz" : ""
        let started = Date()
        for c in corruptions {
            var sheet = ContactSheet()
            sheet.addRow(clean)
            for s in severities {
                let t0 = Date()
                let corrupted = suite.corrupt(dataset, c, severity: s)
                let seconds = Date().timeIntervalSince(t0)
                let directory = "\(out)/\(c.rawValue)/\(s)"
                makeDirectory(directory)
                do {
                    try corrupted.write(images: "\(directory)/images-idx3-ubyte\(suffix)", labels: "\(directory)/labels-idx1-ubyte\(suffix)")
                } catch { fail("\(error)") }
                let row = (0..<shown).map { corrupted.images.image(at: $0) }
                sheet.addRow(row)
                overview.addRow(row)
                print("\(c.rawValue) severity \(s): \(corrupted.count) images in \(String(format: "%.2f", seconds)) s -> \(directory)")
            }
            writePNG(sheet, to: "\(out)/\(c.rawValue)/contact-sheet.png")
        }
        writePNG(overview, to: "\(out)/contact-sheet.png")
        print("done: \(corruptions.count * severities.count) streams of \(dataset.count) images in \(String(format: "%.1f", Date().timeIntervalSince(started))) s (seed \(seed))")
    }

    private func makeDirectory(_ path: String) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            fail("cannot create \(path): \(error.localizedDescription)")
        }
    }

    private func writePNG(_ sheet: ContactSheet, to path: String) {
        let bytes = sheet.png(scale: sheetScale)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fail("cannot write \(path)") }
    }
}
