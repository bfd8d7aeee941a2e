// The fast fill of ScoreHistogram from raw Float buffers: SIMD moments, interleaved bin counters, and a
// FIXED split into chunks over the cores, merged in a fixed order so results are bit-identical whatever the
// thread count. Also the row-wise variant used for the B×K negative block (one partial per query row).
//
// Shape legend: N = values in a call, R = rows, C = columns per row (R·C = N), S = sub-histograms per chunk.
// Determinism: the Double sums depend only on the chunk boundaries (a function of N or R alone) and on the
// fixed lane/row/chunk reduction order; integer counts and min/max are order-free.
// Deliberately not here: the binning rule itself (ScoreHistogram.swift states it; `spec.position(of:)` is the
// plain twin the kernel is tested against) and any allocation-free workspace (a fill allocates one small
// scratch block of chunks × S × (bins + 3) counters, negligible next to 1M scores).
import Foundation
import Parallel

#if _endian(big)
#error("accumulateScores reads integer codes from the low words of Doubles: little-endian only")
#endif

/// Moments of one chunk or row, merged in a fixed order.
struct FillPartial {
    var sum: Double = 0
    var sumOfSquares: Double = 0
    var minimum: Double = .infinity
    var maximum: Double = -.infinity

    mutating func merge(_ other: FillPartial) {
        sum += other.sum
        sumOfSquares += other.sumOfSquares
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
    }
}

/// Defaults for the fill.
public enum HistogramFill {
    /// The thread count used when a caller does not give one: the active processor count.
    public static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
    /// Fixed number of chunks a large fill is split into (independent of the thread count).
    public static let chunkCount = 16
    /// Below this many values a flat fill runs as one chunk on the calling thread.
    public static let parallelThreshold = 1 << 16
    /// Interleaved sub-histograms per chunk (they break store-to-load chains on popular bins).
    static let subHistograms = 4
}

/// Slots per sub-histogram: [underflow, bin 0 … bin bins−1, overflow, NaN].
@inline(__always) func slotCount(bins: Int) -> Int { bins + 3 }

/// Accumulates x[0..<n] into `slots` (S sub-histograms of bins + 3 counters, laid out one after another) and
/// returns the moments of the non-NaN values. The kernel: 8 lanes at a time, moments and bin codes in Double
/// SIMD; the scatter into counters is scalar (lane l goes to sub-histogram l mod 4).
/// Codes are kept as exact small integers plus 2^52, so the low 32 bits of each Double ARE the integer code:
/// no float-to-int conversion (Swift's generic SIMD conversions and pointwiseMin/Max compile to slow calls;
/// compare + blend is what stays vectorised).
@inline(__always)
func accumulateScores(_ x: UnsafePointer<Float>, count n: Int, lower: Double, upper: Double, scale: Double,
                      bins: Int, slots: UnsafeMutablePointer<UInt32>) -> FillPartial {
    let stride = slotCount(bins: bins)
    let lastBin = Double(bins - 1)
    let magic = 0x1p52
    let lo8 = SIMD8<Double>(repeating: lower)
    let hi8 = SIMD8<Double>(repeating: upper)
    let scale8 = SIMD8<Double>(repeating: scale)
    let firstCode8 = SIMD8<Double>(repeating: 1 + magic)        // bin 0 → slot 1
    let lastCode8 = SIMD8<Double>(repeating: lastBin + 1 + magic)
    let under8 = SIMD8<Double>(repeating: magic)
    let over8 = SIMD8<Double>(repeating: Double(bins + 1) + magic)
    let nan8 = SIMD8<Double>(repeating: Double(bins + 2) + magic)
    var s = SIMD8<Double>.zero, q = SIMD8<Double>.zero
    var mn = SIMD8<Double>(repeating: .infinity), mx = SIMD8<Double>(repeating: -.infinity)
    let s0 = slots, s1 = slots + stride, s2 = slots + 2 * stride, s3 = slots + 3 * stride
    let raw = UnsafeRawPointer(x)
    var i = 0
    while i + 8 <= n {
        let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
        let wide = SIMD8<Double>(v)
        let isNumber = wide .== wide
        let d = wide.replacing(with: 0, where: .!isNumber)
        s += d
        q = q.addingProduct(d, d)
        mn.replace(with: wide, where: wide .< mn)  // NaN compares false: never taken
        mx.replace(with: wide, where: wide .> mx)
        // floor((x − lower)·scale) ≥ 0 for x ≥ lower; lanes below lower, above upper or NaN are re-coded after.
        var code = ((d - lo8) * scale8).rounded(.down) + firstCode8
        code.replace(with: lastCode8, where: code .> lastCode8)
        code.replace(with: under8, where: d .< lo8)
        code.replace(with: over8, where: d .> hi8)
        code.replace(with: nan8, where: .!isNumber)
        let low = unsafeBitCast(code, to: SIMD16<UInt32>.self)  // little-endian: word 2l is lane l's code
        s0[Int(low[0])] &+= 1; s1[Int(low[2])] &+= 1; s2[Int(low[4])] &+= 1; s3[Int(low[6])] &+= 1
        s0[Int(low[8])] &+= 1; s1[Int(low[10])] &+= 1; s2[Int(low[12])] &+= 1; s3[Int(low[14])] &+= 1
        i &+= 8
    }
    var partial = FillPartial(sum: s.sum(), sumOfSquares: q.sum(), minimum: mn.min(), maximum: mx.max())
    while i < n {  // tail, same rule
        let v = x[i]
        i &+= 1
        if v.isNaN { s0[bins + 2] &+= 1; continue }
        let d = Double(v)
        partial.sum += d
        partial.sumOfSquares += d * d
        partial.minimum = min(partial.minimum, d)
        partial.maximum = max(partial.maximum, d)
        if d < lower { s0[0] &+= 1 } else if d > upper { s0[bins + 1] &+= 1 } else {
            s0[Int(min(((d - lower) * scale).rounded(.down), lastBin)) + 1] &+= 1
        }
    }
    return partial
}

