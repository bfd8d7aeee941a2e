// Serialise → deserialise gives identical bytes; truncated, foreign and mismatched files give clear errors.
import Foundation
import Testing
import SeededRandom
@testable import NN

func checkpointBytes(model: Model, sgd: SGD) -> [UInt8] {
    var writer = BinaryWriter(format: "checkpoint", version: 1)
    writer.append(42)
    model.write(to: &writer)
    sgd.write(to: &writer)
    writer.append("end")
    return writer.bytes
}

func smallModelAndOptimizer() -> (Model, SGD) {
    var gen = SeededGenerator(seed: 12)
    var model = Model(spec: tinySpec(head: .mlp), generator: &gen)
    var sgd = SGD(learningRate: 0.06, momentum: 0.9, weightDecay: 5e-4)
    let context = ComputeContext(threads: 2)
    let out = model.forward(Tensor(shape: [4, 1, 8, 8], storage: (0..<256).map { _ in Float(gen.normal()) }),
                            mode: .train(groups: 2), context: context)
    let g = model.backward(dProjection: Tensor(shape: [4, 3], value: 1), cache: out.cache, context: context)
    sgd.step(parameters: &model.parameters, gradients: g, learningRate: 0.06)
    return (model, sgd)
}

@Test func modelAndOptimizerRoundTripToIdenticalBytes() throws {
    let (model, sgd) = smallModelAndOptimizer()
    let bytes = checkpointBytes(model: model, sgd: sgd)
    var reader = try BinaryReader(bytes: bytes, format: "checkpoint", supportedVersions: 1...1)
    #expect(try reader.readInt() == 42)
    let model2 = try Model.read(from: &reader, expecting: model.spec)
    let sgd2 = try SGD.read(from: &reader, parameterShapes: model.parameterShapes)
    #expect(try reader.readString() == "end")
    try reader.expectEnd()
    #expect(model2.spec == model.spec)
    #expect(model2.parameters.flatMap(\.storage).map(\.bitPattern) == model.parameters.flatMap(\.storage).map(\.bitPattern))
    #expect(model2.buffers == model.buffers)
    #expect(sgd2 == sgd)
    #expect(checkpointBytes(model: model2, sgd: sgd2) == bytes)
}

@Test func standAloneModelFileRoundTrips() throws {
    let (model, _) = smallModelAndOptimizer()
    let path = NSTemporaryDirectory() + "scorescope-nn-test-\(getpid()).bin"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.write(toFile: path)
    let back = try Model.read(fromFile: path)
    #expect(back.parameters == model.parameters && back.buffers == model.buffers)
    do {
        _ = try Model.read(fromFile: path + ".missing")
        Issue.record("reading a missing file must throw")
    } catch let error as NNError {
        #expect(error.description.contains("cannot read"))
    }
}

@Test func truncatedFilesGiveAClearError() throws {
    let (model, sgd) = smallModelAndOptimizer()
    let bytes = checkpointBytes(model: model, sgd: sgd)
    // Every cut inside the header and a spread of cuts through the body.
    let cuts = Array(0..<40) + stride(from: 40, to: bytes.count, by: max(1, bytes.count / 97)).map { $0 }
    for cut in cuts {
        do {
            var reader = try BinaryReader(bytes: Array(bytes[0..<cut]), format: "checkpoint", supportedVersions: 1...1,
                                          source: "cut.bin")
            _ = try reader.readInt()
            _ = try Model.read(from: &reader)
            _ = try SGD.read(from: &reader)
            _ = try reader.readString()
            Issue.record("a file cut at \(cut) of \(bytes.count) bytes was accepted")
        } catch let error as NNError {
            switch error {
            case .truncated, .foreignFile: #expect(error.description.hasPrefix("cut.bin: "))
            default: Issue.record("cut at \(cut): unexpected error \(error)")
            }
        }
    }
}

@Test func foreignAndMismatchedFilesGiveClearErrors() throws {
    let (model, sgd) = smallModelAndOptimizer()
    let bytes = checkpointBytes(model: model, sgd: sgd)
    #expect(throws: NNError.foreignFile(source: "x.png")) {
        _ = try BinaryReader(bytes: [0x89, 0x50, 0x4E, 0x47] + Array(repeating: 0, count: 100), format: "checkpoint",
                             supportedVersions: 1...1, source: "x.png")
    }
    #expect(throws: NNError.formatMismatch(source: "<memory>", expected: "model", found: "checkpoint")) {
        _ = try BinaryReader(bytes: bytes, format: "model", supportedVersions: 1...1)
    }
    #expect(throws: NNError.unsupportedVersion(source: "<memory>", format: "checkpoint", found: 1, supported: 2...3)) {
        _ = try BinaryReader(bytes: bytes, format: "checkpoint", supportedVersions: 2...3)
    }
    // A model of another architecture.
    var reader = try BinaryReader(bytes: bytes, format: "checkpoint", supportedVersions: 1...1)
    _ = try reader.readInt()
    var other = model.spec
    other.head = .linear
    #expect(throws: NNError.self) { _ = try Model.read(from: &reader, expecting: other) }
    // Sections out of order.
    var reader2 = try BinaryReader(bytes: bytes, format: "checkpoint", supportedVersions: 1...1)
    _ = try reader2.readInt()
    do {
        _ = try SGD.read(from: &reader2)
        Issue.record("reading SGD where the model is stored must throw")
    } catch let error as NNError {
        #expect(error.description.contains("expected section \"sgd\"") && error.description.contains("found \"model\""))
    }
    // A stored tensor with the wrong shape for the spec.
    var writer = BinaryWriter(format: "checkpoint", version: 1)
    var broken = model
    broken.parameters[0] = Tensor(shape: [2, 1, 3, 2])
    broken.write(to: &writer)
    var reader3 = try BinaryReader(bytes: writer.bytes, format: "checkpoint", supportedVersions: 1...1)
    #expect(throws: NNError.shapeMismatch(source: "<memory>", name: "conv1.weight", expected: [2, 1, 3, 3], found: [2, 1, 3, 2])) {
        _ = try Model.read(from: &reader3)
    }
}
