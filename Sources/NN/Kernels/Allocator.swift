// Allocator tuning for the engine's big, short-lived arrays (glibc only; a no-op elsewhere).
// Deliberately not here: a buffer pool (Tensor storage is a Swift Array, allocated by the standard library).
#if canImport(Glibc)
import Glibc
#endif

/// The layers allocate their outputs and caches (up to ~26 MB each at batch 256) every step. By default
/// glibc serves such blocks with fresh mmap()s and returns them on free(), and a thread's own arena keeps
/// them in 64 MB heaps that are unmapped whenever they empty: either way every step paid page faults and
/// kernel zeroing (measured: ~17,000 faults, 70 MB, per MoCo step at batch 256). Three settings remove that:
/// one arena for all threads (the main heap grows without the 64 MB heap limit; our threads allocate few,
/// large blocks, so there is no lock contention to speak of), the largest mmap threshold glibc accepts
/// (32 MB: a larger value is refused and would leave the 128 KB default with its dynamic raise turned off),
/// and no trimming of the heap top. Call `configureAllocator()` first thing in `main`, before other threads
/// allocate (threads already attached to an arena keep it); `ComputeContext` calls it too, as a fallback.
/// Harmless for other allocations; done once per process.
public func configureAllocator() {
    _ = allocatorTuned
}

private let allocatorTuned: Bool = {
    #if canImport(Glibc)
    // mallopt is declared in <malloc.h>, which the Glibc module does not export: look it up by name.
    typealias MalloptFunction = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(nil, "mallopt") else { return false }
    let mallopt = unsafeBitCast(symbol, to: MalloptFunction.self)
    let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3, arenaMax: Int32 = -8   // M_TRIM_THRESHOLD, ...
    _ = mallopt(arenaMax, 1)
    _ = mallopt(mmapThreshold, 32 << 20)
    _ = mallopt(trimThreshold, 1 << 30)
    #endif
    return true
}()
