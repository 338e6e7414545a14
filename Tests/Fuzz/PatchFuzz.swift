// libFuzzer target for what a board decodes from untrusted bytes: the signature locator, the patch decoder
// (protobuf-c + PatchDecoder's rules), the patch store's file header, and Model.check on a small model.
// Entered through FuzzEntry.swift; built with the EdgeRuntime sources in one module by Tests/Fuzz/run.sh.

func patchFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let key = [UInt8](repeating: 7, count: 32)
    if let verifier = try? SignatureVerifier(publicKey: key) {
        // A random key: no input may verify (a success would mean the locator or the check is broken).
        if (try? verifier.verify(patchBytes: bytes)) != nil { fatalError("an input verified under a random key") }
    }
    if let patch = try? PatchDecoder.decode(bytes: bytes) {
        // What decodes must re-encode and decode to the same patch (the store writes such encodings).
        var unsigned = patch
        unsigned.signature = []
        let again = try? PatchDecoder.decode(bytes: PatchStoreSnapshot.encode(asFP32(unsigned)))
        if again == nil { fatalError("a decoded patch did not survive re-encoding") }
    }
    let (record, _) = PatchStoreRecord.decode(bytes)
    if let record, record.encoded() != bytes { fatalError("a store record decoded but re-encodes differently") }
    return 0
}

/// The store always writes fp32; fp16 values widen exactly, so the round trip must hold.
func asFP32(_ patch: ParameterPatch) -> ParameterPatch {
    var p = patch
    for i in p.parameters.indices { p.parameters[i].kind = .fp32 }
    return p
}
