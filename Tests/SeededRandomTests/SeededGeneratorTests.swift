import Testing
@testable import SeededRandom

@Test func sameSeedGivesSameSequence() {
    var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
    for _ in 0..<100 { #expect(a.next() == b.next()) }
    var c = SeededGenerator(seed: 43)
    var a2 = SeededGenerator(seed: 42)
    #expect((0..<8).map { _ in c.next() } != (0..<8).map { _ in a2.next() })
}

@Test func streamsArePureAndDistinct() {
    var g = SeededGenerator(seed: 7)
    let s1 = g.stream(1)
    _ = g.next()
    #expect(g.stream(1) == s1)  // does not depend on draws from the parent
    var x = g.stream(1), y = g.stream(2)
    #expect(x.next() != y.next())
}

@Test func stateRoundTrip() {
    var g = SeededGenerator(seed: 9)
    for _ in 0..<10 { _ = g.next() }
    var h = SeededGenerator(seed: 9, stateWords: g.stateWords)
    for _ in 0..<10 { #expect(g.next() == h.next()) }
}

@Test func intBelowIsInRangeAndCoversAll() {
    var g = SeededGenerator(seed: 1)
    var seen = Set<Int>()
    for _ in 0..<1000 {
        let v = g.int(below: 7)
        #expect(v >= 0 && v < 7)
        seen.insert(v)
    }
    #expect(seen.count == 7)
}

/// Beta sampler: the sample mean and variance of 100k draws match α/(α+β) and αβ/((α+β)²(α+β+1))
/// within 5 standard errors (the variance's standard error from the fourth central moment).
@Test(arguments: [(2.0, 2.0), (1.6, 1.6), (0.5, 0.5), (1.0, 3.0), (4.0, 1.5)])
func betaMomentsMatchClosedForm(alpha: Double, beta: Double) {
    var g = SeededGenerator(seed: 2021)
    let n = 100_000
    var xs = [Double](repeating: 0, count: n)
    for i in 0..<n { xs[i] = g.beta(alpha, beta) }
    let mean = xs.reduce(0, +) / Double(n)
    let m2 = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
    let m4 = xs.reduce(0) { $0 + pow4($1 - mean) } / Double(n)
    let s = alpha + beta
    let trueMean = alpha / s
    let trueVar = alpha * beta / (s * s * (s + 1))
    let seMean = (trueVar / Double(n)).squareRoot()
    let seVar = ((m4 - m2 * m2) / Double(n)).squareRoot()
    #expect(abs(mean - trueMean) < 5 * seMean, "mean \(mean) vs \(trueMean)")
    #expect(abs(m2 - trueVar) < 5 * seVar, "var \(m2) vs \(trueVar)")
    #expect(xs.allSatisfy { $0 >= 0 && $0 <= 1 })
}

private func pow4(_ x: Double) -> Double { x * x * x * x }

@Test func normalHasUnitVariance() {
    var g = SeededGenerator(seed: 3)
    let n = 100_000
    var s = 0.0, ss = 0.0
    for _ in 0..<n { let x = g.normal(); s += x; ss += x * x }
    let mean = s / Double(n), v = ss / Double(n) - mean * mean
    #expect(abs(mean) < 5 / Double(n).squareRoot())
    #expect(abs(v - 1) < 5 * (2.0 / Double(n)).squareRoot())
}

@Test func permutationIsAPermutation() {
    var g = SeededGenerator(seed: 5)
    let p = g.permutation(1000)
    #expect(p.sorted() == Array(0..<1000))
    #expect(p != Array(0..<1000))
}
