// Parallel: the one way Contrastive splits work over cores. Work is cut into a FIXED number of chunks that
// does not depend on the thread count, so every chunk computes the same bytes whichever thread runs it and the
// results are bit-identical for 1 or N threads. Reductions happen afterwards, in chunk order, by the caller.
// Deliberately not here: work stealing, nested parallelism, OpenBLAS threads (OpenBLAS runs single-threaded).
import Dispatch

/// A raw pointer that may cross into `concurrentPerform` closures; disjoint writes are the caller's duty.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.pointer = buffer.baseAddress ?? UnsafeMutablePointer<T>(bitPattern: 8)! }
}

/// A read-only raw pointer that may cross into `concurrentPerform` closures.
struct SendableConstPointer<T>: @unchecked Sendable {
    let pointer: UnsafePointer<T>
    init(_ buffer: UnsafeBufferPointer<T>) { self.pointer = buffer.baseAddress ?? UnsafePointer<T>(bitPattern: 8)! }
}

/// Runs `body(chunk)` for every chunk in 0..<chunks, on up to `threads` threads (serially when threads ≤ 1).
/// Worker w takes chunks w, w + threads, ... so which thread runs a chunk never changes what it computes.
func forEachChunk(_ chunks: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    if chunks <= 0 { return }
    let workers = min(max(threads, 1), chunks)
    if workers == 1 {
        for c in 0..<chunks { body(c) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        var c = w
        while c < chunks { body(c); c += workers }
    }
}

/// The half-open range of chunk `index` when `count` items are cut into `chunks` near-equal contiguous parts.
@inline(__always)
func chunkRange(_ index: Int, of chunks: Int, count: Int) -> Range<Int> {
    (index * count / chunks)..<((index + 1) * count / chunks)
}
