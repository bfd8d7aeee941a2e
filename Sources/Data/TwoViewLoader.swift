// Two-view batches for contrastive learning: each epoch a seeded shuffle, each image two independently augmented
// views, normalised; and a prefetching sequence that builds batch i + 1 on a background thread during step i.
//
// Determinism: the epoch order is a permutation drawn from the stream (seed, order, epoch); the view v of the
// image at position p of epoch e draws only from the stream (seed, augmentation, e, p, v). So `batch(epoch:index:)`
// is a pure function of (seed, epoch, index) — a resumed run continues mid-epoch bit-identically — and the
// result does not depend on the thread count (threads only decide who computes which image).
// The last incomplete batch of an epoch is dropped, as in MoCo.
// Deliberately not here: the augmentation maths (Augmentation*.swift), evaluation batches (EvaluationLoader.swift).
import Foundation
import Parallel
import SeededRandom

/// A batch of B images as two augmented views, with their labels and dataset indices.
public struct TwoViewBatch: Sendable {
    /// Epoch and batch index within the epoch this batch is.
    public let epoch: Int, index: Int
    /// First views, B×C×H×W, normalised.
    public let view1: [Float]
    /// Second views, B×C×H×W, normalised (same images, independent augmentations).
    public let view2: [Float]
    /// Labels of the B images (for monitoring only: contrastive learning does not use them).
    public let labels: [Int32]
    /// Index of each image in the dataset.
    public let indices: [Int]
    /// B, C, H, W.
    public let batchSize: Int, channels: Int, height: Int, width: Int
}

/// Shuffled two-view batches of a training set, computed on `threads` cores.
public struct TwoViewLoader: Sendable {
    /// The images the batches are drawn from.
    public let dataset: Dataset
    /// Images per batch.
    public let batchSize: Int
    /// How views are augmented.
    public let augmentation: AugmentationConfig
    /// The seed of the epoch orders and of every view's augmentation.
    public let seed: UInt64
    /// Worker threads per batch (results do not depend on it).
    public let threads: Int
    /// Per-channel normalisation: view = (x − mean) / std (a channel with std 0 is only shifted).
    public let mean: [Double], std: [Double]

