// TrainConfig: every hyper-parameter of a training run (method.md, architecture.md, issues 4 and 5), with
// defaults, as one Codable value. Decoding is lenient about missing keys (each takes its default), so presets,
// config files and `--set` overrides are sparse JSON patches over the defaults (TrainConfig+Overrides.swift).
// Some defaults follow `mocoVersion`: v1 → linear head, τ 0.07, augmentation recipe v1, step LR schedule;
// v2 → MLP head, τ 0.2, recipe v2, cosine schedule. A key given explicitly always wins.
// `validate()` rejects impossible values with messages naming the key; checks that need the data (batch larger
// than the dataset, image shape) are the trainer's.
// Deliberately not here: the training loop, file locations, resume logic.
import Foundation
import Data
import NN
import Contrastive

/// MoCo v1 or v2: decides the defaults of the head, τ, the augmentation recipe and the LR schedule.
public enum MoCoVersion: String, Codable, Sendable, CaseIterable {
    case v1, v2

    /// Linear (v1) or MLP (v2).
    public var head: HeadKind { self == .v1 ? .linear : .mlp }
    /// 0.07 (v1) or 0.2 (v2).
    public var temperature: Double { self == .v1 ? 0.07 : 0.2 }
    /// The augmentation recipe of the same name.
    public var augmentationRecipe: AugmentationRecipe { self == .v1 ? .v1 : .v2 }
    /// Step (v1) or cosine (v2).
    public var learningRateSchedule: LearningRateScheduleKind { self == .v1 ? .step : .cosine }
}

/// The learning-rate schedule by name (parameters live beside it in TrainConfig).
public enum LearningRateScheduleKind: String, Codable, Sendable, CaseIterable {
    case constant, cosine, step
}

/// Everything a training run needs to know. Defaults: the `full` preset of architecture.md (Fashion-MNIST,
/// convnet-s, MoCo v2, B 256, K 4096, m 0.99, lr 0.06 cosine, 50 epochs).
public struct TrainConfig: Codable, Sendable, Equatable {
    /// Encoder and head choice.
    public struct ModelConfig: Codable, Sendable, Equatable {
        /// Encoder; default convnet-s.
        public var encoder: EncoderKind
        /// Head; default by `mocoVersion` (v1 linear, v2 mlp).
        public var head: HeadKind
        /// Length of z; default 128.
        public var projectionDim: Int
    }

    /// The kNN monitor.
    public struct KNNConfig: Codable, Sendable, Equatable {
        /// Evaluate every this many epochs (and after the last); 0 = never. Default 1.
        public var every: Int = 1
        /// Also evaluate the untrained encoder before the first step (recorded at step 0); default false.
        public var atStart: Bool = false
        /// Neighbours; default 200.
        public var k: Int = 200
        /// Vote temperature t in exp(sim / t); default 0.1.
        public var temperature: Double = 0.1
    }

    /// The linear probe at the end of training.
    public struct LinearProbeConfig: Codable, Sendable, Equatable {
        /// Run it after the last epoch; default true.
        public var enabled: Bool = true
        /// L-BFGS iterations (each one or a few passes over the train features); default 100.
        public var iterations: Int = 100
        /// L2 penalty on the weights; default 1e-4.
        public var weightDecay: Double = 1e-4
    }

    /// Histogram edges of the recorded score streams.
    public struct HistogramConfig: Codable, Sendable, Equatable {
        /// Bins of the cosine streams `pos`, `neg`; default 200.
        public var bins: Int = 200
        /// Edges of the cosine streams; default −1 and 1.
        public var lower: Double = -1, upper: Double = 1
        /// Bins of the post-FT streams `pos_ft`, `neg_ft` (not cosines); default 200.
        public var transformedBins: Int = 200
        /// Edges of the post-FT streams; default −3 and 1.5.
        public var transformedLower: Double = -3, transformedUpper: Double = 1.5
    }

