import Testing
import SeededRandom
@testable import Contrastive

/// Gaussian clusters: class c has centre e_c·separation (+ a shared random offset), noise σ = 1.
private func clusters(perClass: Int, classes: Int, dimension: Int, separation: Double,
                      _ g: inout SeededGenerator) -> (features: [Float], labels: [Int]) {
    var features = [Float](), labels = [Int]()
    let offset = (0..<dimension).map { _ in g.normal() }
    for i in 0..<(perClass * classes) {
        let c = i % classes
        for d in 0..<dimension {
            features.append(Float(offset[d] + (d == c ? separation : 0) + g.normal()))
        }
        labels.append(c)
    }
    return (features, labels)
}

@Test func knnSeparatesWellSeparatedClusters() {
    var g = SeededGenerator(seed: 1)
    let train = clusters(perClass: 60, classes: 4, dimension: 8, separation: 12, &g)
    let test = clusters(perClass: 25, classes: 4, dimension: 8, separation: 12, &g)
    let monitor = KNNMonitor(neighbors: 20, temperature: 0.1)
    let result = monitor.evaluate(trainFeatures: train.features, trainLabels: train.labels,
                                  testFeatures: test.features, testLabels: test.labels, dimension: 8, classCount: 4)
    #expect(result.top1 >= 0.99)
    #expect(result.top5 == 1)              // 4 classes: the label is always among the top 5
}

@Test func knnIsAtChanceOnRandomLabels() {
    var g = SeededGenerator(seed: 2)
    let train = clusters(perClass: 100, classes: 4, dimension: 8, separation: 0, &g)
    let test = clusters(perClass: 100, classes: 4, dimension: 8, separation: 0, &g)
    let result = KNNMonitor().evaluate(trainFeatures: train.features, trainLabels: train.labels.shuffled(using: &g),
                                       testFeatures: test.features, testLabels: test.labels, dimension: 8, classCount: 4)
    #expect(result.top1 > 0.15 && result.top1 < 0.35)    // chance 0.25, 400 test items: σ ≈ 0.022
}

@Test func knnVotesAreWeightedBySimilarity() {
    // One train item of class 1 is identical to the query; two of class 0 are farther away. With t = 0.1 the
    // close one outweighs both (e^10 vs 2·e^0); an unweighted majority would pick class 0.
    let train: [Float] = [1, 0, 0, 1, 0, 1], labels = [1, 0, 0]
    let result = KNNMonitor(neighbors: 3, temperature: 0.1).evaluate(
        trainFeatures: train, trainLabels: labels, testFeatures: [2, 0], testLabels: [1], dimension: 2, classCount: 2)
    #expect(result.top1 == 1)
}

@Test func knnDoesNotDependOnTheThreadCount() {
    var g = SeededGenerator(seed: 3)
    let train = clusters(perClass: 80, classes: 6, dimension: 5, separation: 2, &g)
    let test = clusters(perClass: 40, classes: 6, dimension: 5, separation: 2, &g)
    let monitor = KNNMonitor(neighbors: 15)
    let one = monitor.evaluate(trainFeatures: train.features, trainLabels: train.labels, testFeatures: test.features,
                               testLabels: test.labels, dimension: 5, classCount: 6, threads: 1)
    let two = monitor.evaluate(trainFeatures: train.features, trainLabels: train.labels, testFeatures: test.features,
                               testLabels: test.labels, dimension: 5, classCount: 6, threads: 2)
    #expect(one == two)
    #expect(one.top1 > 0.3 && one.top1 < 1 && one.top5 > one.top1)    // a partly overlapping problem
}

@Test func topKSelectionMatchesSorting() {
    var g = SeededGenerator(seed: 4)
    let values = (0..<300).map { _ in Float(Int(g.int(below: 50))) }      // many ties
    var sims = [Float](repeating: 0, count: 40), indices = [Int](repeating: 0, count: 40)
    let count = values.withUnsafeBufferPointer { selectTopK($0.baseAddress!, count: 300, k: 40, sims: &sims, indices: &indices) }
    #expect(count == 40)
    let expected = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(40)
    #expect(Set(indices) == Set(expected))
}

@Test func linearProbeSeparatesLinearlySeparableClusters() {
    var g = SeededGenerator(seed: 5)
    let train = clusters(perClass: 100, classes: 5, dimension: 10, separation: 8, &g)
    let test = clusters(perClass: 40, classes: 5, dimension: 10, separation: 8, &g)
    let result = LinearProbe(iterations: 60).evaluate(trainFeatures: train.features, trainLabels: train.labels,
                                                      testFeatures: test.features, testLabels: test.labels,
                                                      dimension: 10, classCount: 5)
    #expect(result.test.top1 >= 0.99)
    #expect(result.trainTop1 >= 0.99)
    #expect(result.iterations > 0 && result.finalLoss < 0.1)
}

