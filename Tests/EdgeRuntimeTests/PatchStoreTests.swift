// PatchStore: verified installs persist and survive a restart; every refused patch leaves the files and
// the model as they were; a crash before any write step, or a torn or corrupt file, still restarts into a
// valid state; rollback returns to the previous parameters without reopening replays.
import Foundation
import XCTest
@testable import EdgeRuntime

final class PatchStoreTests: XCTestCase {
    let modelBytes = PatchTests.modelBytes()
    var hash: [UInt8] { SHA256.digest(modelBytes) }
    var directory = ""
    lazy var verifier = try! SignatureVerifier(publicKey: TestSigner.publicKey)

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("patchstore-\(UUID().uuidString)").path
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The BN parameters of state `v`: distinct values per version, so a restored state is recognisable.
    func values(_ v: UInt64) -> [String: [Float]] {
        let f = Float(v)
        return ["scale": [1 + f, 0.5 + f], "bias": [f, -f], "mean": [0.1 * f, -0.1], "var": [1 + f, 2]]
    }

    func signedPatch(base: UInt64, new: UInt64, values: [String: [Float]]? = nil, model: [UInt8]? = nil,
                     seed: [UInt8] = TestSigner.seed) -> [UInt8] {
        let vs = values ?? self.values(new)
        let parameters = vs.keys.sorted().map { PatchParameter(name: $0, values: vs[$0]!) }
        let patch = ParameterPatch(modelSHA256: model ?? hash, baseVersion: base, newVersion: new, parameters: parameters)
        return TestSigner.sign(encodeForTest(patch), seed: seed)
    }

    /// A restart: the shipped model loaded afresh and the store restored into it.
    func restart() throws -> (Model, PatchStoreState, PatchStore) {
        let model = try Model(bytes: modelBytes)
        let store = try PatchStore(directory: directory)
        let state = try store.restore(model)
        return (model, state, store)
    }