    /// Root of every random stream of the training itself (initialisation, epoch order, augmentation, FT draws,
    /// key shuffles); default 0.
    public var seed: UInt64
    /// Seed of the data: synthetic images, `?limit=` subsets and folder train/test splits; default 0. Kept apart
    /// from `seed` so that runs with different seeds train and evaluate on the same images.
    public var dataSeed: UInt64
    /// Dataset spec string (Data's grammar, e.g. "fashion-mnist?limit=10000", "synthetic:512?size=16");
    /// default "fashion-mnist".
    public var dataset: String
    /// Training epochs; default 50.
    public var epochs: Int
    /// B; default 256.
    public var batchSize: Int
    /// MoCo v1 or v2; default v2.
    public var mocoVersion: MoCoVersion
    /// Encoder and head.
    public var model: ModelConfig
    /// K; default 4096.
    public var queueSize: Int
    /// τ; default by version (v1 0.07, v2 0.2).
    public var temperature: Double
    /// Key momentum m ∈ [0, 1]; default 0.99.
    public var momentum: Double
    /// Constant m, or cosine from m to 1; default constant.
    public var momentumSchedule: MomentumSchedule
    /// Base learning rate of the query encoder's SGD; default 0.06.
    public var lr: Double
    /// SGD momentum; default 0.9.
    public var sgdMomentum: Double
    /// SGD weight decay; default 5e-4.
    public var weightDecay: Double
    /// LR schedule; default by version (v1 step, v2 cosine).
    public var lrSchedule: LearningRateScheduleKind
    /// Linear warm-up epochs of the cosine schedule; default 0.
    public var warmupEpochs: Int
    /// Epochs (0-based) at which the step schedule multiplies the rate by `lrGamma`; default [] = 60 % and
    /// 80 % of the epochs (MoCo v1's 120/160 of 200).
    public var lrMilestones: [Int]
    /// Factor of each step; default 0.1.
    public var lrGamma: Double
    /// Split BN in both encoders; default true. Off = plain BN over the whole batch.
    public var splitBN: Bool
    /// Split-BN groups G (must divide B); default 8.
    public var bnGroups: Int
    /// Shuffle the key batch before the key encoder; default true.
    public var shuffleKeys: Bool
    /// View augmentation; default Data's recipe of `mocoVersion`.
    public var augmentation: AugmentationConfig
    /// kNN monitor settings.
    public var knn: KNNConfig
    /// Linear probe settings.
    public var linearProbe: LinearProbeConfig
    /// Histogram edges.
    public var histogram: HistogramConfig
    /// Record a geometry sample every this many steps; 0 = never. Default 500.
    public var sampleEvery: Int
    /// Also checkpoint every this many steps (a checkpoint is always written at each epoch end); 0 = only per
    /// epoch. Default 0.
    public var checkpointEvery: Int
    /// Threads; 0 = all cores (default). Never changes a result.
    public var threads: Int
    /// Feature transformations (issue 5); default off.
    public var ft: FeatureTransformOptions

    /// The defaults stated above for `mocoVersion` (default v2).
    public init(mocoVersion: MoCoVersion = .v2) {
        seed = 0
        dataSeed = 0
        dataset = "fashion-mnist"
        epochs = 50
        batchSize = 256
        self.mocoVersion = mocoVersion
        model = ModelConfig(encoder: .convnetS, head: mocoVersion.head, projectionDim: 128)
        queueSize = 4096
        temperature = mocoVersion.temperature
        momentum = 0.99
        momentumSchedule = .constant
        lr = 0.06
        sgdMomentum = 0.9
        weightDecay = 5e-4
        lrSchedule = mocoVersion.learningRateSchedule
        warmupEpochs = 0
        lrMilestones = []
        lrGamma = 0.1
        splitBN = true
        bnGroups = 8
        shuffleKeys = true
        augmentation = AugmentationConfig(recipe: mocoVersion.augmentationRecipe)
        knn = KNNConfig()
        linearProbe = LinearProbeConfig()
        histogram = HistogramConfig()
        sampleEvery = 500
        checkpointEvery = 0
        threads = 0
        ft = .off
    }

    // MARK: Derived values for the trainer

    /// The parsed dataset spec (throws Data's error naming what is wrong).
    public func datasetSpec() throws -> DatasetSpec { try DatasetSpec(parsing: dataset) }

