import Testing
import NN
import SeededRandom
@testable import Contrastive

private func randomTensors(_ g: inout SeededGenerator) -> [Tensor] {
    [Tensor(shape: [3, 4], storage: (0..<12).map { _ in Float(g.normal()) }),
     Tensor(shape: [5], storage: (0..<5).map { _ in Float(g.normal()) })]
}

@Test func momentumZeroCopiesTheQueryEncoder() {
    var g = SeededGenerator(seed: 1)
    var key = randomTensors(&g)
    let query = randomTensors(&g)
    momentumUpdate(key: &key, query: query, momentum: 0)
    #expect(key == query)
}

@Test func momentumOneKeepsTheKeyEncoder() {
    var g = SeededGenerator(seed: 2)
    let original = randomTensors(&g)
    var key = original
    momentumUpdate(key: &key, query: randomTensors(&g), momentum: 1)
    #expect(key == original)
}

@Test func momentumUpdateIsTheWeightedAverage() {
    var key = [Tensor(shape: [2], storage: [1, -2])]
    let query = [Tensor(shape: [2], storage: [3, 4])]
    momentumUpdate(key: &key, query: query, momentum: 0.75)
    #expect(key[0].storage == [1.5, -0.5])           // 0.75·1 + 0.25·3, 0.75·(−2) + 0.25·4: exact in Float
    momentumUpdate(key: &key, query: query, momentum: 0.5)
    #expect(key[0].storage == [2.25, 1.75])
}

@Test func cosineMomentumRisesFromTheBaseToOne() {
    let schedule = MomentumSchedule.cosine
    #expect(schedule.momentum(base: 0.99, step: 0, totalSteps: 100) == 0.99)
    #expect(abs(schedule.momentum(base: 0.9, step: 50, totalSteps: 100) - 0.95) < 1e-12)
    #expect(schedule.momentum(base: 0.9, step: 100, totalSteps: 100) == 1)
    var previous = 0.0
    for step in 0...100 {
        let m = schedule.momentum(base: 0.9, step: step, totalSteps: 100)
        #expect(m >= previous)
        previous = m
    }
    #expect(MomentumSchedule.constant.momentum(base: 0.99, step: 70, totalSteps: 100) == 0.99)
}

@Test func keyShuffleIsUndoneByUnshuffle() {
    var g = SeededGenerator(seed: 4)
    let x = Tensor(shape: [6, 2, 3], storage: (0..<36).map(Float.init))
    let permutation = g.permutation(6)
    let shuffled = KeyShuffle.shuffled(x, permutation: permutation)
    #expect(shuffled != x)
    for i in 0..<6 { #expect(Array(shuffled.storage[(i * 6)..<(i * 6 + 6)]) == Array(x.storage[(permutation[i] * 6)..<(permutation[i] * 6 + 6)])) }
    #expect(KeyShuffle.unshuffled(shuffled, permutation: permutation) == x)
}

@Test func momentumUpdateOfLongTensorsIsTheSameWhateverTheThreadCount() {
    var g = SeededGenerator(seed: 9)
    let sizes = [70_001, 3, 40_000]
    let key = sizes.map { n in Tensor(shape: [n], storage: (0..<n).map { _ in Float(g.normal()) }) }
    let query = sizes.map { n in Tensor(shape: [n], storage: (0..<n).map { _ in Float(g.normal()) }) }
    var results: [[Tensor]] = []
    for threads in [1, 2, 3] {
        var k = key
        momentumUpdate(key: &k, query: query, momentum: 0.99, threads: threads)
        results.append(k)
    }
    #expect(results[0] == results[1] && results[0] == results[2])
    for (t, i) in [(0, 0), (0, 70_000), (2, 39_999)] {
        #expect(results[0][t].storage[i] == 0.99 * key[t].storage[i] + (1 - 0.99) * query[t].storage[i])
    }
}
