// TrainerCheckpoint: the `checkpoint.bin` of a run folder: everything needed to continue bit-identically.
// Layout (NN's BinaryWriter, format "scorescope-checkpoint" version 1): section "trainer" with the normalised
// config JSON (to refuse a checkpoint of another config, naming the differing keys), the number of steps done,
// and the position of the next batch (epoch, index in the epoch); then the learner's own section (both encoders,
// BN statistics, SGD buffers, queue and pointer, FT and key-shuffle generator states; MoCoLearner+Checkpoint).
// The data order and augmentations need no state: the loader's batches are pure in (seed, epoch, index).
// Writing is durable: a temporary file in the same folder, fsync, rename over the old checkpoint, fsync of the
// folder; a crash at any moment leaves either the old or the new checkpoint, never a torn one.
// Deliberately not here: when to checkpoint (Trainer.swift).
import Foundation
import NN
import Contrastive
#if canImport(Glibc)
import Glibc
#endif

/// A training checkpoint: config, position and learner.
struct TrainingCheckpoint {
    static let format = "scorescope-checkpoint"
    static let version = 1
    static let section = "trainer"

    /// The run's config with `threads` normalised (TrainConfig.normalizedForStorage).
    var config: TrainConfig
    /// Steps done and the next batch.
    var position: TrainingPosition
    /// The learner after `position.step` steps.
    var learner: MoCoLearner

    /// The checkpoint's bytes.
    func encoded() -> [UInt8] {
        var writer = BinaryWriter(format: Self.format, version: Self.version)
        writer.beginSection(Self.section)
        writer.append(config.jsonString())
        writer.append(position.step)
        writer.append(position.epoch)
        writer.append(position.index)
        learner.write(to: &writer)
        return writer.bytes
    }

    /// Writes the checkpoint durably to `path` (temporary file, fsync, rename, fsync of the folder).
    func write(to path: String) throws {
        try writeDurably(encoded(), to: path)
    }

    /// Reads the checkpoint at `path` and checks that it belongs to `config` (normalised) and the learner
    /// configuration `learner`, and that its position lies in a run of `epochs` × `stepsPerEpoch` steps.
    static func read(path: String, config: TrainConfig, learner configuration: MoCoConfiguration,
                     stepsPerEpoch: Int, epochs: Int) throws -> TrainingCheckpoint {
        do {
            var reader = try BinaryReader(contentsOfFile: path, format: format, supportedVersions: version...version)
            try reader.expectSection(section)
            let json = try reader.readString()
            let differences = try config.differences(fromStoredJSON: json)
            if !differences.isEmpty {
                throw TrainerError.checkpoint(path: path, problem:
                    "it was written by a run with another configuration (stored → requested): "
                    + differences.joined(separator: "; "))
            }
            let position = TrainingPosition(step: try reader.readInt(), epoch: try reader.readInt(),
                                            index: try reader.readInt())
            let consistent = position.epoch >= 0 && position.index >= 0 && position.index < stepsPerEpoch
                && position.step == position.epoch * stepsPerEpoch + position.index
                && (position.epoch < epochs || (position.epoch == epochs && position.index == 0))
            if !consistent {
                throw TrainerError.checkpoint(path: path, problem:
                    "its position (step \(position.step), epoch \(position.epoch), batch \(position.index)) does not "
                    + "fit a run of \(epochs) epochs × \(stepsPerEpoch) steps")
            }
            let learner = try MoCoLearner.read(from: &reader, configuration: configuration)
            try reader.expectEnd()
            if learner.stepCount != position.step {
                throw TrainerError.checkpoint(path: path, problem:
                    "the learner has done \(learner.stepCount) steps but the trainer section says \(position.step)")
            }
            var stored = config
            if let decoded = try? TrainConfig.decode(json: json) { stored = decoded.normalizedForStorage }
            return TrainingCheckpoint(config: stored, position: position, learner: learner)
        } catch let error as TrainerError {
            throw error
        } catch {
            throw TrainerError.checkpoint(path: path, problem: "cannot be read: \(error)")
        }
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the complete new one: a temporary file
/// beside it, fsync, rename, fsync of the folder.
func writeDurably(_ bytes: [UInt8], to path: String) throws {
    let temporary = path + ".tmp"
    func fail(_ what: String) -> TrainerError {
        .checkpoint(path: path, problem: "cannot be written (\(what): \(String(cString: strerror(errno))))")
    }
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { throw fail("open \(temporary)") }
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            return Glibc.write(fd, base + written, raw.count - written)
        }
        if n <= 0 {
            if n < 0 && errno == EINTR { continue }
            let error = fail("write")
            close(fd)
            throw error
        }
        written += n
    }
    if fsync(fd) != 0 {
        let error = fail("fsync")
        close(fd)
        throw error
    }
    close(fd)
    if rename(temporary, path) != 0 { throw fail("rename") }
    let folder = (path as NSString).deletingLastPathComponent
    let directory = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
    if directory >= 0 {
        _ = fsync(directory)
        close(directory)
    }
}