    /// Split-BN groups actually used (1 when split BN is off).
    public var effectiveBatchNormGroups: Int { splitBN ? bnGroups : 1 }

    /// The learner's configuration for images of channels × height × width.
    public func mocoConfiguration(inputChannels: Int, inputHeight: Int, inputWidth: Int) -> MoCoConfiguration {
        MoCoConfiguration(model: ModelSpec(encoder: model.encoder, head: model.head, inputChannels: inputChannels,
                                           inputHeight: inputHeight, inputWidth: inputWidth,
                                           projectionDim: model.projectionDim),
                          queueSize: queueSize, temperature: Float(temperature), sgdMomentum: Float(sgdMomentum),
                          weightDecay: Float(weightDecay), batchNormGroups: effectiveBatchNormGroups,
                          shuffleKeys: shuffleKeys, transform: ft)
    }

    /// The step milestones in use (the stated default when `lrMilestones` is empty).
    public var effectiveMilestones: [Int] {
        lrMilestones.isEmpty ? [Int((0.6 * Double(epochs)).rounded()), Int((0.8 * Double(epochs)).rounded())] : lrMilestones
    }

    /// NN's schedule for `lrSchedule` and its parameters.
    public var learningRateSchedule: LRSchedule {
        switch lrSchedule {
        case .constant: .constant
        case .cosine: .cosine(warmupEpochs: warmupEpochs)
        case .step: .step(milestones: effectiveMilestones, gamma: lrGamma)
        }
    }

    /// The kNN monitor of `knn`.
    public var knnMonitor: KNNMonitor { KNNMonitor(neighbors: knn.k, temperature: Float(knn.temperature)) }

    /// The linear probe of `linearProbe`.
    public var probe: LinearProbe { LinearProbe(iterations: linearProbe.iterations, weightDecay: linearProbe.weightDecay) }

    /// Threads to use: `threads`, or all cores when 0.
    public var effectiveThreads: Int { threads > 0 ? threads : ComputeContext.availableCores }

    // MARK: Validation

