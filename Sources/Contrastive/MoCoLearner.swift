// MoCoLearner: MoCo v1/v2 on one device (He et al., CVPR 2020; Chen et al. 2020), with the feature
// transformations of Zhu et al. (ICCV 2021) in front of the logits. One `step` = query forward, key forward
// (shuffled, split-BN), InfoNCE (+ FT) and its backward, SGD on the query encoder, EMA of the key encoder's
// parameters, enqueue of the untransformed keys. Returns the loss, accuracy, gradient norm and the step's
// scores for the recorder.
//
// Randomness: the learner derives its streams from the seed of the generator it is given, under its own
// namespace (stream `MoCoLearner.streamNamespace`, then 1: model init, 2: queue init, 3: FT draws, 4: key
// shuffles), so they never coincide with streams other modules derive from the same seed; it checkpoints the
// live states, so a resumed learner continues with the same bytes. Threads never change a result.
// Deliberately not here: data loading/augmentation, learning-rate and momentum schedules (the caller passes
// the values for each step), recording, divergence policy (the caller decides; a non-finite loss leaves the
// learner unchanged).
import NN
import SeededRandom

/// The learner's hyper-parameters. Defaults: MoCo v2 on Fashion-MNIST as in architecture.md (convnet-s, MLP
/// head, K = 4096, τ = 0.2, SGD momentum 0.9, weight decay 5e-4, split BN with 8 groups, key shuffle on, FT off).
public struct MoCoConfiguration: Codable, Sendable, Equatable {
    /// Encoder, head and input shape (query and key encoders share it).
    public var model: ModelSpec
    /// K, the number of queue rows; default 4096.
    public var queueSize: Int
    /// τ of the logits; default 0.2 (MoCo v2; v1 uses 0.07).
    public var temperature: Float
    /// SGD momentum of the query encoder; default 0.9.
    public var sgdMomentum: Float
    /// SGD weight decay (every parameter); default 5e-4.
    public var weightDecay: Float
    /// Split-BN groups G in both encoders (the batch must be divisible by G); default 8. 1 = plain BN.
    public var batchNormGroups: Int
    /// Whether the key batch is shuffled before the key encoder (and unshuffled after); default true.
    public var shuffleKeys: Bool
    /// Feature transformations; default off.
    public var transform: FeatureTransformOptions

    public init(model: ModelSpec = ModelSpec(), queueSize: Int = 4096, temperature: Float = 0.2,
                sgdMomentum: Float = 0.9, weightDecay: Float = 5e-4, batchNormGroups: Int = 8,
                shuffleKeys: Bool = true, transform: FeatureTransformOptions = .off) {
        self.model = model
        self.queueSize = queueSize
        self.temperature = temperature
        self.sgdMomentum = sgdMomentum
        self.weightDecay = weightDecay
        self.batchNormGroups = batchNormGroups
        self.shuffleKeys = shuffleKeys
        self.transform = transform
    }
}

/// A small set of vectors for geometry figures (the `samples` table): the first queries of the batch with
/// their keys before and after the positive transformation, and the first queue rows with their mixed versions.
/// Legend: Q = queries sampled, R = queue rows sampled, D = projection dimension; all row-major.
public struct GeometrySample: Sendable, Equatable {
    /// Q×D z_q, z_k, ẑ_q, ẑ_k (ẑ = z when positives are untransformed).
    public var queries: [Float], keys: [Float], transformedQueries: [Float], transformedKeys: [Float]
    /// R×D queue rows (before this step's enqueue) and their mixed versions n̂ (= the rows when negatives are off).
    public var queueRows: [Float], mixedQueueRows: [Float]
    /// π(j) for the sampled rows, and the partner rows n_π(j) (R×D) mixed into them (both empty when negatives
    /// are untransformed).
    public var partners: [Int], partnerRows: [Float]
    /// D.
    public var dimension: Int
}

/// Everything one step reports.
public struct MoCoStepResult: Sendable {
    /// Mean InfoNCE loss (Double). Not finite: the step was not applied (see `MoCoLearner.step`).
    public var loss: Double
    /// Instance accuracy: fraction of queries whose positive logit is the largest.
    public var accuracy: Double
    /// √(Σ g²) over all query-encoder gradients (before weight decay), Double.
    public var gradientNorm: Double
    /// The B positive and B×K negative scores before FT, the scores in the logits, and the FT draws (λ, π).
    public var scores: StepScores
    /// True when this step's enqueue filled the queue for the first time (the "queue filled" event).
    public var queueFilled: Bool
    /// The geometry sample, when asked for.
    public var sample: GeometrySample?
}

