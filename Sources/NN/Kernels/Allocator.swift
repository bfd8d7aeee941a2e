// Allocator tuning for the engine's big, short-lived arrays (glibc only; a no-op elsewhere).
// Deliberately not here: a buffer pool (Tensor storage is a Swift Array, allocated by the standard library).
#if canImport(Glibc)
import Glibc
#endif

/// The layers allocate their outputs and caches (up to ~26 MB each at batch 256) every step. By default
/// glibc serves such blocks with fresh mmap()s and returns them on free(), so every step pays page faults
/// and kernel zeroing on ~0.5 GB. Keeping big blocks in the heap and not trimming it removes most of that.
/// Done once per process; harmless for other allocations.
/// (Not covered: a thread's own malloc arena still unmaps a 64 MB heap when it empties; running with
/// GLIBC_TUNABLES=glibc.malloc.arena_max=1 avoids that too: measured −40 % page faults, −5 % forward CPU.)
func tuneAllocatorOnce() {
    _ = allocatorTuned
}

private let allocatorTuned: Bool = {
    #if canImport(Glibc)
    // mallopt is declared in <malloc.h>, which the Glibc module does not export: look it up by name.
    typealias MalloptFunction = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(nil, "mallopt") else { return false }
    let mallopt = unsafeBitCast(symbol, to: MalloptFunction.self)
    let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
    _ = mallopt(mmapThreshold, 512 << 20)
    _ = mallopt(trimThreshold, 1 << 30)
    #endif
    return true
}()
