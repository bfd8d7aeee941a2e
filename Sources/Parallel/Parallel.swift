// Parallel loops: a fixed list of work items spread over the worker threads, and the pointer wrappers that carry
// buffers into them. One copy for every module that splits work over the cores (NN, Contrastive, Recording, Data,
// which may not import each other).
// Determinism rule: a work item's arithmetic never depends on which thread runs it or on how many threads
// there are; callers split work into a number of items that depends only on the shapes, and reduce partial
// results in item order afterwards. Deliberately not here: work stealing between nested loops, async tasks.
import Dispatch
import Synchronization

/// A raw pointer that may cross into `concurrentPerform` closures. Disjoint writes are the caller's job.
public struct SendablePointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    @inlinable public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    @inlinable public init(_ base: UnsafePointer<T>) { self.base = UnsafeMutablePointer(mutating: base) }
    /// The buffer's start (a dangling but never dereferenced address for an empty buffer).
    @inlinable public init(_ buffer: UnsafeMutableBufferPointer<T>) {
        self.base = buffer.baseAddress ?? UnsafeMutablePointer<T>(bitPattern: MemoryLayout<T>.alignment)!
    }
}

/// A read-only raw pointer that may cross into `concurrentPerform` closures.
public struct SendableConstPointer<T>: @unchecked Sendable {
    public let base: UnsafePointer<T>
    @inlinable public init(_ buffer: UnsafeBufferPointer<T>) {
        self.base = buffer.baseAddress ?? UnsafePointer<T>(bitPattern: MemoryLayout<T>.alignment)!
    }
}

/// Calls `body(item)` for every item in 0..<count, on at most `threads` threads; with one worker they run in order
/// on the caller. Items are handed out in order from a shared counter, so a worker that runs faster (on a vCPU the
/// host gives more time) takes more of them instead of waiting for the slow one at the end; which worker runs an
/// item never changes its arithmetic.
@inlinable
public func parallelFor(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    let workers = max(1, min(threads, count))
    if workers == 1 {
        for item in 0..<count { body(item) }
        return
    }
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            let item = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if item >= count { return }
            body(item)
        }
    }
}

/// `parallelFor` with `scratchCount` elements of scratch per worker, allocated once per worker (not per item) and
/// passed to every item that worker runs. Items must not rely on what an earlier item left in it.
@inlinable
public func parallelFor<T>(_ count: Int, threads: Int, scratch scratchCount: Int, of _: T.Type,
                           _ body: @Sendable (Int, UnsafeMutablePointer<T>) -> Void) {
    let workers = max(1, min(threads, count))
    let next = Atomic<Int>(0)
    parallelFor(workers, threads: workers) { _ in
        let scratch = UnsafeMutablePointer<T>.allocate(capacity: max(1, scratchCount))
        defer { scratch.deallocate() }
        while true {
            let item = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if item >= count { return }
            body(item, scratch)
        }
    }
}

/// The half-open range of part `index` when `count` things are split into `parts` near-equal parts.
@inlinable
public func partRange(_ index: Int, of parts: Int, count: Int) -> Range<Int> {
    (index * count / parts)..<((index + 1) * count / parts)
}

/// Calls `body(chunk, range)` for the fixed chunks of `chunkSize` elements of 0..<count (the last may be shorter),
/// on at most `threads` threads. The chunks depend only on `count` and `chunkSize`, so per-chunk partial results
/// reduced in chunk order never depend on the thread count.
@inlinable
public func parallelChunks(_ count: Int, chunkSize: Int, threads: Int, _ body: @Sendable (Int, Range<Int>) -> Void) {
    let size = max(1, chunkSize), chunks = (count + size - 1) / size
    parallelFor(chunks, threads: threads) { c in body(c, (c * size)..<min(count, (c + 1) * size)) }
}
