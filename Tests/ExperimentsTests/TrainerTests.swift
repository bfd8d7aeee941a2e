// Trainer: what a run store holds after a smoke run, resume (signal mid-epoch, crash after a checkpoint, other
// thread counts) equal to an uninterrupted run, refusals (second writer, other config, batch larger than the
// data), divergence, the FT streams, and the checkpoint's config check.
// Runs are the smoke preset, often on 128 images (4 steps per epoch) to keep debug builds fast.
import Foundation
import Testing
import NN
import Contrastive
import Recording
import SeededRandom
@testable import Experiments

func temporaryTrainingFolder(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    return FileManager.default.temporaryDirectory
        .appendingPathComponent("scorescope-trainer-\(safe)-\(UUID().uuidString)").path
}

/// The smoke preset on 128 synthetic images (4 steps per epoch, 2 epochs), plus `overrides`.
func smallSmoke(_ overrides: [String] = []) throws -> TrainConfig {
    try TrainConfig.resolve(presets: ["smoke"], overrides: ["dataset=synthetic:128?size=16"] + overrides)
}

/// A thread-safe list of observed events.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [TrainingEvent] = []
    func add(_ event: TrainingEvent) { lock.lock(); items.append(event); lock.unlock() }
    var events: [TrainingEvent] { lock.lock(); defer { lock.unlock() }; return items }
}

/// Everything a store holds that must not depend on interruptions or threads: every table, with the wall-clock
/// parts removed (`ms`, and the `resumed`/`interrupted` events).
struct StoreContents: Equatable {
    var config: String?
    var status: String?
    /// Rows as text (so NaN cells of a diverged step compare equal), `ms` zeroed.
    var steps: [String]
    var histograms: [StepHistogram]
    var evals: [EvalRecord]
    var events: [RunEvent]
    var samples: [[Recording.GeometrySample]]

    init(_ directory: String) throws {
        let reader = try RunReader(directory: directory)
        config = try reader.configJSON()
        status = try reader.meta(MetaKey.status)
        steps = try reader.steps().map { var s = $0; s.milliseconds = 0; return "\(s)" }
        histograms = try ScoreStream.allCases.flatMap { try reader.histograms($0) }
        evals = try reader.evals()
        events = try reader.events().filter { $0.kind != .resumed && $0.kind != .interrupted }
        samples = try reader.sampleSteps().map { try reader.samples(step: $0) }
    }
}

@Test func smokeRunRecordsOneRowAndAPosAndNegHistogramPerStep() throws {
    let folder = temporaryTrainingFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let config = try TrainConfig.preset("smoke")
    let outcome = try Trainer(config: config, directory: folder, threads: 2, scorescopeVersion: "test").run()
    let B = config.batchSize, K = config.queueSize, stepsPerEpoch = 256 / B
    let total = stepsPerEpoch * config.epochs
    #expect(outcome == .finished(steps: total))

    let reader = try RunReader(directory: folder)
    #expect(try reader.status() == .finished)
    #expect(try reader.configJSON() == config.normalizedForStorage.jsonString())
    #expect(try reader.meta(MetaKey.scorescopeVersion) == "test")
    #expect(try reader.histogramSpecs()[.negativeTransformed] == .transformed)
    let steps = try reader.steps()
    #expect(steps.map(\.step) == Array(1...total))
    #expect(steps.map(\.epoch) == (0..<total).map { $0 / stepsPerEpoch })
    #expect(steps.allSatisfy { $0.loss.isFinite && $0.lambdaExtrapolation == nil && $0.lambdaInterpolation == nil })
    // Cosine learning rate: starts at the base rate and decreases.
    #expect(steps[0].learningRate == Double(Float(config.lr)))
    #expect(zip(steps, steps.dropFirst()).allSatisfy { $0.learningRate > $1.learningRate })
    for stream in [ScoreStream.positive, .negative] {
        let histograms = try reader.histograms(stream)
        #expect(histograms.map(\.step) == Array(1...total))
        let expected = stream == .positive ? B : B * K
        for h in histograms.map(\.histogram) {
            let binned = h.counts.reduce(0) { $0 + Int($1) } + h.underflow + h.overflow
            #expect(binned == expected && h.count == expected && h.nanCount == 0)
        }
    }
    #expect(try reader.histograms(.positiveTransformed).isEmpty && reader.histograms(.negativeTransformed).isEmpty)
    // The statistics of the row are the histograms' exact moments.
    let positives = try reader.histograms(.positive)
    #expect(zip(steps, positives).allSatisfy { $0.scores.positiveMean == $1.histogram.mean })

    // Events: the queue holds only real keys from step K/B + 1 on; finished at the last step.
    let events = try reader.events()
    #expect(events.map(\.kind) == [.queueFilled, .finished])
    #expect(events.first?.step == K / B + 1 && events.last?.step == total)
    // kNN after each epoch and the linear probe at the end, in percent.
    let evals = try reader.evals()
    #expect(evals.map(\.kind) == [.knn, .knn, .linear])
    #expect(evals.map(\.step) == [stepsPerEpoch, total, total])
    #expect(evals.allSatisfy { $0.top1 >= 0 && $0.top1 <= 100 && ($0.top5 ?? 0) >= $0.top1 })
    #expect(evals.contains { $0.top1 > 10 }, "kNN/linear at chance level (10 %) or below on the synthetic classes")
    // Geometry samples every sampleEvery steps: z_q, z_k (8 each) and 16 queue rows; no FT kinds.
    #expect(try reader.sampleSteps() == Array(stride(from: config.sampleEvery, through: total, by: config.sampleEvery)))
    let kinds = Dictionary(grouping: try reader.samples(step: config.sampleEvery), by: \.kind).mapValues(\.count)
    #expect(kinds == [.query: 8, .key: 8, .negative: 16])
    #expect(FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("checkpoint.bin")))

    // A finished run asked again: nothing changes.
    let before = try StoreContents(folder)
    let again = try Trainer(config: config, directory: folder, threads: 1, scorescopeVersion: "test").run()
    #expect(again == .alreadyFinished(steps: total))
    #expect(try StoreContents(folder) == before)
    #expect(try RunReader(directory: folder).events(kind: .resumed).isEmpty)
}

