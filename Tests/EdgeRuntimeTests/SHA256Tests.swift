// SHA-256 against FIPS 180-4 / NIST example vectors and against Python hashlib on real files.
import XCTest
@testable import EdgeRuntime

final class SHA256Tests: XCTestCase {
    func hex(_ text: String) -> String { SHA256.hex(SHA256.digest(Array(text.utf8))) }

    // The three SHA-256 examples of FIPS 180-4 (NIST "Examples with intermediate values").
    func testFIPSVectors() {
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(SHA256.digest([UInt8](repeating: 0x61, count: 1_000_000))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testEmptyMessage() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    // Lengths around the padding boundaries (55 bytes leave room for the length in the last block, 56 do
    // not); expected values from python3 hashlib.sha256(b'a' * n).
    func testPaddingBoundaries() {
        let expected: [Int: String] = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            65: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
            119: "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
            120: "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
        ]
        for (n, digest) in expected {
            XCTAssertEqual(SHA256.hex(SHA256.digest([UInt8](repeating: 0x61, count: n))), digest, "length \(n)")
        }
    }

    // A real file; expected from python3 -c 'import hashlib; print(hashlib.sha256(open(P, "rb").read()).hexdigest())'.
    static let convTransposePath = "/usr/share/libonnx-testdata/data/pytorch-converted/test_ConvTranspose2d/model.onnx"
    static let convTransposeDigest = "ba26b02adad99f5aa585a2958df0fdecc783e70a563f8f8181fb205aa00702a1"

    func testRealFileMatchesHashlib() throws {
        let bytes = try readFile(Self.convTransposePath)
        XCTAssertEqual(bytes.count, 772)
        XCTAssertEqual(SHA256.hex(SHA256.digest(bytes)), Self.convTransposeDigest)
    }

    // Any split of the input gives the one-shot digest: partial blocks, whole blocks, empty pieces.
    func testIncrementalHashingMatchesOneShot() throws {
        let bytes = try readFile(Self.convTransposePath)
        for cuts in [[0], [1], [63], [64], [65], [10, 20, 150], [64, 128, 700], [771], [772]] {
            var hasher = SHA256Hasher()
            var start = 0
            for cut in cuts + [bytes.count] {
                hasher.update(Array(bytes[start..<cut]))
                start = cut
            }
            XCTAssertEqual(SHA256.hex(hasher.finalize()), Self.convTransposeDigest, "cuts \(cuts)")
        }
        var hasher = SHA256Hasher()
        _ = hasher.finalize()  // the hasher starts over after finalize
        hasher.update(Array("abc".utf8))
        XCTAssertEqual(SHA256.hex(hasher.finalize()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    // The model identity is the hash of the file bytes the model was loaded from.
    func testModelRemembersItsFileHash() throws {
        let path = "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding/model.onnx"
        let model = try Model(path: path)
        XCTAssertEqual(SHA256.hex(model.modelSHA256), "025c4f07de5193be344666caa019f76ff4cbff7a25a7afff142ad7bc34c84cd4")
        XCTAssertEqual(model.version, 0)
        XCTAssertEqual(try Model(bytes: readFile(path)).modelSHA256, model.modelSHA256)
    }
}
