// Tensor: Float32 storage with a shape (row-major). A value type (copy-on-write through Array). Images are NCHW
// at the model's boundary (the data loaders' layout); the layers inside work channels-last, N×H×W×C.
// Deliberately not here: broadcasting, strides/views, autograd. Layers work on the flat storage directly.

/// A dense Float32 tensor in row-major order. Model inputs are N×C×H×W; layer activations N×H×W×C.
public struct Tensor: Equatable, Sendable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// The elements, row-major; `storage.count == shape.reduce(1, *)`.
    public var storage: [Float]

    /// A tensor of `shape` filled with `value` (default 0).
    public init(shape: [Int], value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.storage = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor with the given elements; `storage.count` must equal the product of `shape`.
    public init(shape: [Int], storage: [Float]) {
        precondition(storage.count == shape.reduce(1, *),
                     "storage of \(storage.count) elements does not fit shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// Number of elements.
    @inlinable public var count: Int { storage.count }

    /// Size of the first dimension (the batch), or 1 for a scalar.
    @inlinable public var batch: Int { shape.first ?? 1 }

    /// Elements per item of the first dimension.
    @inlinable public var itemSize: Int { shape.isEmpty ? 1 : shape.dropFirst().reduce(1, *) }

    /// The same elements with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }
}
