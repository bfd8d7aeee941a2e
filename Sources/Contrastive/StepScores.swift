// StepScores: the score distributions of one training step, as handed to the recorder. The B×K blocks are
// the InfoNCE workspace arrays themselves (shared copy-on-write, never copied): drop a StepScores before the
// next step and the learner writes the next step's scores into the same memory without allocating.
// Deliberately not here: histogramming or statistics (Recording does that).

/// The positive and negative scores of one step, before and after the feature transformations.
/// Legend: B = batch, K = queue rows, N = negatives per query in the logits (K, or 2K with the union queue).
public struct StepScores: Sendable {
    /// B, the number of queries.
    public let batchSize: Int
    /// K, the number of queue rows.
    public let queueSize: Int
    /// N, the negatives per query in the logits (`transformedNegative` has B×N scores).
    public let transformedNegativeCount: Int
    /// pos_i = z_q,i · z_k,i: B cosine scores, before any transformation.
    public let positive: [Float]
    /// neg_ij = z_q,i · queue_j: B×K cosine scores (row i = query i), before any transformation.
    public let negative: [Float]
    /// The positive scores that enter the logits (ẑ_q,i · ẑ_k,i; equals `positive` when FT is off). Not cosines.
    public let transformedPositive: [Float]
    /// The negative scores that enter the logits, B×N (ẑ_q,i · n̂_j; union: the K plain then the K mixed
    /// columns). The very same array as `negative` when FT is off. Not cosines.
    public let transformedNegative: [Float]
    /// The feature-transformation draws of this step (`.identity` when FT is off); carries λ and π.
    public let draws: FeatureTransformDraws

    /// Whether any feature transformation acted in this step.
    public var isTransformed: Bool { !draws.isIdentity }
}
