// MoCoLearner+Checkpoint: the learner's whole state through NN's BinaryWriter/BinaryReader, so a resumed run
// continues bit-identically: configuration, step count, both encoders (parameters and BN buffers), SGD momentum
// buffers, queue rows + pointer + count, and the live states of the FT and key-shuffle generators.
// Deliberately not here: files, temp-file renames, data order or trainer state (the trainer writes those
// around this section, into the same writer).
import Foundation
import NN
import SeededRandom

extension MoCoLearner {
    /// Section name in checkpoint files.
    public static let checkpointSection = "moco-learner"

    /// Appends section "moco-learner" with everything needed to continue bit-identically.
    public func write(to writer: inout BinaryWriter) {
        writer.beginSection(Self.checkpointSection)
        writer.append(Self.json(configuration))
        writer.append(stepCount)
        query.write(to: &writer)
        key.write(to: &writer)
        optimizer.write(to: &writer)
        writer.append(queue.capacity)
        writer.append(queue.dimension)
        writer.append(queue.pointer)
        writer.append(queue.enqueuedCount)
        writer.append(queue.keys)
        for generator in [transformGenerator, shuffleGenerator] {
            writer.append(generator.seed)
            writer.append(generator.stateWords)
        }
    }

    /// Reads a learner written by `write(to:)`. The stored configuration must equal `configuration`
    /// (a run resumes with the configuration it started with); every shape and index is checked.
    public static func read(from reader: inout BinaryReader, configuration: MoCoConfiguration) throws -> MoCoLearner {
        try reader.expectSection(checkpointSection)
        let storedJSON = try reader.readString()
        let expectedJSON = json(configuration)
        guard let stored = try? JSONDecoder().decode(MoCoConfiguration.self, from: Data(storedJSON.utf8)),
              stored == configuration else {
            throw ContrastiveError.configurationMismatch(source: reader.source, stored: storedJSON, expected: expectedJSON)
        }
        let stepCount = try reader.readInt()
        let query = try Model.read(from: &reader, expecting: configuration.model)
        let key = try Model.read(from: &reader, expecting: configuration.model)
        let optimizer = try SGD.read(from: &reader, parameterShapes: query.parameterShapes)
        let capacity = try reader.readInt(), dimension = try reader.readInt()
        let pointer = try reader.readInt(), enqueued = try reader.readInt()
        let keys = try reader.readFloats()
        guard capacity == configuration.queueSize, dimension == configuration.model.projectionDim,
              keys.count == capacity * dimension, pointer >= 0, pointer < capacity, enqueued >= 0, stepCount >= 0 else {
            throw ContrastiveError.corrupt(source: reader.source, detail:
                "queue \(capacity)×\(dimension) with \(keys.count) floats, pointer \(pointer), count \(enqueued), step \(stepCount) (configuration: \(configuration.queueSize)×\(configuration.model.projectionDim))")
        }
        var generators: [SeededGenerator] = []
        for name in ["transform", "shuffle"] {
            let seed = try reader.readUInt64()
            let words = try reader.readUInt64s()
            guard words.count == 4, words != [0, 0, 0, 0] else {
                throw ContrastiveError.corrupt(source: reader.source, detail: "\(name) generator state has \(words.count) words")
            }
            generators.append(SeededGenerator(seed: seed, stateWords: words))
        }
        return MoCoLearner(restoring: configuration, query: query, key: key, optimizer: optimizer,
                           queue: KeyQueue(keys: keys, dimension: dimension, pointer: pointer, enqueuedCount: enqueued),
                           stepCount: stepCount, transformGenerator: generators[0], shuffleGenerator: generators[1])
    }

    /// The configuration as compact JSON with sorted keys (stable bytes).
    static func json(_ configuration: MoCoConfiguration) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(configuration) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
