// Dense-layer kernels: y = x·Wᵀ + b and its gradients through sgemm, split into a fixed number of row blocks
// (`denseParts`: of the batch for y and dx, of the outputs for dW) that run on the threads; the blocks depend only
// on the shapes, so the bytes never depend on the thread count.
// Legend: B = rows (batch), I = input features, O = output features; W is O×I.
import Parallel

/// Row blocks of the dense GEMMs (fewer when there are fewer rows).
let denseParts = 4

/// y[B×O] = x[B×I]·Wᵀ + b.
func linearForward(_ x: [Float], rows B: Int, inputs I: Int, outputs O: Int, weight w: [Float], bias: [Float],
                   threads: Int = 1) -> [Float] {
    [Float](unsafeUninitializedCapacity: B * O) { yb, initialised in
        let y = SendablePointer(yb)
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                bias.withUnsafeBufferPointer { bb in
                    let xp = SendableConstPointer(xb), wp = SendableConstPointer(wb), bp = SendableConstPointer(bb)
                    forEachDensePart(B, threads: threads) { rows in
                        for r in rows { (y.base + r * O).update(from: bp.base, count: O) }
                        sgemm(.none, .transposed, m: rows.count, n: O, k: I, a: xp.base + rows.lowerBound * I, lda: I,
                              b: wp.base, ldb: I, beta: 1, c: y.base + rows.lowerBound * O, ldc: O)
                    }
                }
            }
        }
        initialised = B * O
    }
}

/// dW[O×I] = dYᵀ·x, db[O] = Σ_rows dY (Double), dx[B×I] = dY·W when asked.
func linearBackward(_ dy: [Float], input x: [Float], rows B: Int, inputs I: Int, outputs O: Int,
                    weight w: [Float], computeInputGradient: Bool, threads: Int = 1)
    -> (dx: [Float]?, dw: [Float], db: [Float]) {
    var dx: [Float]? = nil
    let dw = [Float](unsafeUninitializedCapacity: O * I) { dwb, initialised in
        let dwp = SendablePointer(dwb)
        dy.withUnsafeBufferPointer { dyb in
            x.withUnsafeBufferPointer { xb in
                w.withUnsafeBufferPointer { wb in
                    let dyp = SendableConstPointer(dyb), xp = SendableConstPointer(xb), wp = SendableConstPointer(wb)
                    forEachDensePart(O, threads: threads) { outputs in
                        sgemm(.transposed, .none, m: outputs.count, n: I, k: B, a: dyp.base + outputs.lowerBound,
                              lda: O, b: xp.base, ldb: I, c: dwp.base + outputs.lowerBound * I, ldc: I)
                    }
                    if computeInputGradient {
                        dx = [Float](unsafeUninitializedCapacity: B * I) { gb, gInitialised in
                            let gp = SendablePointer(gb)
                            forEachDensePart(B, threads: threads) { rows in
                                sgemm(.none, .none, m: rows.count, n: I, k: O, a: dyp.base + rows.lowerBound * O,
                                      lda: O, b: wp.base, ldb: I, c: gp.base + rows.lowerBound * I, ldc: I)
                            }
                            gInitialised = B * I
                        }
                    }
                }
            }
        }
        initialised = O * I
    }
    var sums = [Double](repeating: 0, count: O)
    for r in 0..<B { for o in 0..<O { sums[o] += Double(dy[r * O + o]) } }
    return (dx, dw, sums.map { Float($0) })
}

/// Runs `body` on the `denseParts` near-equal row ranges of 0..<rows (empty ranges skipped) over `threads`.
private func forEachDensePart(_ rows: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
    let parts = min(denseParts, rows)
    parallelFor(parts, threads: threads) { part in body(partRange(part, of: parts, count: rows)) }
}