    /// A loader over `dataset`, normalising with `mean`/`std` (default: the dataset's own statistics).
    ///
    /// Defaults: `augmentation` the v2 recipe, `threads` 1. Throws `DataError.invalidLoader` when `batchSize` is not
    /// in 1...dataset.count, `threads` < 1 or mean/std do not have one value per channel, and
    /// `DataError.invalidAugmentation` for an augmentation setting out of range.
    public init(
        dataset: Dataset, batchSize: Int, augmentation: AugmentationConfig = AugmentationConfig(), seed: UInt64,
        threads: Int = 1, mean: [Double]? = nil, std: [Double]? = nil
    ) throws {
        if batchSize < 1 || batchSize > dataset.count {
            throw DataError.invalidLoader(problem: "batch size \(batchSize) must be in 1...\(dataset.count) "
                + "(the number of \(dataset.split.rawValue) images)")
        }
        if threads < 1 { throw DataError.invalidLoader(problem: "threads must be ≥ 1, got \(threads)") }
        try augmentation.validate()
        let mean = mean ?? dataset.mean, std = std ?? dataset.std
        if mean.count != dataset.channels || std.count != dataset.channels {
            throw DataError.invalidLoader(problem: "normalisation needs \(dataset.channels) mean and std values, got "
                + "\(mean.count) and \(std.count)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.augmentation = augmentation
        self.seed = seed
        self.threads = threads
        self.mean = mean
        self.std = std
    }

    /// Full batches per epoch (the last incomplete batch is dropped).
    public var batchesPerEpoch: Int { dataset.count / batchSize }

    /// The order in which epoch `epoch` visits the dataset (a seeded permutation of its indices).
    public func order(epoch: Int) -> [Int] {
        var generator = SeededGenerator(seed: seed).stream(StreamID.order).stream(UInt64(epoch))
        return generator.permutation(dataset.count)
    }

    /// Batch `index` (in 0..<batchesPerEpoch) of epoch `epoch` (≥ 0). Pure in (seed, epoch, index).
    public func batch(epoch: Int, index: Int) -> TwoViewBatch {
        batch(epoch: epoch, index: index, order: order(epoch: epoch))
    }

    /// Batch `index` of epoch `epoch`, given that epoch's `order(epoch:)` (saves recomputing it per batch).
    public func batch(epoch: Int, index: Int, order: [Int]) -> TwoViewBatch {
        precondition(epoch >= 0 && index >= 0 && index < batchesPerEpoch,
                     "batch \(index) of epoch \(epoch) outside 0..<\(batchesPerEpoch)")
        precondition(order.count == dataset.count, "order has \(order.count) indices for \(dataset.count) images")
        let B = batchSize, C = dataset.channels, H = dataset.height, W = dataset.width
        let imageSize = C * H * W
        let indices = Array(order[(index * B)..<((index + 1) * B)])
        let epochStream = SeededGenerator(seed: seed).stream(StreamID.augmentation).stream(UInt64(epoch))
        let firstPosition = index * B
        let shift = mean.map { Float($0) }, scale = std.map { Float($0 > 0 ? 1 / $0 : 1) }
        let config = augmentation
        let workers = min(threads, B)

        var view1 = [Float](repeating: 0, count: B * imageSize)
        var view2 = [Float](repeating: 0, count: B * imageSize)
        dataset.images.withUnsafeBufferPointer { images in
            view1.withUnsafeMutableBufferPointer { first in
                view2.withUnsafeMutableBufferPointer { second in
                    guard let imageBase = images.baseAddress, let firstBase = first.baseAddress,
                          let secondBase = second.baseAddress else { return }
                    let source = SendablePointer(imageBase)
                    let outputs = (SendablePointer(firstBase), SendablePointer(secondBase))
                    let work: @Sendable (Int) -> Void = { worker in
                        let workspace = AugmentationWorkspace(channels: C, height: H, width: W)
                        for slot in (worker * B / workers) ..< ((worker + 1) * B / workers) {
                            let imageStream = epochStream.stream(UInt64(firstPosition + slot))
                            let image = source.base + indices[slot] * imageSize
                            for view in 0..<2 {
                                var generator = imageStream.stream(UInt64(view))
                                let parameters = config.draw(channels: C, height: H, width: W, generator: &generator)
                                let output = (view == 0 ? outputs.0 : outputs.1).base + slot * imageSize
                                workspace.augment(image, into: output, parameters: parameters,
                                                  mean: shift, inverseStd: scale)
                            }
                        }
                    }
                    if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
                }
            }
        }
        return TwoViewBatch(epoch: epoch, index: index, view1: view1, view2: view2,
                            labels: indices.map { dataset.labels[$0] }, indices: indices,
                            batchSize: B, channels: C, height: H, width: W)
    }

    /// The batches `index ..< batchesPerEpoch` of epoch `epoch`, each next batch computed on a background thread
    /// while the caller works on the current one. Yields exactly what `batch(epoch:index:)` returns.
    public func prefetching(epoch: Int, from index: Int = 0) -> PrefetchingBatches {
        PrefetchingBatches(loader: self, epoch: epoch, start: index)
    }
}

/// The rest of an epoch's two-view batches, with one batch of look-ahead on a background thread.
public struct PrefetchingBatches: Sequence, Sendable {
    let loader: TwoViewLoader
    let epoch: Int
    let start: Int

    public func makeIterator() -> Iterator {
        Iterator(loader: loader, epoch: epoch, next: start)
    }

    /// Yields batch after batch; starting batch i + 1 in the background as it hands out batch i.
    public struct Iterator: IteratorProtocol {
        private let loader: TwoViewLoader
        private let epoch: Int
        private let order: [Int]
        private var nextIndex: Int
        private var pending: PendingBatch?

        init(loader: TwoViewLoader, epoch: Int, next: Int) {
            self.loader = loader
            self.epoch = epoch
            self.order = loader.order(epoch: epoch)
            self.nextIndex = Swift.max(0, next)
        }

        public mutating func next() -> TwoViewBatch? {
            guard nextIndex < loader.batchesPerEpoch else { return nil }
            let current = pending?.wait() ?? loader.batch(epoch: epoch, index: nextIndex, order: order)
            nextIndex += 1
            pending = nil
            if nextIndex < loader.batchesPerEpoch {
                let (loader, epoch, index, order) = (self.loader, self.epoch, nextIndex, self.order)
                pending = PendingBatch { loader.batch(epoch: epoch, index: index, order: order) }
            }
            return current
        }
    }
}

/// A batch being computed on a background thread; `wait()` blocks until it is ready.
final class PendingBatch: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var result: TwoViewBatch?  // written once before `ready` is signalled, read after waiting on it

    init(_ compute: @escaping @Sendable () -> TwoViewBatch) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            result = compute()
            ready.signal()
        }
    }

    func wait() -> TwoViewBatch? {
        ready.wait()
        ready.signal()  // a second wait returns at once
        return result
    }
}
