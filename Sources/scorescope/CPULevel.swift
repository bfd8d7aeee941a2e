// CPULevel: the x86-64 level the numeric modules were compiled for, and the start-up check that this CPU has it.
//
// Release builds compile the numeric targets for x86-64-v3 (AVX2 + FMA) or, with SCORESCOPE_CPU=x86-64-v4 (what
// `make release` picks on a machine with AVX-512), for x86-64-v4. A v4 binary copied to, or run by a Slurm job
// on, a CPU without AVX-512 would die of an illegal instruction somewhere inside a kernel; it refuses to start
// instead, naming the missing flags and how to rebuild. This file is compiled at v3 (the executable's level), and
// the check runs before any numeric code. Deliberately not here: the OpenBLAS kernel choice (NN's
// BLASKernelChoice), which is a run-time choice.
import Foundation

enum CPULevel {
    /// The level the numeric targets were compiled for.
    #if SCORESCOPE_X86_64_V4
    static let compiled = "x86-64-v4"
    #else
    static let compiled = "x86-64-v3"
    #endif

    /// The CPU flags (as /proc/cpuinfo names them) each level needs.
    static func requiredFlags(_ level: String) -> [String] {
        // LLVM's x86-64-v3: AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT (cpuinfo: abm), MOVBE, XSAVE.
        let v3 = ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"]
        return level == "x86-64-v4" ? v3 + ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"] : v3
    }

    /// The flags of `level` that the first processor of `cpuinfo` lacks; empty when cpuinfo has no flags line
    /// (not Linux, or an unreadable file: nothing to check against). Parses the flags line itself although NN's
    /// BLASKernelChoice does too: NN is compiled at the level being checked, so none of its code may run first.
    static func missingFlags(_ level: String, cpuinfo: String?) -> [String] {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        let flags = Set((line.split(separator: ":").last ?? "").split(separator: " ").map(String.init))
        return requiredFlags(level).filter { !flags.contains($0) }
    }

    /// Exits with status 1 and a message when this CPU lacks a flag of the compiled level.
    static func checkOrExit() {
        let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let missing = missingFlags(compiled, cpuinfo: cpuinfo)
        guard !missing.isEmpty else { return }
        let rebuild = compiled == "x86-64-v4"
            ? "; rebuild for this machine with `make release` or `SCORESCOPE_CPU=x86-64-v3 swift build -c release`" : ""
        FileHandle.standardError.write(Data(("error: this scorescope was built for \(compiled), but this CPU lacks " +
            missing.joined(separator: ", ") + rebuild + "\n").utf8))
        exit(1)
    }
}