/// Errors of the Contrastive module (checkpoint contents).
public enum ContrastiveError: Error, Equatable, CustomStringConvertible {
    /// The checkpoint was written by a learner with another configuration.
    case configurationMismatch(source: String, stored: String, expected: String)
    /// A stored value is out of range.
    case corrupt(source: String, detail: String)

    public var description: String {
        switch self {
        case let .configurationMismatch(source, stored, expected):
            "\(source): the checkpoint's learner configuration differs from the requested one\n  stored:    \(stored)\n  requested: \(expected)"
        case let .corrupt(source, detail):
            "\(source): corrupt learner state: \(detail)"
        }
    }
}

/// MoCo with a query encoder trained by SGD, a momentum key encoder, a key queue and the FT seam.
public struct MoCoLearner: Sendable {
    /// The hyper-parameters (fixed for the learner's life).
    public let configuration: MoCoConfiguration
    /// f_q: trained by SGD.
    public private(set) var query: Model
    /// f_k: parameters follow f_q by EMA; its BN running statistics are its own.
    public private(set) var key: Model
    /// SGD state of the query encoder.
    public private(set) var optimizer: SGD
    /// The K keys of past batches.
    public private(set) var queue: KeyQueue
    /// Steps applied so far.
    public private(set) var stepCount: Int
    /// The FT draws' generator (λ, π) and the key-shuffle generator; live states, checkpointed.
    public private(set) var transformGenerator: SeededGenerator
    public private(set) var shuffleGenerator: SeededGenerator

    private var infoNCE: InfoNCE

    /// Number of queries and queue rows in a geometry sample.
    public static let sampleQueries = 8, sampleQueueRows = 16

    /// The stream id under which the learner's own streams live (ASCII "MoCo").
    public static let streamNamespace: UInt64 = 0x4D6F_436F

    /// A fresh learner: with r = generator.stream(streamNamespace), f_q is initialised from r.stream(1), f_k is a
    /// copy of f_q, the queue holds random unit rows from r.stream(2), FT draws come from r.stream(3) and key
    /// shuffles from r.stream(4). Only the generator's seed matters; it is not advanced.
    public init(configuration: MoCoConfiguration, generator: SeededGenerator) {
        precondition(configuration.queueSize > 0 && configuration.temperature > 0 && configuration.batchNormGroups > 0,
                     "MoCoLearner: queue size \(configuration.queueSize), τ \(configuration.temperature), BN groups \(configuration.batchNormGroups)")
        self.configuration = configuration
        let root = generator.stream(Self.streamNamespace)
        var initGenerator = root.stream(1)
        query = Model(spec: configuration.model, generator: &initGenerator)
        key = query
        optimizer = SGD(learningRate: 0, momentum: configuration.sgdMomentum, weightDecay: configuration.weightDecay)
        var queueGenerator = root.stream(2)
        queue = KeyQueue(capacity: configuration.queueSize, dimension: configuration.model.projectionDim,
                         generator: &queueGenerator)
        transformGenerator = root.stream(3)
        shuffleGenerator = root.stream(4)
        stepCount = 0
        infoNCE = InfoNCE(temperature: configuration.temperature)
    }

    /// A learner from restored parts (checkpoints).
    init(restoring configuration: MoCoConfiguration, query: Model, key: Model, optimizer: SGD, queue: KeyQueue,
         stepCount: Int, transformGenerator: SeededGenerator, shuffleGenerator: SeededGenerator) {
        self.configuration = configuration
        self.query = query
        self.key = key
        self.optimizer = optimizer
        self.queue = queue
        self.stepCount = stepCount
        self.transformGenerator = transformGenerator
        self.shuffleGenerator = shuffleGenerator
        self.infoNCE = InfoNCE(temperature: configuration.temperature)
    }

