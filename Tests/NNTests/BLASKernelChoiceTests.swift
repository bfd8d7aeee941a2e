import Testing
@testable import NN

@Test func kernelChoiceFollowsVendorAndFlags() {
    let intel512 = "vendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx2 fma avx512f avx512dq avx512bw avx512vl\n"
    let intel2 = "vendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx avx2 fma\n"
    let amd = "vendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 fma avx512f avx512dq avx512bw avx512vl\n"
    let old = "vendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 sse3\n"
    #expect(BLASKernelChoice.preferredCoreType(cpuinfo: intel512) == "SkylakeX")
    #expect(BLASKernelChoice.preferredCoreType(cpuinfo: intel2) == "Haswell")
    #expect(BLASKernelChoice.preferredCoreType(cpuinfo: amd) == "Zen")
    #expect(BLASKernelChoice.preferredCoreType(cpuinfo: old) == nil)
    #expect(BLASKernelChoice.preferredCoreType(cpuinfo: nil) == nil)
}
