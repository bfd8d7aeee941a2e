// GEMM: single-precision matrix products through OpenBLAS (`cblas_sgemm`), plus a plain Swift twin used
// by the tests as the reference. Row-major everywhere. This file and its siblings in Kernels/ are the only
// places that call BLAS.
//
// Legend: C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C, op = transpose when the flag is set.
import COpenBLAS

/// Whether an operand is used as stored or transposed.
public enum Transpose: Sendable { case none, transposed }

/// C = alpha·op(A)·op(B) + beta·C through OpenBLAS. Leading dimensions are the row lengths as stored.
@inlinable
public func sgemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor,
                transA == .none ? CblasNoTrans : CblasTrans,
                transB == .none ? CblasNoTrans : CblasTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The plain twin of `sgemm` (triple loop, Double accumulation). For tests only: slow, obviously correct.
public func sgemmReference(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                           alpha: Float = 1, a: [Float], lda: Int, b: [Float], ldb: Int,
                           beta: Float = 0, c: inout [Float], ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA == .none ? a[i * lda + p] : a[p * lda + i]
                let bv = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                s += Double(av) * Double(bv)
            }
            let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = Float(Double(alpha) * s + old)
        }
    }
}

/// Sets OpenBLAS to one thread: scorescope parallelises over the batch itself (see README, "Threads").
public func configureBLASSingleThreaded() {
    openblas_set_num_threads(1)
}

/// The OpenBLAS kernel family picked at load time (e.g. "Haswell", "Cooperlake"); recorded with each run.
public func blasCoreName() -> String {
    guard let p = openblas_get_corename() else { return "unknown" }
    return String(cString: p)
}

/// Whether OpenBLAS fell back to a pre-AVX kernel (it does so for CPUs newer than its tables: OpenBLAS 0.3.21
/// picks "Prescott" on an Emerald Rapids Xeon when OPENBLAS_CORETYPE is unset, and sgemm runs ~15× slower).
/// Callers that care about speed warn when this is true; set OPENBLAS_CORETYPE (SkylakeX on AVX-512 Intel,
/// Zen on AMD, Haswell on other AVX2 CPUs) before the process starts.
public func blasCoreIsSlowFallback() -> Bool {
    ["prescott", "core2", "nehalem", "penryn", "dunnington", "atom", "generic", "unknown"]
        .contains(blasCoreName().lowercased())
}

