// FeatureTransform: the options and the per-step random draws of the paper's feature transformations
// (Zhu et al., "Improving Contrastive Learning by Visualizing Feature Transformation", ICCV 2021):
// positive extrapolation/interpolation and negative interpolation of the normalised projections z.
// The arithmetic itself lives in InfoNCE (it is fused with the logits and their backward).
// Deliberately not here: any transformation of images or of encoder features h.
import SeededRandom

/// Every knob of the feature transformations. The defaults are the paper's released recipe with both
/// transformations switched off (`positive = .none`, `negative = .none`); see `FeatureTransformOptions.paper`.
public struct FeatureTransformOptions: Codable, Sendable, Equatable {
    /// How the positive pair is transformed.
    public enum PositiveMode: String, Codable, Sendable, CaseIterable {
        /// Untransformed positives.
        case none
        /// λ = 1 + Beta(α, α) (or 1 + U[0, 1)): harder positives, the paper's method.
        case extrapolate
        /// λ = Beta(α, α) (or U[0, 1)): easier positives, the paper's counter-example.
        case interpolate
    }

    /// How the negatives (the queue rows) are transformed.
    public enum NegativeMode: String, Codable, Sendable, CaseIterable {
        /// Untransformed negatives.
        case none
        /// n̂_j = λ n_j + (1 − λ) n_π(j), λ = Beta(α, α) (or U[0, 1)), π a fresh permutation each step.
        case interpolate
    }

    /// Which negatives enter the logits when negatives are interpolated.
    public enum QueueMode: String, Codable, Sendable, CaseIterable {
        /// The K mixed rows replace the queue in the logits (the default).
        case replace
        /// The K original rows and the K mixed rows: 2K negatives.
        case union
    }

    /// The law of the mixing coefficients.
    public enum Distribution: String, Codable, Sendable, CaseIterable {
        /// Beta(α, α), α = `alphaPositive` or `alphaNegative`.
        case beta
        /// Uniform on [0, 1) (α unused).
        case uniform
    }

    /// How many coefficients are drawn per step.
    public enum Granularity: String, Codable, Sendable, CaseIterable {
        /// One λ per step for the whole batch (the released recipe; the default).
        case batch
        /// One λ per query (positives) and per queue row (negatives).
        case sample
        /// One λ per query (queue row) and dimension. Draws K×D coefficients per step for the negatives.
        case element
    }

    /// Which transformed vectors are scaled back to unit length.
    public enum Renormalization: String, Codable, Sendable, CaseIterable {
        /// No renormalisation (the released recipe; the default).
        case none
        /// ẑ_q and ẑ_k are renormalised.
        case positive
        /// The mixed negatives n̂ are renormalised.
        case negative
        /// Both.
        case both
    }

    /// Positive transformation; default `.none`.
    public var positive: PositiveMode
    /// Negative transformation; default `.none`.
    public var negative: NegativeMode
    /// Beta parameter of the positive λ; default 2.0.
    public var alphaPositive: Double
    /// Beta parameter of the negative λ; default 1.6.
    public var alphaNegative: Double
    /// Law of λ; default `.beta`.
    public var distribution: Distribution
    /// Number of λ per step; default `.batch`.
    public var granularity: Granularity
    /// Renormalisation after the transformation; default `.none`.
    public var renormalize: Renormalization
    /// First epoch (0-based epoch index) in which the transformations act; default 0 (from the start).
    public var startEpoch: Int
    /// Queue in the logits under negative interpolation; default `.replace`.
    public var queueMode: QueueMode

    /// Options with every default stated above (both transformations off).
    public init(positive: PositiveMode = .none, negative: NegativeMode = .none,
                alphaPositive: Double = 2.0, alphaNegative: Double = 1.6,
                distribution: Distribution = .beta, granularity: Granularity = .batch,
                renormalize: Renormalization = .none, startEpoch: Int = 0, queueMode: QueueMode = .replace) {
        self.positive = positive
        self.negative = negative
        self.alphaPositive = alphaPositive
        self.alphaNegative = alphaNegative
        self.distribution = distribution
        self.granularity = granularity
        self.renormalize = renormalize
        self.startEpoch = startEpoch
        self.queueMode = queueMode
    }

    private enum CodingKeys: String, CodingKey {
        case positive, negative, alphaPositive, alphaNegative, distribution, granularity, renormalize, startEpoch, queueMode
    }

