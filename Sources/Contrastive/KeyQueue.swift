// KeyQueue: MoCo's FIFO dictionary of the last K keys (He et al. 2020), as a ring buffer of unit rows.
// Starts with random unit vectors from a seeded generator; `enqueue` overwrites the oldest rows and wraps
// around, so K need not be a multiple of the batch size. Pitfall 2 of method.md: until `isFull` the learner
// contrasts against the random start vectors.
// Deliberately not here: any transformation of the stored keys (the feature transformations never touch the
// stored queue; they work on a copy inside InfoNCE).
import SeededRandom

/// A ring of `capacity` keys of `dimension` floats each (row-major K×D storage).
public struct KeyQueue: Sendable, Equatable {
    /// K, the number of rows.
    public let capacity: Int
    /// D, the length of each key.
    public let dimension: Int
    /// The rows, K×D row-major. Row order is storage order, not age order (see `pointer`).
    public private(set) var keys: [Float]
    /// The row the next enqueued key will overwrite (the oldest row once the queue is full).
    public private(set) var pointer: Int
    /// How many keys have ever been enqueued (saturates at `Int.max`, never in practice).
    public private(set) var enqueuedCount: Int

    /// A queue of K random unit rows (Gaussian directions) drawn from `generator`.
    public init(capacity: Int, dimension: Int, generator: inout SeededGenerator) {
        precondition(capacity > 0 && dimension > 0, "KeyQueue needs capacity > 0 and dimension > 0, got \(capacity), \(dimension)")
        self.capacity = capacity
        self.dimension = dimension
        var rows = [Float](repeating: 0, count: capacity * dimension)
        var v = [Double](repeating: 0, count: dimension)
        for r in 0..<capacity {
            var norm2 = 0.0
            repeat {
                norm2 = 0
                for d in 0..<dimension { v[d] = generator.normal(); norm2 += v[d] * v[d] }
            } while norm2 == 0
            let inv = 1 / norm2.squareRoot()
            for d in 0..<dimension { rows[r * dimension + d] = Float(v[d] * inv) }
        }
        self.keys = rows
        self.pointer = 0
        self.enqueuedCount = 0
    }

    /// A queue holding exactly `keys` (K×D, row-major) with the given pointer and count; for tests and checkpoints.
    public init(keys: [Float], dimension: Int, pointer: Int = 0, enqueuedCount: Int = 0) {
        precondition(dimension > 0 && !keys.isEmpty && keys.count % dimension == 0,
                     "KeyQueue: \(keys.count) floats do not make rows of \(dimension)")
        let capacity = keys.count / dimension
        precondition(pointer >= 0 && pointer < capacity && enqueuedCount >= 0,
                     "KeyQueue: pointer \(pointer) outside 0..<\(capacity) or negative count \(enqueuedCount)")
        self.capacity = capacity
        self.dimension = dimension
        self.keys = keys
        self.pointer = pointer
        self.enqueuedCount = enqueuedCount
    }

    /// Whether every start vector has been overwritten by a real key (at least K keys enqueued).
    public var isFull: Bool { enqueuedCount >= capacity }

    /// Writes `rows` (n×D row-major, n ≤ K) over the oldest rows, wrapping at the end of the storage.
    /// Returns true when this call made the queue full for the first time (the "queue filled" event).
    @discardableResult
    public mutating func enqueue(_ rows: [Float]) -> Bool {
        precondition(rows.count % dimension == 0, "enqueue: \(rows.count) floats do not make rows of \(dimension)")
        let n = rows.count / dimension
        precondition(n <= capacity, "enqueue: \(n) rows exceed the queue capacity \(capacity)")
        let wasFull = isFull
        let first = min(n, capacity - pointer)
        keys.withUnsafeMutableBufferPointer { k in
            rows.withUnsafeBufferPointer { r in
                guard let kb = k.baseAddress, let rb = r.baseAddress else { return }
                (kb + pointer * dimension).update(from: rb, count: first * dimension)
                if n > first { kb.update(from: rb + first * dimension, count: (n - first) * dimension) }
            }
        }
        pointer = (pointer + n) % capacity
        enqueuedCount = enqueuedCount > Int.max - n ? Int.max : enqueuedCount + n
        return !wasFull && isFull
    }
}
