// Row-wise L2 normalisation and softmax cross-entropy, each with its backward. Sums in Double.
// Deliberately not here: temperature scaling or the MoCo logits (the Contrastive module builds those).
// Legend: B = rows, D = columns.
import Foundation

/// The smallest norm divided by (PyTorch's F.normalize eps): rows with a smaller norm are divided by it.
public let l2NormalizeEpsilon: Float = 1e-12

/// Each row of a B×D matrix divided by max(‖row‖₂, 1e-12). Returns y and the row norms (before clamping).
public func l2Normalize(_ x: Tensor) -> (y: Tensor, norms: [Float]) {
    require(x.shape.count == 2, "l2Normalize: want a B×D matrix, got shape \(x.shape)")
    let B = x.shape[0], D = x.shape[1]
    var y = [Float](repeating: 0, count: x.count), norms = [Float](repeating: 0, count: B)
    x.storage.withUnsafeBufferPointer { xb in
        for r in 0..<B {
            var s = 0.0
            for j in 0..<D { let v = Double(xb[r * D + j]); s += v * v }
            let norm = s.squareRoot()
            norms[r] = Float(norm)
            let scale = 1 / max(norm, Double(l2NormalizeEpsilon))
            for j in 0..<D { y[r * D + j] = Float(Double(xb[r * D + j]) * scale) }
        }
    }
    return (Tensor(shape: x.shape, storage: y), norms)
}

/// Gradient of `l2Normalize`: dx = (dy − y·⟨y, dy⟩) / ‖x‖ per row (dy / eps for rows below the clamp).
public func l2NormalizeBackward(dY: Tensor, y: Tensor, norms: [Float]) -> Tensor {
    require(dY.shape == y.shape && y.shape.count == 2 && norms.count == y.shape[0],
            "l2NormalizeBackward: shapes dY \(dY.shape), y \(y.shape), norms \(norms.count)")
    let B = y.shape[0], D = y.shape[1]
    var dx = [Float](repeating: 0, count: y.count)
    for r in 0..<B {
        let norm = Double(norms[r])
        if norm <= Double(l2NormalizeEpsilon) {
            for j in 0..<D { dx[r * D + j] = Float(Double(dY.storage[r * D + j]) / Double(l2NormalizeEpsilon)) }
            continue
        }
        var dot = 0.0
        for j in 0..<D { dot += Double(y.storage[r * D + j]) * Double(dY.storage[r * D + j]) }
        for j in 0..<D {
            dx[r * D + j] = Float((Double(dY.storage[r * D + j]) - Double(y.storage[r * D + j]) * dot) / norm)
        }
    }
    return Tensor(shape: y.shape, storage: dx)
}

/// Mean over rows of −log softmax(logits)[label], and its gradient (softmax − one-hot) / B.
public func softmaxCrossEntropy(logits: Tensor, labels: [Int]) -> (loss: Double, dLogits: Tensor) {
    require(logits.shape.count == 2 && labels.count == logits.shape[0],
            "softmaxCrossEntropy: logits \(logits.shape) with \(labels.count) labels")
    let B = logits.shape[0], D = logits.shape[1]
    var d = [Float](repeating: 0, count: logits.count)
    var total = 0.0
    var exps = [Double](repeating: 0, count: D)
    let scale = 1 / Double(B)
    logits.storage.withUnsafeBufferPointer { lb in
        for r in 0..<B {
            let label = labels[r]
            require(label >= 0 && label < D, "softmaxCrossEntropy: label \(label) outside 0..<\(D)")
            let row = lb.baseAddress! + r * D
            var m = -Double.infinity
            for j in 0..<D { m = max(m, Double(row[j])) }
            var s = 0.0
            for j in 0..<D { let e = exp(Double(row[j]) - m); exps[j] = e; s += e }
            total += m + log(s) - Double(row[label])
            let rowScale = scale / s
            for j in 0..<D { d[r * D + j] = Float(exps[j] * rowScale) }
            d[r * D + label] = Float(exps[label] * rowScale - scale)
        }
    }
    return (total / Double(B), Tensor(shape: logits.shape, storage: d))
}
