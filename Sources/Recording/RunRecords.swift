// The values a run store holds, as plain Swift types: one `steps` row, streams, statuses, events, evaluations,
// geometry samples, and the names of the `steps` columns for series queries.
// Deliberately not here: SQL (RunStore+Schema.swift) and any behaviour beyond naming and holding values.
import Foundation

/// One row of `steps`: what the trainer knows about one optimizer step.
public struct StepRecord: Codable, Hashable, Sendable {
    /// Global step number (1-based by the trainer's convention; any Int is stored as given).
    public var step: Int
    /// Epoch the step belongs to.
    public var epoch: Int
    /// Learning rate used for the step.
    public var learningRate: Double
    /// Key-encoder momentum used for the EMA after the step.
    public var momentum: Double
    /// InfoNCE loss (NaN/non-finite losses are stored as NULL and read back as NaN).
    public var loss: Double
    /// Fraction of queries whose positive has the largest logit.
    public var instanceAccuracy: Double
    /// Global L2 norm of the query encoder's gradient.
    public var gradientNorm: Double
    /// Statistics of the untransformed scores.
    public var scores: ScoreStatistics
    /// λ of positive extrapolation/interpolation (its mean for per-sample granularity); nil when FT is off.
    public var lambdaExtrapolation: Double?
    /// λ of negative interpolation (its mean for per-sample granularity); nil when FT is off.
    public var lambdaInterpolation: Double?
    /// Wall time of the step in milliseconds.
    public var milliseconds: Double

    /// A step row; lambdas default to nil (FT off).
    public init(step: Int, epoch: Int, learningRate: Double, momentum: Double, loss: Double,
                instanceAccuracy: Double, gradientNorm: Double, scores: ScoreStatistics,
                lambdaExtrapolation: Double? = nil, lambdaInterpolation: Double? = nil, milliseconds: Double) {
        self.step = step
        self.epoch = epoch
        self.learningRate = learningRate
        self.momentum = momentum
        self.loss = loss
        self.instanceAccuracy = instanceAccuracy
        self.gradientNorm = gradientNorm
        self.scores = scores
        self.lambdaExtrapolation = lambdaExtrapolation
        self.lambdaInterpolation = lambdaInterpolation
        self.milliseconds = milliseconds
    }
}

/// The histogram streams of a step. Raw values are the `histograms.stream` strings.
public enum ScoreStream: String, CaseIterable, Codable, Hashable, Sendable {
    /// Positive cosine scores before FT.
    case positive = "pos"
    /// Negative cosine scores before FT.
    case negative = "neg"
    /// Positive scores that enter the logits after FT (not cosines).
    case positiveTransformed = "pos_ft"
    /// Negative scores that enter the logits after FT (not cosines).
    case negativeTransformed = "neg_ft"

    /// The default spec of the stream: `cosine` for pos/neg, `transformed` for the FT streams.
    public var defaultSpec: HistogramSpec {
        switch self {
        case .positive, .negative: return .cosine
        case .positiveTransformed, .negativeTransformed: return .transformed
        }
    }
}

/// Life-cycle state of a run, stored in `meta.status`.
public enum RunStatus: String, CaseIterable, Codable, Hashable, Sendable {
    case running, finished, diverged, failed, interrupted
}

/// The kind of an event. Open set: the well-known kinds are static members; raw values are stored as given.
public struct EventKind: RawRepresentable, Hashable, Codable, Sendable, ExpressibleByStringLiteral,
                         CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    /// The queue holds only real keys from this step on (K/B steps after the start).
    public static let queueFilled: EventKind = "queue_filled"
    /// Feature transformations are active from this step on.
    public static let featureTransformStarted: EventKind = "ft_started"
    /// The learning rate dropped (step schedules).
    public static let learningRateDrop: EventKind = "lr_drop"
    /// Training resumed from a checkpoint at this step.
    public static let resumed: EventKind = "resumed"
    /// The loss became NaN or infinite.
    public static let diverged: EventKind = "diverged"
    /// Training finished.
    public static let finished: EventKind = "finished"
    /// Training stopped on a signal after checkpointing.
    public static let interrupted: EventKind = "interrupted"
    /// A checkpoint was written.
    public static let checkpoint: EventKind = "checkpoint"
}

