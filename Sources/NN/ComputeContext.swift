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

    /// Relative sizes of the `batchParts` parts: large first, small last. Parts are handed to the threads in order,
    /// so the last, small ones fill the gap when one core has been slower (a busy host): the threads of a layer
    /// finish within about 1/32 of its work of each other instead of 1/8 with equal parts.
    static let partWeights = [6, 6, 5, 5, 4, 3, 2, 1]

    /// The images of part `part` of a batch of B: `partWeights` shares when every part gets at least one image of
    /// that split, near-equal parts otherwise. Depends only on B, never on the thread count.
    public static func partRange(_ part: Int, batch B: Int) -> Range<Int> {
        let parts = Self.parts(batch: B), total = partWeights.reduce(0, +)
        guard parts == partWeights.count, B >= total else { return Parallel.partRange(part, of: parts, count: B) }
        let before = partWeights[..<part].reduce(0, +)
        return (before * B / total)..<((before + partWeights[part]) * B / total)
    }

    /// The largest part of a batch of B (the scratch a part needs is sized for it).
    public static func largestPart(batch B: Int) -> Int {
        (0..<parts(batch: B)).map { partRange($0, batch: B).count }.max() ?? 0
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
