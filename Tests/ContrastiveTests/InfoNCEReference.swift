// The plain, obviously-correct Double twin of the InfoNCE + feature-transformation block, for tests only.
import Foundation
import NN
import SeededRandom
@testable import Contrastive

/// Unit rows of a random B×D matrix.
func randomUnitRows(_ rows: Int, _ dimension: Int, _ g: inout SeededGenerator) -> [Float] {
    var out = [Float]()
    for _ in 0..<rows {
        let v = (0..<dimension).map { _ in g.normal() }
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        out += v.map { Float($0 / n) }
    }
    return out
}

/// Everything the reference computes: the transformed vectors, the scores in the logits and the loss.
struct ReferenceInfoNCE {
    var queryHat: [Double] = []      // B×D
    var keyHat: [Double] = []        // B×D
    var mixed: [Double] = []         // K×D (queue when negatives are off)
    var positive: [Double] = []      // B
    var negative: [Double] = []      // B×N
    var loss = 0.0

    init(queries q: [Double], keys k: [Double], queue n: [Double], B: Int, D: Int, K: Int, tau: Double,
         draws: FeatureTransformDraws) {
        func lambda(_ l: [Float], _ row: Int, _ d: Int) -> Double {
            switch draws.granularity {
            case .batch: return Double(l[0])
            case .sample: return Double(l[row])
            case .element: return Double(l[row * D + d])
            }
        }
        func normalize(_ v: inout [Double], row: Int) {
            let n = (0..<D).reduce(0.0) { $0 + v[row * D + $1] * v[row * D + $1] }.squareRoot()
            for d in 0..<D { v[row * D + d] /= n }
        }
        queryHat = q; keyHat = k
        if draws.transformsPositives {
            for i in 0..<B {
                for d in 0..<D {
                    let l = lambda(draws.positiveLambdas, i, d)
                    queryHat[i * D + d] = l * q[i * D + d] + (1 - l) * k[i * D + d]
                    keyHat[i * D + d] = l * k[i * D + d] + (1 - l) * q[i * D + d]
                }
                if draws.renormalize == .positive || draws.renormalize == .both {
                    normalize(&queryHat, row: i); normalize(&keyHat, row: i)
                }
            }
        }
        mixed = n
        if draws.transformsNegatives {
            for j in 0..<K {
                for d in 0..<D {
                    let l = lambda(draws.negativeLambdas, j, d)
                    mixed[j * D + d] = l * n[j * D + d] + (1 - l) * n[draws.negativePermutation[j] * D + d]
                }
                if draws.renormalize == .negative || draws.renormalize == .both { normalize(&mixed, row: j) }
            }
        }
        let rowsInLogits: [[Double]]
        let queueRows = (0..<K).map { Array(n[($0 * D)..<($0 * D + D)]) }
        let mixedRows = (0..<K).map { Array(mixed[($0 * D)..<($0 * D + D)]) }
        if !draws.transformsNegatives { rowsInLogits = queueRows }
        else if draws.queueMode == .union { rowsInLogits = queueRows + mixedRows }
        else { rowsInLogits = mixedRows }
        let N = rowsInLogits.count
        positive = []; negative = []
        loss = 0
        for i in 0..<B {
            let qi = Array(queryHat[(i * D)..<(i * D + D)]), ki = Array(keyHat[(i * D)..<(i * D + D)])
            let p = zip(qi, ki).reduce(0) { $0 + $1.0 * $1.1 }
            positive.append(p)
            var logits = [p / tau]
            for j in 0..<N {
                let s = zip(qi, rowsInLogits[j]).reduce(0) { $0 + $1.0 * $1.1 }
                negative.append(s)
                logits.append(s / tau)
            }
            let top = logits.max()!
            let lse = top + log(logits.reduce(0) { $0 + exp($1 - top) })
            loss += lse - logits[0]
        }
        loss /= Double(B)
    }
}

/// One InfoNCE call on Float inputs.
func runBlock(queries: [Float], keys: [Float], queue: [Float], B: Int, D: Int, tau: Float,
              draws: FeatureTransformDraws, threads: Int = 1) -> InfoNCEResult {
    var block = InfoNCE(temperature: tau)
    return block.lossAndGradient(queries: Tensor(shape: [B, D], storage: queries),
                                 keys: Tensor(shape: [B, D], storage: keys),
                                 queue: KeyQueue(keys: queue, dimension: D), draws: draws, threads: threads)
}