    func parameters(_ model: Model) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for name in ["scale", "bias", "mean", "var"] {
            let t = model.graph.initializers[name]!
            out[name] = Array(UnsafeBufferPointer(start: t.pointer(as: Float.self), count: t.count))
        }
        return out
    }

    func files() -> [String: Data] {
        var out: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            out[name] = FileManager.default.contents(atPath: directory + "/" + name)
        }
        return out
    }

    /// Installs v1 and v2 and checks the restart sees v2.
    func installTwo() throws {
        var (model, state, store) = try restart()
        XCTAssertEqual(state.slot, .shipped)
        XCTAssertEqual(try store.install(patchBytes: signedPatch(base: 0, new: 1), verifier: verifier, model: model), 1)
        XCTAssertEqual(try store.install(patchBytes: signedPatch(base: 1, new: 2), verifier: verifier, model: model), 2)
        (model, state, store) = try restart()
        XCTAssertEqual(state, PatchStoreState(slot: .active, version: 2, highestAccepted: 2, problems: []))
        XCTAssertEqual(parameters(model), values(2))
    }

    func testInstallPersistsAndARestartRestoresIt() throws {
        try installTwo()
        XCTAssertEqual(Set(files().keys), ["active", "previous"])
    }

    func testRefusedPatchesChangeNothingOnDiskOrInTheModel() throws {
        try installTwo()
        let (model, _, store) = try restart()
        let before = files()
        let otherModel = SHA256.digest([9, 9, 9])
        var forged = signedPatch(base: 2, new: 3)
        forged[forged.count - 5] ^= 0x10
        let cases: [(String, [UInt8], PatchStoreError)] = [
            ("forged signature", forged, .signature(.invalid)),
            ("wrong key", signedPatch(base: 2, new: 3, seed: [UInt8](repeating: 3, count: 32)), .signature(.invalid)),
            ("unsigned", encodeForTest(ParameterPatch(modelSHA256: hash, baseVersion: 2, newVersion: 3,
                                                      parameters: [PatchParameter(name: "scale", values: [1, 1])])),
             .signature(.missing)),
            ("replayed version", signedPatch(base: 1, new: 2), .staleVersion(got: 2, highestAccepted: 2)),
            ("older version", signedPatch(base: 0, new: 1), .staleVersion(got: 1, highestAccepted: 2)),
            ("other model", signedPatch(base: 2, new: 3, model: otherModel),
             .patch(.modelMismatch(expected: SHA256.hex(hash), got: SHA256.hex(otherModel)))),
            ("NaN", signedPatch(base: 2, new: 3, values: ["scale": [1, .nan]]), .patch(.nonFiniteValue(name: "scale", index: 1))),
            ("infinity", signedPatch(base: 2, new: 3, values: ["bias": [-.infinity, 0]]), .patch(.nonFiniteValue(name: "bias", index: 0))),
            ("not a normalization tensor", signedPatch(base: 2, new: 3, values: ["W": [Float](repeating: 0, count: 18)]),
             .patch(.notANormalizationParameter(name: "W"))),
            ("wrong base", signedPatch(base: 1, new: 3), .patch(.baseVersionMismatch(expected: 2, got: 1))),
        ]
        for (label, bytes, expected) in cases {
            XCTAssertThrowsError(try store.install(patchBytes: bytes, verifier: verifier, model: model), label) {
                XCTAssertEqual($0 as? PatchStoreError, expected, label)
            }
            XCTAssertEqual(files(), before, "\(label): the store's files changed")
            XCTAssertEqual(parameters(model), values(2), "\(label): the model changed")
            XCTAssertEqual(model.version, 2)
        }
        // And a good patch is still accepted afterwards.
        XCTAssertEqual(try store.install(patchBytes: signedPatch(base: 2, new: 3), verifier: verifier, model: model), 3)
    }

    func testACrashBeforeEveryWriteStepRestartsIntoAValidState() throws {
        for (index, crashStep) in PatchStoreStep.allCases.enumerated() {
            try? FileManager.default.removeItem(atPath: directory)
            try installTwo()
            let (model, _, store) = try restart()
            store.faultHook = { $0 != crashStep }
            XCTAssertThrowsError(try store.install(patchBytes: signedPatch(base: 2, new: 3), verifier: verifier, model: model)) {
                XCTAssertEqual($0 as? PatchStoreError, .stoppedBefore(crashStep))
            }
            let (restarted, state, newStore) = try restart()
            // Until the temporary file is renamed to active, the old state stands; after, the new one.
            let renamed = index > PatchStoreStep.allCases.firstIndex(of: .installTemporary)!
            let expected: UInt64 = renamed ? 3 : 2
            XCTAssertEqual(state.version, expected, "crash before \(crashStep.name)")
            XCTAssertEqual(parameters(restarted), values(expected), "crash before \(crashStep.name)")
            // The store keeps working: the next patch goes on from whatever state survived.
            XCTAssertEqual(try newStore.install(patchBytes: signedPatch(base: expected, new: 4), verifier: verifier,
                                                model: restarted), 4, "after a crash before \(crashStep.name)")
            let (final, finalState, _) = try restart()
            XCTAssertEqual(finalState.version, 4)
            XCTAssertEqual(parameters(final), values(4))
        }
    }

    /// The same crash points, but in a child process killed by SIGKILL inside the write (fork, then the
    /// hook kills the child at step k): no code of the store runs after the kill, not even a close().
    func testAChildKilledWithSIGKILLAtEveryWriteStepLeavesAValidStore() throws {
        for (index, crashStep) in PatchStoreStep.allCases.enumerated() {
            try? FileManager.default.removeItem(atPath: directory)
            try installTwo()
            let (model, _, store) = try restart()
            let patch = signedPatch(base: 2, new: 3)
            store.faultHook = { step in
                if step == crashStep { kill(getpid(), SIGKILL) }
                return true
            }
            let pid = fork()
            if pid == 0 {
                _ = try? store.install(patchBytes: patch, verifier: verifier, model: model)
                _exit(0)   // reached only if the hook did not fire
            }
            XCTAssertGreaterThan(pid, 0, "fork failed")
            var status: Int32 = 0
            XCTAssertEqual(waitpid(pid, &status, 0), pid)
            XCTAssertEqual(status & 0x7f, SIGKILL, "the child must die by SIGKILL before \(crashStep.name)")
            let (restarted, state, _) = try restart()
            let expected: UInt64 = index > PatchStoreStep.allCases.firstIndex(of: .installTemporary)! ? 3 : 2
            XCTAssertEqual(state.version, expected, "killed before \(crashStep.name)")
            XCTAssertEqual(parameters(restarted), values(expected), "killed before \(crashStep.name)")
        }
    }

    func testTornOrCorruptActiveFallsBackToPreviousAndBothBadToTheShippedModel() throws {
        try installTwo()
        let active = directory + "/active", previous = directory + "/previous"
        let good = FileManager.default.contents(atPath: active)!
        var damaged: [(String, Data)] = [0, 50, 95, 96, good.count - 1].map { ("truncated to \($0)", good.prefix($0)) }
        var flippedPayload = good
        flippedPayload[good.count - 3] ^= 0x04
        var flippedHeader = good
        flippedHeader[44] ^= 0x01
        damaged += [("payload bit flip", flippedPayload), ("header bit flip", flippedHeader)]
        for (label, bytes) in damaged {
            try bytes.write(to: URL(fileURLWithPath: active))
            let (model, state, _) = try restart()
            XCTAssertEqual(state.slot, .previous, label)
            XCTAssertEqual(state.version, 1, label)
            XCTAssertEqual(parameters(model), values(1), label)
            XCTAssertTrue(state.problems.first?.hasPrefix("active: ") ?? false, "\(label): \(state.problems)")
        }
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: previous))
        let (model, state, store) = try restart()
        XCTAssertEqual(state.slot, .shipped)
        XCTAssertEqual(state.version, 0)
        XCTAssertEqual(parameters(model), PatchTests.original.filter { ["scale", "bias", "mean", "var"].contains($0.key) })
        XCTAssertEqual(state.problems.count, 2)
        // A new patch from the shipped state replaces the corrupt active file.
        XCTAssertEqual(try store.install(patchBytes: signedPatch(base: 0, new: 5), verifier: verifier, model: model), 5)
        XCTAssertEqual(try restart().1.version, 5)
    }

    func testRollbackReturnsToThePreviousParametersAndKeepsTheCounter() throws {
        try installTwo()
        var (model, state, store) = try restart()
        XCTAssertEqual(try store.rollback(), 1)
        (model, state, store) = try restart()
        XCTAssertEqual(state.version, 1)
        XCTAssertEqual(state.highestAccepted, 2)
        XCTAssertEqual(parameters(model), values(1))
        XCTAssertThrowsError(try store.install(patchBytes: signedPatch(base: 1, new: 2), verifier: verifier, model: model)) {
            XCTAssertEqual($0 as? PatchStoreError, .staleVersion(got: 2, highestAccepted: 2))
        }
        XCTAssertEqual(try store.install(patchBytes: signedPatch(base: 1, new: 3), verifier: verifier, model: model), 3)
        (model, state, store) = try restart()
        XCTAssertEqual(state.version, 3)
        XCTAssertEqual(parameters(model), values(3))

        try FileManager.default.removeItem(atPath: directory + "/previous")
        XCTAssertThrowsError(try store.rollback()) {
            guard case PatchStoreError.noPrevious = $0 else { return XCTFail("\($0)") }
        }
    }

    func testSnapshotEncodingRoundTripsThroughTheDecoder() throws {
        let model = try Model(bytes: modelBytes)
        let snapshot = PatchStoreSnapshot.capture(model)
        XCTAssertEqual(Set(snapshot.parameters.map(\.name)), ["scale", "bias", "mean", "var"])
        XCTAssertEqual(try PatchDecoder.decode(bytes: PatchStoreSnapshot.encode(snapshot)), snapshot)
    }
}
