// SeededGenerator: the one random source of scorescope (xoshiro256** seeded through SplitMix64).
//
// All randomness in a run flows from one seed through explicit generators, so the same seed gives the same
// bytes. Independent streams (data order, augmentation per image, queue init, FT lambdas, ...) are derived
// with `stream(_:)`, which hashes (seed, stream id) through SplitMix64; streams do not depend on how many
// numbers other streams have drawn, so work can be split over threads without changing results.
// Deliberately not here: cryptographic quality, or any global/shared generator.

/// SplitMix64 (Steele, Lea & Flood 2014): used to expand seeds and to derive stream seeds.
@inlinable
public func splitMix64(_ x: inout UInt64) -> UInt64 {
    x &+= 0x9E37_79B9_7F4A_7C15
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// xoshiro256** (Blackman & Vigna 2018), seeded from a 64-bit seed via SplitMix64.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The four state words; together they determine every future draw. Settable only for advanced use.
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// The seed this generator (or stream) was created from; kept for deriving sub-streams.
    public let seed: UInt64

    /// A generator for `seed`. Different seeds give statistically independent sequences.
    public init(seed: UInt64) {
        self.seed = seed
        var s = seed
        state = (splitMix64(&s), splitMix64(&s), splitMix64(&s), splitMix64(&s))
    }

    /// Restores a generator from a saved state (see `stateWords`); for checkpoints.
    public init(seed: UInt64, stateWords: [UInt64]) {
        self.seed = seed
        let w = stateWords.count == 4 ? stateWords : [1, 2, 3, 4]
        state = (w[0], w[1], w[2], w[3])
        if state == (0, 0, 0, 0) { state = (1, 2, 3, 4) }  // the all-zero state is a fixed point
    }

    /// The state as four words (for checkpoints).
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool {
        a.seed == b.seed && a.state == b.state
    }

    /// An independent generator for stream `id` of this generator's seed. Pure: does not advance `self`.
    /// `stream(a).stream(b)` is a stream of a stream (for per-epoch, per-image streams).
    public func stream(_ id: UInt64) -> SeededGenerator {
        var s = seed ^ 0x6A09_E667_F3BC_C909
        _ = splitMix64(&s)
        s ^= id &* 0xD1B5_4A32_D192_ED03
        return SeededGenerator(seed: splitMix64(&s))
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inlinable @inline(__always)
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

extension SeededGenerator {
    /// Uniform in [0, 1) with 53 random bits.
    @inlinable public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [0, 1) with 24 random bits.
    @inlinable public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// Uniform in [lo, hi).
    @inlinable public mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * nextDouble()
    }

    /// Uniform integer in 0..<n (Lemire's unbiased multiply-shift). `n` must be > 0.
    @inlinable public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "int(below:) needs n > 0, got \(n)")
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// A Bernoulli draw with probability `p`.
    @inlinable public mutating func bernoulli(_ p: Double) -> Bool { nextDouble() < p }

    /// Standard normal N(0, 1) (Marsaglia polar method; no cached second value, so the state alone determines it).
    public mutating func normal() -> Double {
        while true {
            let u = 2 * nextDouble() - 1, v = 2 * nextDouble() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * _log(s) / s).squareRoot() }
        }
    }

    /// Normal with mean and standard deviation.
    public mutating func normal(mean: Double, std: Double) -> Double { mean + std * normal() }

    /// Gamma(shape, 1) (Marsaglia & Tsang 2000; shape < 1 via the boost x·U^(1/shape)). `shape` must be > 0.
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "gamma(shape:) needs shape > 0, got \(shape)")
        if shape < 1 {
            let u = nextDouble()
            return gamma(shape: shape + 1) * _pow(u == 0 ? Double.leastNormalMagnitude : u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat { x = normal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = nextDouble()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if _log(u) < 0.5 * x * x + d * (1 - v + _log(v)) { return d * v }
        }
    }

    /// Beta(α, β) as X/(X+Y) with X ~ Gamma(α), Y ~ Gamma(β). Both must be > 0.
    public mutating func beta(_ alpha: Double, _ beta: Double) -> Double {
        let x = gamma(shape: alpha), y = gamma(shape: beta)
        let s = x + y
        return s > 0 ? x / s : 0.5
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    /// Shuffles `a` in place (Fisher–Yates; the same draws as `permutation`).
    public mutating func shuffle<T>(_ a: inout [T]) {
        var i = a.count - 1
        while i > 0 {
            let j = int(below: i + 1)
            a.swapAt(i, j)
            i -= 1
        }
    }
}

// Foundation-free log/pow so the module stays dependency-free (Glibc via the stdlib's C interop).
#if canImport(Glibc)
import Glibc
@usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
@usableFromInline func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#elseif canImport(Darwin)
import Darwin
@usableFromInline func _log(_ x: Double) -> Double { Darwin.log(x) }
@usableFromInline func _pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
#endif
