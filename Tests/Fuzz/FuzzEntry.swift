// The libFuzzer entry point of the one fuzz binary: CEDGE_FUZZ_TARGET (FrameFuzz or PatchFuzz) picks
// the harness, so the EdgeRuntime sources are compiled once for both.
import Glibc

private let target: String = getenv("CEDGE_FUZZ_TARGET").map { String(cString: $0) } ?? ""

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    switch target {
    case "FrameFuzz": return frameFuzz(data, size)
    case "PatchFuzz": return patchFuzz(data, size)
    default: fatalError("set CEDGE_FUZZ_TARGET to FrameFuzz or PatchFuzz")
    }
}