    /// One training step on a batch of view pairs (B×C×H×W each; B divisible by the BN groups).
    /// - Parameters:
    ///   - queryImages: x_q, the first views.
    ///   - keyImages: x_k, the second views of the same images, in the same order.
    ///   - learningRate: the SGD rate for this step (from the caller's schedule).
    ///   - momentum: the key momentum m ∈ [0, 1] for this step's EMA (from the caller's schedule).
    ///   - epoch: the 0-based epoch (decides whether FT acts: `transform.isActive(epoch:)`).
    ///   - captureSample: whether to return a `GeometrySample` (default false).
    ///   - context: threads; the result does not depend on them.
    /// A non-finite loss leaves every state unchanged (no SGD, EMA, enqueue or step count) and is returned as is,
    /// so the caller can mark the run diverged while the last good state stays checkpointable.
    public mutating func step(queryImages: Tensor, keyImages: Tensor, learningRate: Float, momentum: Double,
                              epoch: Int, captureSample: Bool = false, context: ComputeContext) -> MoCoStepResult {
        let B = queryImages.batch
        precondition(keyImages.shape == queryImages.shape, "MoCoLearner.step: views of shapes \(queryImages.shape) and \(keyImages.shape)")
        precondition((0...1).contains(momentum), "MoCoLearner.step: key momentum \(momentum) outside [0, 1]")
        precondition(B <= configuration.queueSize, "MoCoLearner.step: batch \(B) larger than the queue \(configuration.queueSize)")
        let mode = BatchNormMode.train(groups: configuration.batchNormGroups)

        // Keys first (no gradient): shuffle, encode, normalise, unshuffle. The generators are advanced on copies
        // and committed only if the step is applied.
        var shuffleGen = shuffleGenerator, transformGen = transformGenerator
        var keyModel = key
        let keyProjection: Tensor
        if configuration.shuffleKeys {
            let permutation = shuffleGen.permutation(B)
            let out = keyModel.forward(KeyShuffle.shuffled(keyImages, permutation: permutation), mode: mode, context: context)
            keyProjection = KeyShuffle.unshuffled(out.projection, permutation: permutation)
        } else {
            keyProjection = keyModel.forward(keyImages, mode: mode, context: context).projection
        }
        let zk = l2Normalize(keyProjection).y

        // Queries.
        var queryModel = query
        let queryOut = queryModel.forward(queryImages, mode: mode, context: context)
        let (zq, queryNorms) = l2Normalize(queryOut.projection)

        // The FT seam: λ and π for this step (nothing drawn when FT is off or not yet started).
        let transform = configuration.transform
        let draws = transform.isActive(epoch: epoch)
            ? transform.draw(batchSize: B, queueSize: queue.capacity, dimension: queue.dimension, generator: &transformGen)
            : .identity
        let sample = captureSample ? geometrySample(queries: zq, keys: zk, draws: draws) : nil
        let loss = infoNCE.lossAndGradient(queries: zq, keys: zk, queue: queue, draws: draws, threads: context.threads)
        guard loss.loss.isFinite else {
            return MoCoStepResult(loss: loss.loss, accuracy: loss.accuracy, gradientNorm: .nan, scores: loss.scores,
                                  queueFilled: false, sample: sample)
        }

        // Backward into f_q, SGD, EMA of f_k, enqueue.
        let dProjection = l2NormalizeBackward(dY: loss.queryGradient, y: zq, norms: queryNorms)
        let gradients = queryModel.backward(dProjection: dProjection, cache: queryOut.cache, context: context)
        _ = consume queryOut   // its cache holds the parameters: let go of them so SGD updates them in place
        let gradientNorm = globalGradientNorm(gradients, threads: context.threads)
        // Commit: from here on the step is applied. The models move into self (no second reference to their
        // parameter arrays, so SGD and the moving average write in place instead of copying them).
        query = consume queryModel
        key = consume keyModel
        optimizer.step(parameters: &query.parameters, gradients: gradients, learningRate: learningRate,
                       threads: context.threads)
        momentumUpdate(key: &key.parameters, query: query.parameters, momentum: Float(momentum),
                       threads: context.threads)
        let filled = queue.enqueue(zk.storage)
        shuffleGenerator = shuffleGen
        transformGenerator = transformGen
        stepCount += 1
        return MoCoStepResult(loss: loss.loss, accuracy: loss.accuracy, gradientNorm: gradientNorm,
                              scores: loss.scores, queueFilled: filled, sample: sample)
    }

    /// Eval-mode features h of the query encoder (B×featureDim), for the kNN monitor and the linear probe.
    public func features(images: Tensor, context: ComputeContext) -> Tensor {
        query.features(images, context: context)
    }

    private func geometrySample(queries: Tensor, keys: Tensor, draws: FeatureTransformDraws) -> GeometrySample {
        let D = queue.dimension, Q = min(Self.sampleQueries, queries.batch), R = min(Self.sampleQueueRows, queue.capacity)
        let transformed = InfoNCE.transformedPositives(queries: queries, keys: keys, draws: draws)
        let mixed = InfoNCE.mixedNegatives(queue: queue, draws: draws)
        let partners = draws.transformsNegatives ? Array(draws.negativePermutation[0..<R]) : []
        return GeometrySample(queries: Array(queries.storage[0..<(Q * D)]), keys: Array(keys.storage[0..<(Q * D)]),
                              transformedQueries: Array(transformed.queries.storage[0..<(Q * D)]),
                              transformedKeys: Array(transformed.keys.storage[0..<(Q * D)]),
                              queueRows: Array(queue.keys[0..<(R * D)]), mixedQueueRows: Array(mixed[0..<(R * D)]),
                              partners: partners,
                              partnerRows: partners.flatMap { queue.keys[($0 * D)..<($0 * D + D)] },
                              dimension: D)
    }
}
