// Dense-layer kernels: y = x·Wᵀ + b and its gradients through one sgemm each (single-threaded: the head's
// matrices are small, and one call keeps the bytes independent of the thread count).
// Legend: B = rows (batch), I = input features, O = output features; W is O×I.

/// y[B×O] = x[B×I]·Wᵀ + b.
func linearForward(_ x: [Float], rows B: Int, inputs I: Int, outputs O: Int, weight w: [Float], bias: [Float]) -> [Float] {
    var y = [Float](repeating: 0, count: B * O)
    y.withUnsafeMutableBufferPointer { yb in
        for r in 0..<B { for o in 0..<O { yb[r * O + o] = bias[o] } }
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                sgemm(.none, .transposed, m: B, n: O, k: I, a: xb.baseAddress!, lda: I, b: wb.baseAddress!, ldb: I,
                      beta: 1, c: yb.baseAddress!, ldc: O)
            }
        }
    }
    return y
}

/// dW[O×I] = dYᵀ·x, db[O] = Σ_rows dY (Double), dx[B×I] = dY·W when asked.
func linearBackward(_ dy: [Float], input x: [Float], rows B: Int, inputs I: Int, outputs O: Int,
                    weight w: [Float], computeInputGradient: Bool) -> (dx: [Float]?, dw: [Float], db: [Float]) {
    var dw = [Float](repeating: 0, count: O * I)
    var dx: [Float]? = nil
    dy.withUnsafeBufferPointer { dyb in
        x.withUnsafeBufferPointer { xb in
            dw.withUnsafeMutableBufferPointer { dwb in
                sgemm(.transposed, .none, m: O, n: I, k: B, a: dyb.baseAddress!, lda: O, b: xb.baseAddress!, ldb: I,
                      c: dwb.baseAddress!, ldc: I)
            }
        }
        if computeInputGradient {
            var g = [Float](repeating: 0, count: B * I)
            w.withUnsafeBufferPointer { wb in
                g.withUnsafeMutableBufferPointer { gb in
                    sgemm(.none, .none, m: B, n: I, k: O, a: dyb.baseAddress!, lda: O, b: wb.baseAddress!, ldb: I,
                          c: gb.baseAddress!, ldc: I)
                }
            }
            dx = g
        }
    }
    var sums = [Double](repeating: 0, count: O)
    for r in 0..<B { for o in 0..<O { sums[o] += Double(dy[r * O + o]) } }
    return (dx, dw, sums.map { Float($0) })
}
