// Writing and reading a Model (spec, parameters, BN buffers) and SGD state inside a BinaryWriter/BinaryReader
// stream, so a checkpoint can hold several models and optimisers in one file; plus stand-alone model files.
// Deliberately not here: the checkpoint layout of a training run (the Trainer owns it).
import Foundation

extension Model {
    /// The format name and version of stand-alone model files.
    public static let fileFormat = "model"
    public static let fileVersion = 1

    /// Appends section "model": the spec (JSON), then names and tensors of parameters and buffers.
    public func write(to writer: inout BinaryWriter) {
        writer.beginSection("model")
        writer.append(spec.jsonString)
        writer.append(UInt64(parameters.count))
        for (name, tensor) in zip(parameterNames, parameters) { writer.append(name); writer.append(tensor) }
        writer.append(UInt64(buffers.count))
        for (name, tensor) in zip(bufferNames, buffers) { writer.append(name); writer.append(tensor) }
    }

    /// Reads a model written by `write(to:)`. When `expecting` is given, the stored spec must equal it.
    /// Every name and shape is checked against the architecture the spec describes.
    public static func read(from reader: inout BinaryReader, expecting expected: ModelSpec? = nil) throws -> Model {
        try reader.expectSection("model")
        let specAt = reader.offset
        let json = try reader.readString()
        let spec: ModelSpec
        do {
            spec = try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
        } catch {
            throw NNError.corrupt(source: reader.source, offset: specAt, detail: "model spec is not readable: \(json)")
        }
        if let expected, expected != spec {
            throw NNError.corrupt(source: reader.source, offset: specAt,
                                  detail: "model spec \(spec.jsonString) differs from the expected \(expected.jsonString)")
        }
        try spec.validate()
        var model = Model(layersOf: spec)
        model.parameters = try readNamed(&reader, names: model.parameterNames, shapes: model.parameterShapes)
        model.buffers = try readNamed(&reader, names: model.bufferNames, shapes: model.bufferShapes)
        return model
    }

    private static func readNamed(_ reader: inout BinaryReader, names: [String], shapes: [[Int]]) throws -> [Tensor] {
        let at = reader.offset
        let count = try reader.readUInt64()
        if count != UInt64(names.count) {
            throw NNError.corrupt(source: reader.source, offset: at, detail: "\(count) tensors stored, the model has \(names.count)")
        }
        var tensors: [Tensor] = []
        for (name, shape) in zip(names, shapes) {
            let nameAt = reader.offset
            let found = try reader.readString()
            if found != name {
                throw NNError.corrupt(source: reader.source, offset: nameAt, detail: "found tensor \"\(found)\" where \"\(name)\" belongs")
            }
            let t = try reader.readTensor()
            if t.shape != shape { throw NNError.shapeMismatch(source: reader.source, name: name, expected: shape, found: t.shape) }
            tensors.append(t)
        }
        return tensors
    }

    /// Writes a stand-alone model file (format "model", version 1) atomically.
    public func write(toFile path: String) throws {
        var writer = BinaryWriter(format: Model.fileFormat, version: Model.fileVersion)
        write(to: &writer)
        try writer.write(toFile: path)
    }

    /// Reads a stand-alone model file written by `write(toFile:)`.
    public static func read(fromFile path: String, expecting expected: ModelSpec? = nil) throws -> Model {
        var reader = try BinaryReader(contentsOfFile: path, format: fileFormat, supportedVersions: fileVersion...fileVersion)
        let model = try read(from: &reader, expecting: expected)
        try reader.expectEnd()
        return model
    }
}

extension ModelSpec {
    /// The spec as compact JSON with sorted keys (stable bytes).
    public var jsonString: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension SGD {
    /// Appends section "sgd": learning rate, momentum, weight decay and the momentum buffers.
    public func write(to writer: inout BinaryWriter) {
        writer.beginSection("sgd")
        writer.append(learningRate)
        writer.append(momentum)
        writer.append(weightDecay)
        writer.append(state)
    }

    /// Reads an optimiser written by `write(to:)`. When `parameterShapes` is given, the momentum buffers (if any)
    /// must have exactly those shapes.
    public static func read(from reader: inout BinaryReader, parameterShapes: [[Int]]? = nil) throws -> SGD {
        try reader.expectSection("sgd")
        var sgd = SGD(learningRate: try reader.readFloat(), momentum: try reader.readFloat(),
                      weightDecay: try reader.readFloat())
        let at = reader.offset
        sgd.state = try reader.readTensors()
        if let shapes = parameterShapes, !sgd.state.isEmpty {
            if sgd.state.count != shapes.count {
                throw NNError.corrupt(source: reader.source, offset: at,
                                      detail: "\(sgd.state.count) momentum buffers stored for \(shapes.count) parameters")
            }
            for (i, (t, shape)) in zip(sgd.state, shapes).enumerated() where t.shape != shape {
                throw NNError.shapeMismatch(source: reader.source, name: "momentum buffer \(i)", expected: shape, found: t.shape)
            }
        }
        return sgd
    }
}