@Test func resumeAfterASignalAndACrashEqualsAnUninterruptedRunWhateverTheThreads() throws {
    let uninterrupted = temporaryTrainingFolder(), resumed = temporaryTrainingFolder()
    defer {
        try? FileManager.default.removeItem(atPath: uninterrupted)
        try? FileManager.default.removeItem(atPath: resumed)
    }
    // 4 steps per epoch; checkpoints every 3 steps and at epoch ends (3, 4, 6, 8); samples and a kNN at step 0 too.
    let config = try smallSmoke(["checkpointEvery=3", "sampleEvery=3", "knn.atStart=true"])
    #expect(try Trainer(config: config, directory: uninterrupted, threads: 1, scorescopeVersion: "test").run()
        == .finished(steps: 8))

    // 1. A stop request (as SIGINT sets it) during step 2, mid-epoch, with 2 threads.
    let stop = StopRequest()
    let first = Trainer(config: config, directory: resumed, threads: 2, scorescopeVersion: "test", stop: stop,
                        observer: { if case .step(let s) = $0, s.step == 2 { stop.request("test stop") } })
    #expect(try first.run() == .interrupted(step: 2))
    #expect(try RunReader(directory: resumed).status() == .interrupted)
    #expect(try RunReader(directory: resumed).stepRange() == 1...2)

    // 2. Resume with 1 thread and crash after step 7: the last checkpoint is at step 6 (epoch 1, batch 2).
    var second = Trainer(config: config, directory: resumed, threads: 1, scorescopeVersion: "test")
    second.abandonAfterStep = 7
    #expect(throws: TrainerError.abandoned(step: 7)) { try second.run() }
    #expect(try RunReader(directory: resumed).stepRange() == 1...7)
    #expect(try RunReader(directory: resumed).status() == .running)

    // As if the crashed invocation had run on another kind of node (a requeued Slurm task): the resume says so.
    do {
        let store = try RunStore(directory: resumed)
        try store.setMeta(TrainerMetaKey.blasCore, "OtherKernels")
        try store.close()
    }

    // 3. Resume with 2 threads: step 7 is deleted and recomputed.
    let log = EventLog()
    let third = Trainer(config: config, directory: resumed, threads: 2, scorescopeVersion: "test", observer: log.add)
    #expect(try third.run() == .finished(steps: 8))
    let plan = log.events.compactMap { if case .started(let p) = $0 { return p } else { return nil } }.first
    #expect(plan?.firstStep == 7 && plan?.resumed == true)

    let expected = try StoreContents(uninterrupted), actual = try StoreContents(resumed)
    #expect(actual.steps == expected.steps)
    #expect(actual.histograms == expected.histograms)
    #expect(actual.evals == expected.evals)
    #expect(actual.events == expected.events)
    #expect(actual.samples == expected.samples)
    #expect(actual == expected)
    #expect(expected.evals.first?.step == 0)
    let resumes = try RunReader(directory: resumed).events(kind: .resumed)
    #expect(resumes.map(\.step) == [2, 6])
    #expect(!resumes[0].detail.contains("kernels changed"))
    #expect(resumes[1].detail.contains("OpenBLAS kernels changed from OtherKernels to \(blasCoreName())"))
}

