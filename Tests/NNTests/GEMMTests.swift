import Testing
import SeededRandom
@testable import NN

/// Every BLAS-backed kernel matches its plain twin (relative tolerance 1e-5 of the row scale).
@Test(arguments: [(Transpose.none, Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)])
func sgemmMatchesReference(ta: Transpose, tb: Transpose) {
    var g = SeededGenerator(seed: 11)
    let m = 7, n = 9, k = 13
    let a = (0..<(m * k)).map { _ in Float(g.normal()) }
    let b = (0..<(k * n)).map { _ in Float(g.normal()) }
    var c0 = (0..<(m * n)).map { _ in Float(g.normal()) }
    var c1 = c0
    let lda = ta == .none ? k : m, ldb = tb == .none ? n : k
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c0.withUnsafeMutableBufferPointer { cp in
                sgemm(ta, tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: lda,
                      b: bp.baseAddress!, ldb: ldb, beta: 0.25, c: cp.baseAddress!, ldc: n)
            }
        }
    }
    sgemmReference(ta, tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 0.25, c: &c1, ldc: n)
    for i in 0..<(m * n) { #expect(abs(c0[i] - c1[i]) <= 1e-5 * max(1, abs(c1[i]))) }
}
