// Ed25519 on the board (libsodium through the shim): RFC 8032's test vector 1, and the patch signature
// rules: the signature is the last field and covers every byte before it.
import XCTest
import CEdgeShim
@testable import EdgeRuntime

func fromHex(_ s: String) -> [UInt8] {
    let chars = Array(s.utf8)
    return stride(from: 0, to: chars.count, by: 2).map { UInt8(String(decoding: chars[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// RFC 8032 section 7.1, TEST 1 (the empty message).
enum RFC8032Test1 {
    static let seed = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    static let publicKey = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    static let signature = fromHex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
}

/// Test-side signing with libsodium: the unsigned encoding, then field 15 (tag 0x7a, length 64).
enum TestSigner {
    static let seed = (0..<32).map { UInt8($0 &* 7 &+ 1) }
    static var publicKey: [UInt8] { publicKey(of: seed) }

    static func publicKey(of seed: [UInt8]) -> [UInt8] {
        var pk = [UInt8](repeating: 0, count: 32)
        XCTAssertEqual(cedge_ed25519_public_key(seed, &pk), 0)
        return pk
    }

    static func signature(_ message: [UInt8], seed: [UInt8] = seed) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(message.withUnsafeBufferPointer { cedge_ed25519_sign(seed, $0.baseAddress, $0.count, &sig) }, 0)
        return sig
    }

    static func sign(_ unsigned: [UInt8], seed: [UInt8] = seed) -> [UInt8] {
        unsigned + [0x7a, 64] + signature(unsigned, seed: seed)
    }
}

final class SignatureTests: XCTestCase {
    let unsigned = encodeForTest(ParameterPatch(modelSHA256: SHA256.digest([1, 2, 3]), baseVersion: 0, newVersion: 1,
                                                parameters: [PatchParameter(name: "scale", values: [1, 2])]))

    func testRFC8032Vector1() {
        XCTAssertEqual(TestSigner.publicKey(of: RFC8032Test1.seed), RFC8032Test1.publicKey)
        XCTAssertEqual(TestSigner.signature([], seed: RFC8032Test1.seed), RFC8032Test1.signature)
        XCTAssertEqual(cedge_ed25519_verify(RFC8032Test1.signature, nil, 0, RFC8032Test1.publicKey), 0)
        var forged = RFC8032Test1.signature
        forged[10] ^= 0x01
        XCTAssertEqual(cedge_ed25519_verify(forged, nil, 0, RFC8032Test1.publicKey), -1)
        XCTAssertEqual(cedge_ed25519_verify(RFC8032Test1.signature, [0], 1, RFC8032Test1.publicKey), -1)
    }

    func testSignedPatchVerifiesAndDecodesToTheSamePatch() throws {
        let signed = TestSigner.sign(unsigned)
        let verifier = try SignatureVerifier(publicKey: TestSigner.publicKey)
        XCTAssertNoThrow(try verifier.verify(patchBytes: signed))
        let decoded = try PatchDecoder.decode(bytes: signed)
        XCTAssertEqual(decoded.signature.count, 64)
        XCTAssertEqual(decoded.parameters.first?.values, [1, 2])
    }

    func expect(_ bytes: [UInt8], _ expected: SignatureError, key: [UInt8] = TestSigner.publicKey, line: UInt = #line) throws {
        let verifier = try SignatureVerifier(publicKey: key)
        XCTAssertThrowsError(try verifier.verify(patchBytes: bytes), line: line) {
            XCTAssertEqual($0 as? SignatureError, expected, line: line)
        }
    }

    func testForgedAlteredWrongKeyMissingAndMisplacedSignaturesAreRefused() throws {
        let signed = TestSigner.sign(unsigned)
        var forged = signed
        forged[forged.count - 1] ^= 0x80
        try expect(forged, .invalid)
        for i in [0, 5, unsigned.count - 1] {   // any byte of the signed content
            var altered = signed
            altered[i] ^= 0x01
            XCTAssertThrowsError(try SignatureVerifier(publicKey: TestSigner.publicKey).verify(patchBytes: altered))
        }
        let otherSeed = [UInt8](repeating: 9, count: 32)
        try expect(signed, .invalid, key: TestSigner.publicKey(of: otherSeed))
        try expect(TestSigner.sign(unsigned, seed: otherSeed), .invalid)
        try expect(unsigned, .missing)
        try expect(signed + [0x28, 0x01], .notLastField)        // field 5 after the signature
        try expect(signed + [0x7a, 64] + [UInt8](repeating: 0, count: 64), .notLastField)  // a second signature
        try expect(unsigned + [0x7a, 3, 1, 2, 3], .wrongLength(bytes: 3))
        try expect(unsigned + [0x7a, 64, 1], .malformedMessage(reason: "field 15 runs past the end"))
    }

    func testKeyFilesRawAndHex() throws {
        let key = TestSigner.publicKey
        XCTAssertEqual(try SignatureKeyFile.decode(key), key)
        XCTAssertEqual(try SignatureKeyFile.decode(SignatureKeyFile.encode(key)), key)
        XCTAssertEqual(try SignatureKeyFile.decode(Array(SHA256.hex(key).uppercased().utf8)), key)
        XCTAssertThrowsError(try SignatureKeyFile.decode(Array("abc".utf8)))
        XCTAssertThrowsError(try SignatureKeyFile.decode(Array(String(repeating: "zz", count: 32).utf8)))
        XCTAssertThrowsError(try SignatureVerifier(publicKey: [1, 2, 3]))
    }
}