    /// Throws `TrainConfigError.invalid` naming the first key whose value is impossible.
    public func validate() throws {
        func fail(_ key: String, _ problem: String) -> TrainConfigError { .invalid(key: key, problem: problem) }
        do { _ = try datasetSpec() } catch { throw fail("dataset", "\(error)") }
        if epochs < 1 { throw fail("epochs", "must be at least 1, got \(epochs)") }
        if batchSize < 2 { throw fail("batchSize", "must be at least 2, got \(batchSize)") }
        if model.projectionDim < 1 { throw fail("model.projectionDim", "must be at least 1, got \(model.projectionDim)") }
        if queueSize < batchSize {
            throw fail("queueSize", "K = \(queueSize) is smaller than the batch size \(batchSize); the queue must hold at least one batch")
        }
        if !(temperature > 0 && temperature.isFinite) { throw fail("temperature", "τ must be > 0, got \(temperature)") }
        if !(momentum >= 0 && momentum <= 1) { throw fail("momentum", "the key momentum must lie in [0, 1], got \(momentum)") }
        if !(lr > 0 && lr.isFinite) { throw fail("lr", "must be > 0, got \(lr)") }
        if !(sgdMomentum >= 0 && sgdMomentum < 1) { throw fail("sgdMomentum", "must lie in [0, 1), got \(sgdMomentum)") }
        if !(weightDecay >= 0 && weightDecay.isFinite) { throw fail("weightDecay", "must be ≥ 0, got \(weightDecay)") }
        if warmupEpochs < 0 || (lrSchedule == .cosine && warmupEpochs >= epochs) {
            throw fail("warmupEpochs", "must lie in 0..<epochs (\(epochs)), got \(warmupEpochs)")
        }
        if lrSchedule == .step {
            let m = effectiveMilestones
            if zip(m, m.dropFirst()).contains(where: { $0 >= $1 }) || m.contains(where: { $0 < 1 || $0 >= epochs }) {
                throw fail("lrMilestones", "must be increasing epochs in 1..<\(epochs), got \(m)")
            }
            if !(lrGamma > 0 && lrGamma <= 1) { throw fail("lrGamma", "must lie in (0, 1], got \(lrGamma)") }
        }
        if splitBN {
            if bnGroups < 1 { throw fail("bnGroups", "must be at least 1, got \(bnGroups)") }
            if batchSize % bnGroups != 0 {
                throw fail("bnGroups", "\(bnGroups) groups do not divide the batch size \(batchSize)")
            }
            if batchSize / bnGroups < 2 {
                throw fail("bnGroups", "\(bnGroups) groups of a batch of \(batchSize) leave fewer than 2 images per group")
            }
        }
        do { try augmentation.validate() } catch { throw fail("augmentation", "\(error)") }
        if knn.every < 0 { throw fail("knn.every", "must be ≥ 0 (0 = never), got \(knn.every)") }
        if knn.k < 1 { throw fail("knn.k", "must be at least 1, got \(knn.k)") }
        if !(knn.temperature > 0) { throw fail("knn.temperature", "must be > 0, got \(knn.temperature)") }
        if linearProbe.iterations < 1 { throw fail("linearProbe.iterations", "must be at least 1, got \(linearProbe.iterations)") }
        if !(linearProbe.weightDecay >= 0) { throw fail("linearProbe.weightDecay", "must be ≥ 0, got \(linearProbe.weightDecay)") }
        if histogram.bins < 1 { throw fail("histogram.bins", "must be at least 1, got \(histogram.bins)") }
        if !(histogram.lower < histogram.upper) {
            throw fail("histogram.lower", "must be below histogram.upper, got \(histogram.lower) and \(histogram.upper)")
        }
        if histogram.transformedBins < 1 { throw fail("histogram.transformedBins", "must be at least 1, got \(histogram.transformedBins)") }
        if !(histogram.transformedLower < histogram.transformedUpper) {
            throw fail("histogram.transformedLower", "must be below histogram.transformedUpper, got \(histogram.transformedLower) and \(histogram.transformedUpper)")
        }
        if sampleEvery < 0 { throw fail("sampleEvery", "must be ≥ 0 (0 = never), got \(sampleEvery)") }
        if checkpointEvery < 0 { throw fail("checkpointEvery", "must be ≥ 0 (0 = per epoch only), got \(checkpointEvery)") }
        if threads < 0 { throw fail("threads", "must be ≥ 0 (0 = all cores), got \(threads)") }
        if !(ft.alphaPositive > 0 && ft.alphaPositive.isFinite) { throw fail("ft.alphaPositive", "must be > 0, got \(ft.alphaPositive)") }
        if !(ft.alphaNegative > 0 && ft.alphaNegative.isFinite) { throw fail("ft.alphaNegative", "must be > 0, got \(ft.alphaNegative)") }
        if ft.startEpoch < 0 { throw fail("ft.startEpoch", "must be ≥ 0, got \(ft.startEpoch)") }
        if ft.isEnabled && ft.startEpoch >= epochs {
            throw fail("ft.startEpoch", "\(ft.startEpoch) is not below epochs (\(epochs)): the transformations would never act (epochs count from 0)")
        }
    }

    // MARK: Lenient decoding (missing keys take their defaults; version-dependent ones follow mocoVersion)

