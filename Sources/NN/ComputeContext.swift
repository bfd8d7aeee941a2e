// ComputeContext: how many threads the engine may use. Results never depend on it (see the Parallel module).
// Deliberately not here: thread pools or scratch caches shared between calls (a context is a plain value).
import Foundation
import Parallel

/// The execution settings passed to every forward/backward call.
public struct ComputeContext: Sendable, Equatable {
    /// Worker threads for batch-parallel kernels (at least 1). Default: all active cores.
    /// Whatever the value, every result is bit-identical: work is split into a fixed number of parts that
    /// depends only on the shapes, and partial results are reduced in a fixed order.
    public var threads: Int

    /// Number of parts a batch is split into for the convolutions (fixed, independent of `threads`).
    public static let batchParts = 8

    /// The parts a batch of B images is split into (`batchParts`, fewer for a smaller batch); the convolutions and
    /// the fused stem's per-part accumulators agree on it through this one function and `partRange`.
    @inlinable public static func parts(batch B: Int) -> Int { min(batchParts, B) }

    /// The images of part `part` of a batch of B: near-equal parts, in order. Depends only on B, never on the
    /// thread count. (Parts of unequal sizes, large first and small last, were measured to shorten the tail when
    /// one core is slowed, but cost more CPU than they saved: smaller GEMMs in the last parts.)
    public static func partRange(_ part: Int, batch B: Int) -> Range<Int> {
        Parallel.partRange(part, of: parts(batch: B), count: B)
    }

    /// The largest part of a batch of B (the scratch a part needs is sized for it).
    public static func largestPart(batch B: Int) -> Int {
        let parts = Self.parts(batch: B)
        return parts == 0 ? 0 : (B + parts - 1) / parts
    }

    /// The number of active cores of this machine.
    public static var availableCores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// A context using `threads` threads (default: all cores). Also sets OpenBLAS to one thread, since the
    /// engine parallelises over the batch itself.
    public init(threads: Int = ComputeContext.availableCores) {
        self.threads = max(1, threads)
        configureBLASSingleThreaded()
        configureAllocator()
    }
}
