import Testing
import SeededRandom
@testable import Contrastive

/// Rows of `value`, `count` rows of `dimension`.
private func rows(_ values: [Float], dimension: Int) -> [Float] {
    values.flatMap { [Float](repeating: $0, count: dimension) }
}

@Test func queueStartsWithRandomUnitRows() {
    var g = SeededGenerator(seed: 3)
    let queue = KeyQueue(capacity: 10, dimension: 6, generator: &g)
    #expect(queue.keys.count == 60)
    #expect(!queue.isFull && queue.pointer == 0)
    for r in 0..<10 {
        let norm = (0..<6).reduce(0.0) { $0 + Double(queue.keys[r * 6 + $1] * queue.keys[r * 6 + $1]) }.squareRoot()
        #expect(abs(norm - 1) < 1e-6)
    }
    var g2 = SeededGenerator(seed: 3)
    #expect(KeyQueue(capacity: 10, dimension: 6, generator: &g2) == queue)   // same seed, same start
}

@Test func enqueueWrapsAroundWhenCapacityIsNotAMultipleOfTheBatch() {
    // K = 5, B = 2: the third batch writes row 4 and wraps to row 0.
    var queue = KeyQueue(keys: [Float](repeating: -1, count: 5 * 3), dimension: 3)
    #expect(queue.enqueue(rows([1, 2], dimension: 3)) == false)
    #expect(queue.pointer == 2)
    #expect(queue.enqueue(rows([3, 4], dimension: 3)) == false)
    #expect(!queue.isFull)
    #expect(queue.enqueue(rows([5, 6], dimension: 3)) == true)     // this call fills the queue
    #expect(queue.isFull && queue.pointer == 1 && queue.enqueuedCount == 6)
    #expect(queue.keys == rows([6, 2, 3, 4, 5], dimension: 3))
    #expect(queue.enqueue(rows([7, 8], dimension: 3)) == false)    // "filled" is reported once
    #expect(queue.keys == rows([6, 7, 8, 4, 5], dimension: 3))
    #expect(queue.pointer == 3)
}

@Test func enqueueOfAFullQueueOverwritesTheOldestRows() {
    var queue = KeyQueue(keys: rows([0, 0, 0, 0], dimension: 2), dimension: 2)
    queue.enqueue(rows([1, 2, 3, 4], dimension: 2))                 // B = K
    #expect(queue.isFull && queue.pointer == 0)
    queue.enqueue(rows([5, 6, 7], dimension: 2))
    #expect(queue.keys == rows([5, 6, 7, 4], dimension: 2))
    queue.enqueue(rows([8, 9, 10], dimension: 2))                   // wraps: 4 (oldest), then 5, 6
    #expect(queue.keys == rows([9, 10, 7, 8], dimension: 2))
    #expect(queue.pointer == 2)
}