    private enum CodingKeys: String, CodingKey {
        case seed, dataSeed, dataset, epochs, batchSize, mocoVersion, model, queueSize, temperature, momentum, momentumSchedule
        case lr, sgdMomentum, weightDecay, lrSchedule, warmupEpochs, lrMilestones, lrGamma, splitBN, bnGroups
        case shuffleKeys, augmentation, knn, linearProbe, histogram, sampleEvery, checkpointEvery, threads, ft
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let version = try c.decodeIfPresent(MoCoVersion.self, forKey: .mocoVersion) ?? .v2
        self.init(mocoVersion: version)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        dataSeed = try c.decodeIfPresent(UInt64.self, forKey: .dataSeed) ?? dataSeed
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset) ?? dataset
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? epochs
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        if c.contains(.model) {
            let m = try c.nestedContainer(keyedBy: ModelConfig.CodingKeys.self, forKey: .model)
            model.encoder = try m.decodeIfPresent(EncoderKind.self, forKey: .encoder) ?? model.encoder
            model.head = try m.decodeIfPresent(HeadKind.self, forKey: .head) ?? model.head
            model.projectionDim = try m.decodeIfPresent(Int.self, forKey: .projectionDim) ?? model.projectionDim
        }
        queueSize = try c.decodeIfPresent(Int.self, forKey: .queueSize) ?? queueSize
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature) ?? temperature
        momentum = try c.decodeIfPresent(Double.self, forKey: .momentum) ?? momentum
        momentumSchedule = try c.decodeIfPresent(MomentumSchedule.self, forKey: .momentumSchedule) ?? momentumSchedule
        lr = try c.decodeIfPresent(Double.self, forKey: .lr) ?? lr
        sgdMomentum = try c.decodeIfPresent(Double.self, forKey: .sgdMomentum) ?? sgdMomentum
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? weightDecay
        lrSchedule = try c.decodeIfPresent(LearningRateScheduleKind.self, forKey: .lrSchedule) ?? lrSchedule
        warmupEpochs = try c.decodeIfPresent(Int.self, forKey: .warmupEpochs) ?? warmupEpochs
        lrMilestones = try c.decodeIfPresent([Int].self, forKey: .lrMilestones) ?? lrMilestones
        lrGamma = try c.decodeIfPresent(Double.self, forKey: .lrGamma) ?? lrGamma
        splitBN = try c.decodeIfPresent(Bool.self, forKey: .splitBN) ?? splitBN
        bnGroups = try c.decodeIfPresent(Int.self, forKey: .bnGroups) ?? bnGroups
        shuffleKeys = try c.decodeIfPresent(Bool.self, forKey: .shuffleKeys) ?? shuffleKeys
        augmentation = try c.decodeIfPresent(AugmentationConfig.self, forKey: .augmentation) ?? augmentation
        knn = try c.decodeIfPresent(KNNConfig.self, forKey: .knn) ?? knn
        linearProbe = try c.decodeIfPresent(LinearProbeConfig.self, forKey: .linearProbe) ?? linearProbe
        histogram = try c.decodeIfPresent(HistogramConfig.self, forKey: .histogram) ?? histogram
        sampleEvery = try c.decodeIfPresent(Int.self, forKey: .sampleEvery) ?? sampleEvery
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? checkpointEvery
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? threads
        ft = try c.decodeIfPresent(FeatureTransformOptions.self, forKey: .ft) ?? ft
    }
}

extension TrainConfig.ModelConfig {
    fileprivate enum CodingKeys: String, CodingKey { case encoder, head, projectionDim }
}

extension TrainConfig.KNNConfig {
    private enum CodingKeys: String, CodingKey { case every, atStart, k, temperature }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        every = try c.decodeIfPresent(Int.self, forKey: .every) ?? every
        atStart = try c.decodeIfPresent(Bool.self, forKey: .atStart) ?? atStart
        k = try c.decodeIfPresent(Int.self, forKey: .k) ?? k
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature) ?? temperature
    }
}

extension TrainConfig.LinearProbeConfig {
    private enum CodingKeys: String, CodingKey { case enabled, iterations, weightDecay }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
        iterations = try c.decodeIfPresent(Int.self, forKey: .iterations) ?? iterations
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? weightDecay
    }
}

extension TrainConfig.HistogramConfig {
    private enum CodingKeys: String, CodingKey {
        case bins, lower, upper, transformedBins, transformedLower, transformedUpper
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        bins = try c.decodeIfPresent(Int.self, forKey: .bins) ?? bins
        lower = try c.decodeIfPresent(Double.self, forKey: .lower) ?? lower
        upper = try c.decodeIfPresent(Double.self, forKey: .upper) ?? upper
        transformedBins = try c.decodeIfPresent(Int.self, forKey: .transformedBins) ?? transformedBins
        transformedLower = try c.decodeIfPresent(Double.self, forKey: .transformedLower) ?? transformedLower
        transformedUpper = try c.decodeIfPresent(Double.self, forKey: .transformedUpper) ?? transformedUpper
    }
}
