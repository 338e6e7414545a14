// IDX reading of the Debian Fashion-MNIST files, the writer round trip, and every typed read error.
import XCTest
@testable import Simulation

final class IDXDatasetTests: XCTestCase {
    func testReadsDebianTestSplit() throws {
        guard let data = Fixtures.testSplit else { throw Fixtures.MissingData() }
        XCTAssertEqual(data.count, 10_000)
        XCTAssertEqual(data.images.rows, 28)
        XCTAssertEqual(data.images.columns, 28)
        XCTAssertTrue(data.labels.labels.allSatisfy { $0 <= 9 })
        // Expected values were read independently with Python's gzip module from the same files:
        // first label 9 (ankle boot), 1,000 images per class, pixel sums of the first and last image.
        XCTAssertEqual(data.labels.labels.first, 9)
        XCTAssertEqual(Array(data.labels.labels.prefix(10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
        XCTAssertEqual((0...9).map { c in data.labels.labels.filter { $0 == c }.count }, [Int](repeating: 1000, count: 10))
        XCTAssertEqual(data.images.image(at: 0).reduce(0) { $0 + Int($1) }, 33_456)
        XCTAssertEqual(data.images.image(at: 9_999).reduce(0) { $0 + Int($1) }, 24_390)
    }

    /// A second decompressor (the gzip tool) must agree with our zlib reader byte for byte.
    func testLabelsMatchAnIndependentDecompressor() throws {
        let path = FashionMNIST.labelsPath(.test)
        guard FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: "/bin/gzip") else {
            throw Fixtures.MissingData()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let raw = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        XCTAssertEqual(raw.count, 10_008)
        XCTAssertEqual(Array(raw[0..<8]), [0, 0, 8, 1, 0, 0, 0x27, 0x10]) // magic 0x801, count 10,000
        XCTAssertEqual(raw[8], 9)
        XCTAssertEqual(try IDXLabels.read(path).encoded(), raw)
    }

    func testReadsTrainingLabels() throws {
        let path = FashionMNIST.labelsPath(.train)
        guard FileManager.default.fileExists(atPath: path) else { throw Fixtures.MissingData() }
        XCTAssertEqual(try IDXLabels.read(path).count, 60_000)
    }

    func testWriterRoundTripsPlainAndGzip() throws {
        let dir = try Fixtures.temporaryDirectory()
        let images = IDXImages(count: 3, rows: 2, columns: 4, pixels: (0..<24).map { UInt8($0 * 10) })
        let labels = IDXLabels([7, 0, 255])
        let dataset = try IDXDataset(images: images, labels: labels)
        for suffix in ["", ".gz"] {
            let ip = "\(dir)/images\(suffix)", lp = "\(dir)/labels\(suffix)"
            try dataset.write(images: ip, labels: lp)
            XCTAssertEqual(try IDXDataset.load(images: ip, labels: lp), dataset)
        }
        let plain = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/images"))
        XCTAssertEqual([UInt8](plain.prefix(16)), [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 4])
        let gz = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/images.gz"))
        XCTAssertEqual([UInt8](gz.prefix(2)), [0x1F, 0x8B], "a .gz path is written gzip-compressed")
    }

    // MARK: errors

    func testMissingDefaultFileNamesTheDebianPackage() {
        XCTAssertThrowsError(try FashionMNIST.load(.test, directory: "/nonexistent/fashion-mnist")) { error in
            XCTAssertEqual(error as? IDXError, .fileNotFound(path: "/nonexistent/fashion-mnist/t10k-images-idx3-ubyte.gz"))
            XCTAssertTrue("\(error)".contains("apt-get install dataset-fashion-mnist"), "\(error)")
        }
        let hint = IDXError.fileNotFound(path: FashionMNIST.imagesPath(.train)).description
        XCTAssertTrue(hint.contains("apt-get install dataset-fashion-mnist"), hint)
    }

    func testWrongMagicNumber() throws {
        let dir = try Fixtures.temporaryDirectory()
        try IDXLabels([1, 2, 3]).write(to: "\(dir)/labels")
        XCTAssertThrowsError(try IDXImages.read("\(dir)/labels")) { error in
            XCTAssertEqual(error as? IDXError, .badMagic(path: "\(dir)/labels", found: 0x801, expected: 0x803))
            XCTAssertTrue("\(error)".contains("0x00000801"), "\(error)")
        }
    }

    func testTruncatedBodyAndHeader() {
        let full = IDXImages(count: 2, rows: 28, columns: 28, pixels: [UInt8](repeating: 1, count: 2 * 784)).encoded()
        XCTAssertThrowsError(try IDXImages.parse(Array(full.dropLast(100)), path: "x")) { error in
            XCTAssertEqual(error as? IDXError, .truncated(path: "x", expectedBytes: 16 + 1568, actualBytes: 16 + 1468))
        }
        XCTAssertThrowsError(try IDXImages.parse(Array(full.prefix(10)), path: "x")) { error in
            XCTAssertEqual(error as? IDXError, .truncated(path: "x", expectedBytes: 16, actualBytes: 10))
        }
        XCTAssertThrowsError(try IDXLabels.parse([0, 0], path: "y")) { error in
            XCTAssertEqual(error as? IDXError, .truncated(path: "y", expectedBytes: 8, actualBytes: 2))
        }
    }

    func testAbsurdHeaderIsTruncationNotACrash() {
        let bytes: [UInt8] = [0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2]
        XCTAssertThrowsError(try IDXImages.parse(bytes, path: "w")) { error in
            guard case .truncated(_, _, 18)? = error as? IDXError else { return XCTFail("\(error)") }
        }
    }

    func testTrailingData() {
        let bytes = IDXLabels([1, 2]).encoded() + [9]
        XCTAssertThrowsError(try IDXLabels.parse(bytes, path: "z")) { error in
            XCTAssertEqual(error as? IDXError, .trailingData(path: "z", expectedBytes: 10, actualBytes: 11))
        }
    }

    func testLabelCountMustMatchImageCount() throws {
        let dir = try Fixtures.temporaryDirectory()
        try IDXImages(count: 3, rows: 28, columns: 28, pixels: [UInt8](repeating: 0, count: 3 * 784)).write(to: "\(dir)/i")
        try IDXLabels([1, 2]).write(to: "\(dir)/l")
        XCTAssertThrowsError(try IDXDataset.load(images: "\(dir)/i", labels: "\(dir)/l")) { error in
            XCTAssertEqual(error as? IDXError, .countMismatch(images: 3, labels: 2))
        }
    }

    func testDamagedGzipStream() throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = "\(dir)/images.gz"
        try IDXImages(count: 50, rows: 28, columns: 28, pixels: (0..<50 * 784).map { UInt8($0 % 251) }).write(to: path)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try IDXImages.read(path)) { error in
            guard case .corruptGzip(let p, _)? = error as? IDXError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
        }
    }

    func testDirectoryIsUnreadable() throws {
        let dir = try Fixtures.temporaryDirectory()
        XCTAssertThrowsError(try IDXImages.read(dir)) { error in
            XCTAssertEqual(error as? IDXError, .unreadable(path: dir, reason: "is a directory"))
        }
    }

    func testImageSizeRequirement() throws {
        let data = try IDXDataset(images: IDXImages(count: 1, rows: 32, columns: 32, pixels: [UInt8](repeating: 0, count: 1024)),
                                  labels: IDXLabels([0]))
        XCTAssertThrowsError(try data.requireImageSize(rows: 28, columns: 28)) { error in
            XCTAssertEqual(error as? IDXError, .unsupportedImageSize(rows: 32, columns: 32, expectedRows: 28, expectedColumns: 28))
        }
    }
}