@Test func linearProbeSolvesWhatKNNCannot() {
    // The label depends on one coordinate only, the other 20 are large noise: a linear rule is perfect,
    // cosine neighbours are dominated by the noise.
    var g = SeededGenerator(seed: 6)
    func make(_ n: Int) -> ([Float], [Int]) {
        var x = [Float](), y = [Int]()
        for _ in 0..<n {
            let label = g.int(below: 2)
            x.append(Float(label == 1 ? 1.0 : -1.0) + Float(0.1 * g.normal()))
            for _ in 0..<20 { x.append(Float(5 * g.normal())) }
            y.append(label)
        }
        return (x, y)
    }
    let train = make(400), test = make(200)
    let probe = LinearProbe(iterations: 100).evaluate(trainFeatures: train.0, trainLabels: train.1, testFeatures: test.0,
                                                      testLabels: test.1, dimension: 21, classCount: 2)
    let knn = KNNMonitor(neighbors: 20).evaluate(trainFeatures: train.0, trainLabels: train.1, testFeatures: test.0,
                                                 testLabels: test.1, dimension: 21, classCount: 2)
    #expect(probe.test.top1 >= 0.98)
    #expect(knn.top1 < 0.8)
}

/// The probe's objective gradient against central differences (Double objective, step 1e-4; the Float logits
/// limit agreement to about 1e-3 relative).
@Test func linearProbeGradientMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 7)
    let data = clusters(perClass: 5, classes: 3, dimension: 4, separation: 1, &g)
    let objective = ProbeObjective(features: data.features, labels: data.labels, dimension: 4, classCount: 3,
                                   weightDecay: 0.1, threads: 1)
    let theta = (0..<15).map { _ in 0.3 * g.normal() }
    let analytic = objective.evaluate(theta).gradient
    var errorSquared = 0.0, normSquared = 0.0
    for p in 0..<15 {
        var plus = theta, minus = theta
        plus[p] += 1e-3; minus[p] -= 1e-3
        let numeric = (objective.evaluate(plus).value - objective.evaluate(minus).value) / 2e-3
        errorSquared += (numeric - analytic[p]) * (numeric - analytic[p])
        normSquared += numeric * numeric
    }
    #expect(errorSquared.squareRoot() <= 1e-3 * normSquared.squareRoot())
}

@Test func linearProbeDoesNotDependOnTheThreadCount() {
    var g = SeededGenerator(seed: 8)
    let train = clusters(perClass: 50, classes: 3, dimension: 6, separation: 1.5, &g)
    let test = clusters(perClass: 20, classes: 3, dimension: 6, separation: 1.5, &g)
    let probe = LinearProbe(iterations: 30)
    let one = probe.evaluate(trainFeatures: train.features, trainLabels: train.labels, testFeatures: test.features,
                             testLabels: test.labels, dimension: 6, classCount: 3, threads: 1)
    let two = probe.evaluate(trainFeatures: train.features, trainLabels: train.labels, testFeatures: test.features,
                             testLabels: test.labels, dimension: 6, classCount: 3, threads: 2)
    #expect(one == two)
}

/// Neighbours that span several train blocks (N = 5000 > 4096 rows a block) and many exact ties: one-hot
/// features make every similarity exactly 0 or 1, so the k nearest are the k lowest-indexed train rows with the
/// same hot position, and every vote has the same weight e^10. The reference counts those votes directly.
@Test func knnAcrossTrainBlocksKeepsTheLowestIndexedTies() {
    var g = SeededGenerator(seed: 9)
    let N = 5000, M = 30, F = 4, C = 6, k = 1100
    let trainHot = (0..<N).map { _ in g.int(below: F) }, trainLabels = (0..<N).map { _ in g.int(below: C) }
    let testHot = (0..<M).map { _ in g.int(below: F) }, testLabels = (0..<M).map { _ in g.int(below: C) }
    func oneHot(_ hot: [Int]) -> [Float] { hot.flatMap { h in (0..<F).map { $0 == h ? Float(1) : 0 } } }
    #expect((0..<F).allSatisfy { h in trainHot.filter { $0 == h }.count >= k })
    var hits1 = 0, hits5 = 0
    for i in 0..<M {
        let neighbours = (0..<N).filter { trainHot[$0] == testHot[i] }.prefix(k)
        #expect(neighbours.last! >= 4096)                     // the k-th neighbour lies in the second block
        var counts = [Double](repeating: 0, count: C)
        for j in neighbours { counts[trainLabels[j]] += 1 }
        let rank = classRank(of: testLabels[i], votes: counts)
        if rank == 0 { hits1 += 1 }
        if rank < 5 { hits5 += 1 }
    }
    let result = KNNMonitor(neighbors: k, temperature: 0.1).evaluate(
        trainFeatures: oneHot(trainHot), trainLabels: trainLabels, testFeatures: oneHot(testHot), testLabels: testLabels,
        dimension: F, classCount: C, threads: 2)
    #expect(result.top1 == Double(hits1) / Double(M))
    #expect(result.top5 == Double(hits5) / Double(M))
}
