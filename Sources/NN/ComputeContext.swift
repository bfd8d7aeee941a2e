// ComputeContext: how many threads the engine may use. Results never depend on it (see Kernels/Parallel.swift).
// Deliberately not here: thread pools or scratch caches shared between calls (a context is a plain value).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The execution settings passed to every forward/backward call.
public struct ComputeContext: Sendable, Equatable {
    /// Worker threads for batch-parallel kernels (at least 1). Default: all active cores.
    /// Whatever the value, every result is bit-identical: work is split into a fixed number of parts that
    /// depends only on the shapes, and partial results are reduced in a fixed order.
    public var threads: Int

    /// Number of parts a batch is split into for the convolutions (fixed, independent of `threads`).
    public static let batchParts = 8

    /// The number of active cores of this machine.
    public static var availableCores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// A context using `threads` threads (default: all cores). Also sets OpenBLAS to one thread, since the
    /// engine parallelises over the batch itself.
    public init(threads: Int = ComputeContext.availableCores) {
        self.threads = max(1, threads)
        configureBLASSingleThreaded()
        _ = ComputeContext.allocatorTuned
    }

    /// The layers allocate their outputs and caches (up to ~26 MB each at batch 256) every step. By default
    /// glibc serves such blocks with fresh mmap()s and returns them on free(), so every step pays page faults
    /// and kernel zeroing on ~0.5 GB. Keeping big blocks in the heap and not trimming it removes that cost
    /// (measured: ~5 % of the encoder's CPU time). Done once per process; harmless for other allocations.
    static let allocatorTuned: Bool = {
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
}
