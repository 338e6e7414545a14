// Cloud-side signing (swift-crypto) against RFC 8032 test vector 1 and against the board's verifier
// (libsodium through EdgeRuntime.SignatureVerifier): what the cloud signs, the board accepts, and nothing else.
@testable import CloudTrainer
import CEdgeShim
import Crypto
import EdgeRuntime
import Foundation
import XCTest

final class PatchSignerTests: XCTestCase {
    func hex(_ s: String) -> [UInt8] {
        let c = Array(s.utf8)
        return stride(from: 0, to: c.count, by: 2).map { UInt8(String(decoding: c[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }
    // RFC 8032 section 7.1, TEST 1.
    lazy var seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    lazy var publicKey = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    lazy var signature = hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")

    func unsignedPatch() throws -> [UInt8] {
        try PatchExporter.serialize(try PatchExporter.makePatch(
            modelSHA256: SHA256.digest([1, 2, 3]), baseVersion: 4, newVersion: 5,
            parameters: [(name: "bn.weight", dims: [3], values: [1, 0.5, -2])], precision: .fp32, createdUnixMs: 1234))
    }

    func testRFC8032Vector1WithSwiftCryptoAndLibsodium() throws {
        let key = try PatchSigningKey(seed: seed)
        XCTAssertEqual(key.publicKey, publicKey)
        let verifierKey = try Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        XCTAssertTrue(verifierKey.isValidSignature(signature, for: [UInt8]()))
        // swift-crypto's own signature of a message, checked by libsodium, and libsodium's check of the vector.
        let message = Array("interop".utf8)
        let mine = [UInt8](try key.key.signature(for: message))
        XCTAssertEqual(cedge_ed25519_verify(mine, message, message.count, publicKey), 0)
        XCTAssertEqual(cedge_ed25519_verify(signature, nil, 0, publicKey), 0)
    }

    func testSignedPatchIsTheUnsignedBytesPlusTheSignatureAndTheBoardAcceptsIt() throws {
        let unsigned = try unsignedPatch()
        let key = try PatchSigningKey(seed: seed)
        let signed = try PatchSigner.sign(patchBytes: unsigned, with: key)
        XCTAssertEqual(Array(signed.prefix(unsigned.count)), unsigned)
        XCTAssertEqual(Array(signed[unsigned.count..<unsigned.count + 2]), [0x7a, 64])
        XCTAssertEqual(signed.count, unsigned.count + 66)
        XCTAssertNoThrow(try SignatureVerifier(publicKey: publicKey).verify(patchBytes: signed))
        XCTAssertTrue(PatchSigner.isValid(patchBytes: signed, publicKey: publicKey))
        // Re-signing replaces the signature instead of appending a second one.
        let other = PatchSigningKey.generate()
        let resigned = try PatchSigner.sign(patchBytes: signed, with: other)
        XCTAssertEqual(resigned.count, signed.count)
        XCTAssertNoThrow(try SignatureVerifier(publicKey: other.publicKey).verify(patchBytes: resigned))
        XCTAssertThrowsError(try SignatureVerifier(publicKey: publicKey).verify(patchBytes: resigned)) {
            XCTAssertEqual($0 as? SignatureError, .invalid)
        }
        XCTAssertFalse(PatchSigner.isValid(patchBytes: resigned, publicKey: publicKey))
    }

    func testKeysFromFilesAndBadInput() throws {
        let key = PatchSigningKey.generate()
        let reread = try PatchSigningKey(keyFile: SignatureKeyFile.encode(key.seed))
        XCTAssertEqual(reread.publicKey, key.publicKey)
        XCTAssertThrowsError(try PatchSigningKey(seed: [1, 2, 3]))
        XCTAssertThrowsError(try PatchSigner.sign(patchBytes: [0xff, 0xff], with: key)) {
            guard case PatchSignerError.notAPatch = $0 else { return XCTFail("\($0)") }
        }
    }
}