@Test func aSecondWriterIsRefusedWithTheStoresLockError() throws {
    let folder = temporaryTrainingFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let holder = try RunStore(directory: folder)
    defer { try? holder.close() }
    let trainer = Trainer(config: try smallSmoke(), directory: folder, threads: 1, scorescopeVersion: "test")
    do {
        _ = try trainer.run()
        Issue.record("a second writer was accepted")
    } catch let error as RecordingError {
        guard case .storeLocked(let directory, let pid) = error else { Issue.record("\(error)"); return }
        #expect(directory == folder && pid == getpid())
        #expect(error.description.contains(folder))
    }
    let lines = LineLog()
    let code = runTraining(config: try smallSmoke(), directory: folder, threads: 1, scorescopeVersion: "test",
                           console: .lines(lines.add), handleSignals: false)
    #expect(code == TrainingExitCode.failure)
    #expect(lines.text.contains("error: ") && lines.text.contains(folder))
}

/// Collects console lines.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return lines.joined(separator: "\n") }
}

@Test func anotherConfigOnAStartedFolderIsRefusedNamingTheKeys() throws {
    let folder = temporaryTrainingFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let stop = StopRequest()
    stop.request("test stop")  // stops after the first step
    #expect(try Trainer(config: try smallSmoke(), directory: folder, threads: 1, scorescopeVersion: "test", stop: stop).run()
        == .interrupted(step: 1))
    let other = try smallSmoke(["momentum=0.9", "ft.positive=extrapolate"])
    #expect(throws: TrainerError.configurationMismatch(directory: folder, differences: [
        "ft.positive: none → extrapolate", "momentum: 0.99 → 0.9",
    ])) {
        try Trainer(config: other, directory: folder, threads: 1, scorescopeVersion: "test").run()
    }
    // Threads are not part of the config: another `threads` value resumes.
    #expect(try TrainConfig.stored(inRunFolder: folder) == (try smallSmoke()).normalizedForStorage)
    let sameButThreads = try smallSmoke(["threads=2"])
    let resumed = try Trainer(config: sameButThreads, directory: folder, scorescopeVersion: "test").run()
    #expect(resumed == .finished(steps: 8))
}

@Test func aBatchLargerThanTheDatasetIsRefusedBeforeAnythingIsRecorded() throws {
    let folder = temporaryTrainingFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let config = try smallSmoke(["batchSize=256", "queueSize=512", "bnGroups=8"])
    do {
        _ = try Trainer(config: config, directory: folder, threads: 1, scorescopeVersion: "test").run()
        Issue.record("no error")
    } catch let error as TrainerError {
        #expect(error.description.contains("'batchSize': 256 is larger than the 128 training images"))
    }
    #expect(try RunReader(directory: folder).configJSON() == nil)
    // Impossible values are refused by the config's validation, naming the key.
    #expect(throws: TrainConfigError.invalid(key: "bnGroups", problem: "3 groups do not divide the batch size 32")) {
        try smallSmoke(["bnGroups=3"])
    }
}

@Test func aHugeLearningRateMarksTheRunDivergedAndExitsWithTheDivergedCode() throws {
    let folder = temporaryTrainingFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let config = try smallSmoke(["lr=1e30", "lrSchedule=constant"])
    let lines = LineLog()
    let code = runTraining(config: config, directory: folder, threads: 1, scorescopeVersion: "test",
                           console: .lines(lines.add), handleSignals: false)
    #expect(code == divergedExitCode)
    let reader = try RunReader(directory: folder)
    #expect(try reader.status() == .diverged)
    let event = try reader.events(kind: .diverged).first
    let step = try #require(event?.step)
    #expect(step >= 2 && lines.text.contains("at step \(step)"))
    // Everything recorded is kept: every step up to the diverging one, whose loss is not finite.
    let steps = try reader.steps()
    #expect(steps.map(\.step) == Array(1...step))
    #expect(steps.dropLast().allSatisfy { $0.loss.isFinite } && !(steps.last?.loss.isFinite ?? true))
    // Asked again: still diverged, nothing changes.
    let before = try StoreContents(folder)
    #expect(runTraining(config: config, directory: folder, threads: 1, scorescopeVersion: "test",
                        console: .lines { _ in }, handleSignals: false) == divergedExitCode)
    #expect(try StoreContents(folder) == before)
}