extension ScoreHistogram {
    /// Adds `values` to the histogram (the binning rule and NaN handling of ScoreHistogram.swift).
    /// Large inputs are split into `HistogramFill.chunkCount` fixed chunks filled on `threads` threads (default:
    /// all cores); the result is bit-identical for every thread count.
    public mutating func fill(_ values: UnsafeBufferPointer<Float>, threads: Int = HistogramFill.defaultThreads) {
        guard let base = values.baseAddress, values.count > 0 else { return }
        let n = values.count
        let chunks = n < HistogramFill.parallelThreshold ? 1 : HistogramFill.chunkCount
        let spec = self.spec
        let source = SendablePointer(UnsafeMutablePointer(mutating: base))
        fillChunks(chunks: chunks, threads: threads) { chunk, slots in
            let start = chunk * n / chunks, end = (chunk + 1) * n / chunks
            return accumulateScores(source.base + start, count: end - start, lower: spec.lower,
                                    upper: spec.upper, scale: spec.scale, bins: spec.bins, slots: slots)
        }
    }

    /// Adds `values` from an array (convenience over `fill(_:threads:)`).
    public mutating func fill(_ values: [Float], threads: Int = HistogramFill.defaultThreads) {
        values.withUnsafeBufferPointer { fill($0, threads: threads) }
    }

    /// Runs `body` for each of `chunks` fixed chunks on up to `threads` threads, each chunk with its own zeroed
    /// counters, then merges counters and moments in chunk order into `self`.
    mutating func fillChunks(chunks: Int, threads: Int,
                             _ body: @Sendable (Int, UnsafeMutablePointer<UInt32>) -> FillPartial) {
        let bins = spec.bins
        let stride = slotCount(bins: bins)
        let perChunk = HistogramFill.subHistograms * stride
        let slots = UnsafeMutablePointer<UInt32>.allocate(capacity: chunks * perChunk)
        slots.initialize(repeating: 0, count: chunks * perChunk)
        let partials = UnsafeMutablePointer<FillPartial>.allocate(capacity: chunks)
        partials.initialize(repeating: FillPartial(), count: chunks)
        defer {
            slots.deallocate()
            partials.deallocate()
        }
        let slotsShared = SendablePointer(slots), partialsShared = SendablePointer(partials)
        parallelFor(chunks, threads: threads) { chunk in
            partialsShared.base[chunk] = body(chunk, slotsShared.base + chunk * perChunk)
        }

        var total = FillPartial()
        for chunk in 0..<chunks { total.merge(partials[chunk]) }
        var under = 0, over = 0, nan = 0, binned = 0
        counts.withUnsafeMutableBufferPointer { out in
            for chunk in 0..<chunks {
                for sub in 0..<HistogramFill.subHistograms {
                    let c = slots + chunk * perChunk + sub * stride
                    under += Int(c[0])
                    for b in 0..<bins {
                        out[b] &+= c[b + 1]
                        binned += Int(c[b + 1])
                    }
                    over += Int(c[bins + 1])
                    nan += Int(c[bins + 2])
                }
            }
        }
        underflow += under
        overflow += over
        nanCount += nan
        count += binned + under + over
        sum += total.sum
        sumOfSquares += total.sumOfSquares
        minimum = Swift.min(minimum, total.minimum)
        maximum = Swift.max(maximum, total.maximum)
    }
}