    /// Decodes options; every missing key takes its default (so `{"positive": "extrapolate"}` is valid).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        positive = try c.decodeIfPresent(PositiveMode.self, forKey: .positive) ?? positive
        negative = try c.decodeIfPresent(NegativeMode.self, forKey: .negative) ?? negative
        alphaPositive = try c.decodeIfPresent(Double.self, forKey: .alphaPositive) ?? alphaPositive
        alphaNegative = try c.decodeIfPresent(Double.self, forKey: .alphaNegative) ?? alphaNegative
        distribution = try c.decodeIfPresent(Distribution.self, forKey: .distribution) ?? distribution
        granularity = try c.decodeIfPresent(Granularity.self, forKey: .granularity) ?? granularity
        renormalize = try c.decodeIfPresent(Renormalization.self, forKey: .renormalize) ?? renormalize
        startEpoch = try c.decodeIfPresent(Int.self, forKey: .startEpoch) ?? startEpoch
        queueMode = try c.decodeIfPresent(QueueMode.self, forKey: .queueMode) ?? queueMode
    }

    /// Both transformations off.
    public static let off = FeatureTransformOptions()

    /// The paper's recipe: positive extrapolation (α 2.0) and negative interpolation (α 1.6), batch λ.
    public static let paper = FeatureTransformOptions(positive: .extrapolate, negative: .interpolate)

    /// Whether any transformation is configured (independently of the epoch).
    public var isEnabled: Bool { positive != .none || negative != .none }

    /// Whether the transformations act in `epoch` (0-based).
    public func isActive(epoch: Int) -> Bool { isEnabled && epoch >= startEpoch }

    /// Whether ẑ_q, ẑ_k are renormalised.
    public var renormalizesPositives: Bool { renormalize == .positive || renormalize == .both }
    /// Whether n̂ is renormalised.
    public var renormalizesNegatives: Bool { renormalize == .negative || renormalize == .both }

    /// Number of negatives per query in the logits for a queue of `queueSize` rows.
    public func negativeCount(queueSize: Int) -> Int {
        negative == .interpolate && queueMode == .union ? 2 * queueSize : queueSize
    }

    /// Draws this step's coefficients and permutation, in a fixed order: positive λ, then negative λ, then π.
    /// Draws nothing (and returns `.identity`) for a transformation that is off.
    public func draw(batchSize: Int, queueSize: Int, dimension: Int,
                     generator: inout SeededGenerator) -> FeatureTransformDraws {
        var draws = FeatureTransformDraws.identity
        if positive != .none {
            let count = granularity == .batch ? 1 : granularity == .sample ? batchSize : batchSize * dimension
            let offset: Float = positive == .extrapolate ? 1 : 0
            draws.positiveLambdas = (0..<count).map { _ in
                offset + Float(distribution == .beta ? generator.beta(alphaPositive, alphaPositive) : generator.nextDouble())
            }
        }
        if negative != .none {
            let count = granularity == .batch ? 1 : granularity == .sample ? queueSize : queueSize * dimension
            draws.negativeLambdas = (0..<count).map { _ in
                Float(distribution == .beta ? generator.beta(alphaNegative, alphaNegative) : generator.nextDouble())
            }
            draws.negativePermutation = generator.permutation(queueSize)
        }
        draws.granularity = granularity
        draws.renormalize = renormalize
        draws.queueMode = queueMode
        return draws
    }
}

/// The random draws of one step's feature transformation, with the settings needed to apply them.
/// Empty `positiveLambdas` (`negativeLambdas`) means the positives (negatives) are left untransformed.
public struct FeatureTransformDraws: Sendable, Equatable {
    /// λ of the positive pair: 1 value (batch), B (sample) or B×D (element, row-major). Empty: off.
    public var positiveLambdas: [Float]
    /// λ of the negatives: 1 value (batch), K (sample) or K×D (element, row-major). Empty: off.
    public var negativeLambdas: [Float]
    /// π: the partner row of every queue row (a permutation of 0..<K). Empty when negatives are off.
    public var negativePermutation: [Int]
    /// How the λ arrays are laid out.
    public var granularity: FeatureTransformOptions.Granularity
    /// Which transformed vectors are renormalised.
    public var renormalize: FeatureTransformOptions.Renormalization
    /// Which negatives enter the logits.
    public var queueMode: FeatureTransformOptions.QueueMode

    /// Explicit draws (for tests and replays).
    public init(positiveLambdas: [Float] = [], negativeLambdas: [Float] = [], negativePermutation: [Int] = [],
                granularity: FeatureTransformOptions.Granularity = .batch,
                renormalize: FeatureTransformOptions.Renormalization = .none,
                queueMode: FeatureTransformOptions.QueueMode = .replace) {
        self.positiveLambdas = positiveLambdas
        self.negativeLambdas = negativeLambdas
        self.negativePermutation = negativePermutation
        self.granularity = granularity
        self.renormalize = renormalize
        self.queueMode = queueMode
    }

    /// No transformation at all: the logits use the untransformed scores.
    public static let identity = FeatureTransformDraws()

    /// Whether the positive pair is transformed.
    public var transformsPositives: Bool { !positiveLambdas.isEmpty }
    /// Whether the negatives are transformed.
    public var transformsNegatives: Bool { !negativeLambdas.isEmpty }
    /// Whether anything is transformed.
    public var isIdentity: Bool { !transformsPositives && !transformsNegatives }

    /// Mean of the positive λ (the `lambda_ex` column), nil when positives are untransformed.
    public var positiveLambdaMean: Double? { Self.mean(positiveLambdas) }
    /// Mean of the negative λ (the `lambda_in` column), nil when negatives are untransformed.
    public var negativeLambdaMean: Double? { Self.mean(negativeLambdas) }

    /// Number of negatives per query in the logits for a queue of `queueSize` rows.
    public func negativeCount(queueSize: Int) -> Int {
        transformsNegatives && queueMode == .union ? 2 * queueSize : queueSize
    }

    private static func mean(_ values: [Float]) -> Double? {
        if values.isEmpty { return nil }
        var s = 0.0
        for v in values { s += Double(v) }
        return s / Double(values.count)
    }
}