/// One row of `events`.
public struct RunEvent: Codable, Hashable, Sendable {
    /// The step the event belongs to (deleted with it by `deleteSteps(after:)`).
    public var step: Int
    public var kind: EventKind
    /// Free text (default empty), e.g. "lr 0.06 -> 0.006".
    public var detail: String
    public init(step: Int, kind: EventKind, detail: String = "") {
        self.step = step
        self.kind = kind
        self.detail = detail
    }
}

/// The kind of an evaluation. Open set, like `EventKind`.
public struct EvalKind: RawRepresentable, Hashable, Codable, Sendable, ExpressibleByStringLiteral,
                        CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    /// Weighted kNN monitor on the query encoder's features.
    public static let knn: EvalKind = "knn"
    /// Linear probe (softmax regression on frozen features).
    public static let linear: EvalKind = "linear"
}

/// One row of `evals`. Accuracies are in percent (0–100), as the trainer records them.
public struct EvalRecord: Codable, Hashable, Sendable {
    public var step: Int
    public var epoch: Int
    public var kind: EvalKind
    /// Top-1 accuracy in percent.
    public var top1: Double
    /// Top-5 accuracy in percent, when measured (default nil).
    public var top5: Double?
    public init(step: Int, epoch: Int, kind: EvalKind, top1: Double, top5: Double? = nil) {
        self.step = step
        self.epoch = epoch
        self.kind = kind
        self.top1 = top1
        self.top5 = top5
    }
}

/// What a geometry sample vector is. Raw values are the `samples.kind` strings.
public enum SampleKind: String, CaseIterable, Codable, Hashable, Sendable {
    case query = "z_q"
    case key = "z_k"
    case transformedQuery = "zq_hat"
    case transformedKey = "zk_hat"
    case negative = "neg"
    case mixedNegative = "neg_mixed"
}

/// One row of `samples`: a vector kept for geometry figures (`index` = query or queue row index).
public struct GeometrySample: Codable, Hashable, Sendable {
    public var kind: SampleKind
    public var index: Int
    public var vector: [Float]
    public init(kind: SampleKind, index: Int, vector: [Float]) {
        self.kind = kind
        self.index = index
        self.vector = vector
    }
}

/// A histogram with the step and stream it was recorded for.
public struct StepHistogram: Hashable, Sendable {
    public var step: Int
    public var stream: ScoreStream
    public var histogram: ScoreHistogram
    public init(step: Int, stream: ScoreStream, histogram: ScoreHistogram) {
        self.step = step
        self.stream = stream
        self.histogram = histogram
    }
}

/// The numeric columns of `steps`, for series queries. Raw values are the SQL column names.
public enum StepColumn: String, CaseIterable, Codable, Hashable, Sendable {
    case epoch
    case learningRate = "lr"
    case momentum
    case loss
    case instanceAccuracy = "instance_acc"
    case gradientNorm = "grad_norm"
    case positiveMean = "pos_mean"
    case positiveVariance = "pos_var"
    case negativeMean = "neg_mean"
    case negativeVarianceQuery = "neg_var_query"
    case negativeVarianceAll = "neg_var_all"
    case lambdaExtrapolation = "lambda_ex"
    case lambdaInterpolation = "lambda_in"
    case milliseconds = "ms"
}

/// A series of one `steps` column: parallel arrays, steps ascending; NULL cells read as NaN.
public struct StepSeries: Hashable, Sendable {
    public var column: StepColumn
    public var steps: [Int]
    public var values: [Double]
    public init(column: StepColumn, steps: [Int], values: [Double]) {
        self.column = column
        self.steps = steps
        self.values = values
    }
}
