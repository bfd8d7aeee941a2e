// BLASKernelChoice: which OpenBLAS kernel family to ask for on this CPU.
//
// OpenBLAS picks its kernels when the library is loaded, from OPENBLAS_CORETYPE or its own CPU detection. On
// some CPUs its detection fails and falls back to a generic SSE3 kernel ("Prescott", ~15x slower here: measured
// on an AVX-512 Xeon that OpenBLAS 0.3.21 does not recognise); on Zen 4 it picks AVX-512 kernels that are ~20 %
// slower than its AVX2 ones on conv-shaped GEMMs. The executable therefore chooses a kernel from the CPU flags
// and, when the environment does not name one, restarts itself once with OPENBLAS_CORETYPE set (the variable
// is read at load time only). Deliberately not here: the restart itself (the executable does it).
import Foundation

public enum BLASKernelChoice {
    /// The kernel family for this CPU: `SkylakeX` on Intel CPUs with AVX-512 (F, BW, DQ, VL), `Zen` on AMD CPUs
    /// with AVX2, `Haswell` on other CPUs with AVX2 + FMA; nil when no better choice than OpenBLAS's own is known.
    public static func preferredCoreType(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        guard let cpuinfo else { return nil }
        var vendor = "", flags = Set<Substring>()
        for line in cpuinfo.split(separator: "\n") {
            if vendor.isEmpty, line.hasPrefix("vendor_id") { vendor = String(line.split(separator: ":").last ?? "").trimmingCharacters(in: .whitespaces) }
            if flags.isEmpty, line.hasPrefix("flags") { flags = Set((line.split(separator: ":").last ?? "").split(separator: " ")) }
            if !vendor.isEmpty && !flags.isEmpty { break }
        }
        let avx2 = flags.contains("avx2") && flags.contains("fma")
        let avx512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy { flags.contains(Substring($0)) }
        if vendor == "GenuineIntel" && avx512 { return "SkylakeX" }
        if vendor == "AuthenticAMD" && avx2 { return "Zen" }
        if avx2 { return "Haswell" }
        return nil
    }
}
