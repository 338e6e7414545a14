// Facts about the machine and process output that work in Embedded builds (no Foundation).
import CEdgeShim

public enum Platform {
    public static var cpuCount: Int { Int(cedge_cpu_count()) }
    /// The instruction-set path the kernels chose ("avx2-fma", "neon", "portable").
    public static var kernelISA: String { String(cString: cedge_kernel_isa()) }
    /// How fp16 weights run: native fp16 arithmetic (ARMv8.2 FP16) or widened to fp32 (and by what).
    public static var halfPath: String { String(cString: cedge_half_path()) }
    /// The int8 convolution path chosen at run time ("avx512-vnni", "avx2", "neon-dotprod", "neon", "generic").
    public static var int8Path: String { String(cString: cedge_qkernel_isa()) }
    public static func monotonicNanoseconds() -> UInt64 { cedge_monotonic_ns() }
}

/// Writes a line to stderr (print goes to stdout).
public func printError(_ message: String) {
    cedge_write_stderr(message + "\n")
}