@Test func featureTransformRunRecordsFourStreamsAndLambdasFromItsStartEpoch() throws {
    let folder = temporaryTrainingFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let config = try smallSmoke(["ft.positive=extrapolate", "ft.negative=interpolate", "ft.startEpoch=1",
                                 "sampleEvery=2", "linearProbe.enabled=false"])
    #expect(try Trainer(config: config, directory: folder, threads: 2, scorescopeVersion: "test").run() == .finished(steps: 8))
    let reader = try RunReader(directory: folder)
    let B = config.batchSize, K = config.queueSize
    let steps = try reader.steps()
    let before = steps.filter { $0.epoch == 0 }, after = steps.filter { $0.epoch == 1 }
    #expect(before.count == 4 && after.count == 4)
    #expect(before.allSatisfy { $0.lambdaExtrapolation == nil && $0.lambdaInterpolation == nil })
    #expect(after.allSatisfy { ($0.lambdaExtrapolation ?? 0) >= 1 && ($0.lambdaExtrapolation ?? 3) <= 2 })
    #expect(after.allSatisfy { ($0.lambdaInterpolation ?? -1) >= 0 && ($0.lambdaInterpolation ?? 2) <= 1 })
    #expect(try reader.streams() == [.positive, .negative, .positiveTransformed, .negativeTransformed])
    for (stream, expected) in [(ScoreStream.positiveTransformed, B), (.negativeTransformed, B * K)] {
        let histograms = try reader.histograms(stream)
        #expect(histograms.map(\.step) == after.map(\.step))
        #expect(histograms.allSatisfy { $0.histogram.count == expected && $0.histogram.spec == .transformed })
    }
    // Extrapolation lowers the positive scores that enter the logits.
    for step in after.map(\.step) {
        let raw = try #require(try reader.histogram(.positive, step: step)), ft = try #require(try reader.histogram(.positiveTransformed, step: step))
        #expect(ft.mean < raw.mean)
    }
    let started = try reader.events(kind: .featureTransformStarted)
    #expect(started.map(\.step) == [5])
    // Samples: the transformed pair and the mixed queue rows only once FT acts.
    let early = Set(try reader.samples(step: 2).map(\.kind)), late = Set(try reader.samples(step: 6).map(\.kind))
    #expect(early == [.query, .key, .negative])
    #expect(late == Set(SampleKind.allCases))
    #expect(try reader.evals().map(\.kind) == [.knn, .knn])
}

@Test func aCheckpointOfAnotherConfigIsRefusedNamingTheKeys() throws {
    let folder = temporaryTrainingFolder()
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = (folder as NSString).appendingPathComponent("checkpoint.bin")
    let config = try smallSmoke()
    let moco = config.mocoConfiguration(inputChannels: 1, inputHeight: 16, inputWidth: 16)
    let learner = MoCoLearner(configuration: moco, generator: SeededGenerator(seed: 3))
    try TrainingCheckpoint(config: config.normalizedForStorage, position: TrainingPosition(step: 0, epoch: 0, index: 0),
                           learner: learner).write(to: path)
    #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    let back = try TrainingCheckpoint.read(path: path, config: config.normalizedForStorage, learner: moco,
                                           stepsPerEpoch: 4, epochs: 2)
    #expect(back.position == TrainingPosition(step: 0, epoch: 0, index: 0))
    #expect(back.learner.queue == learner.queue && back.learner.query.parameters == learner.query.parameters)
    let other = try smallSmoke(["seed=5"]).normalizedForStorage
    do {
        _ = try TrainingCheckpoint.read(path: path, config: other, learner: moco, stepsPerEpoch: 4, epochs: 2)
        Issue.record("accepted a checkpoint of another config")
    } catch let error as TrainerError {
        #expect(error.description.contains("seed: 0 → 5"))
    }
    // A position outside the run is refused too.
    do {
        _ = try TrainingCheckpoint.read(path: path, config: config.normalizedForStorage, learner: moco,
                                        stepsPerEpoch: 0, epochs: 2)
        Issue.record("accepted an impossible position")
    } catch let error as TrainerError {
        #expect(error.description.contains("does not fit a run"))
    }
}
