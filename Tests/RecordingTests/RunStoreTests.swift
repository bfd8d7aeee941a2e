// RunStore / RunReader: round trip, WAL, one transaction per step, deleteSteps, the writer lock (in-process and
// from another process), reading while writing, schema version errors, and readability without scorescope.
import Foundation
import Testing
@testable import Recording

func temporaryRunFolder(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    return FileManager.default.temporaryDirectory
        .appendingPathComponent("scorescope-rec-\(safe)-\(UUID().uuidString)").path
}

func sampleStep(_ step: Int, loss: Double = 8.3, lambdas: Bool = false) -> StepRecord {
    StepRecord(step: step, epoch: 1 + step / 10, learningRate: 0.06, momentum: 0.99, loss: loss,
               instanceAccuracy: 0.25, gradientNorm: 1.5,
               scores: ScoreStatistics(positiveMean: 0.6 + Double(step) * 0.001, positiveVariance: 0.01,
                                       negativeMean: 0.01, negativeVarianceQuery: 0.02, negativeVarianceAll: 0.025),
               lambdaExtrapolation: lambdas ? 1.4 : nil, lambdaInterpolation: lambdas ? 0.3 : nil, milliseconds: 120)
}

func sampleHistograms(_ step: Int) throws -> [(stream: ScoreStream, histogram: ScoreHistogram)] {
    let summary = try ScoreSummary(positive: scores(8, seed: UInt64(step), lower: 0, upper: 1),
                                   negative: scores(8 * 32, seed: UInt64(1000 + step)), threads: 1)
    var transformed = ScoreHistogram(spec: .transformed)
    transformed.fill(scores(8, seed: UInt64(step), lower: -4, upper: 1), threads: 1)
    return [(.positive, summary.positive), (.negative, summary.negative), (.positiveTransformed, transformed)]
}

/// Runs a program with arguments; returns (exit status, stdout). Nil when the program is not on PATH.
func runTool(_ tool: String, _ arguments: [String]) -> (Int32, String)? {
    let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    guard let executable = paths.map({ "\($0)/\(tool)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) })
    else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Test func storeRoundTripsEveryTable() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder, scorescopeVersion: "9.9.9")
    try store.setConfig(json: #"{"seed":1,"momentum":0.99,"ft":{"positive":"extrapolate"}}"#)
    try store.setStatus(.running)
    try store.setHistogramSpecs([.positive: .cosine, .negative: .cosine, .positiveTransformed: .transformed])
    var written: [Int: [(stream: ScoreStream, histogram: ScoreHistogram)]] = [:]
    let vector: [Float] = [0.25, -1.5, .pi, Float.leastNonzeroMagnitude]
    for step in 1...5 {
        written[step] = try sampleHistograms(step)
        try store.record(step: sampleStep(step, loss: step == 3 ? .nan : 8.3, lambdas: step > 2),
                         histograms: written[step]!,
                         samples: step == 5 ? [GeometrySample(kind: .query, index: 0, vector: vector),
                                               GeometrySample(kind: .mixedNegative, index: 3, vector: [1, 2])] : [])
    }
    try store.addEvent(step: 2, kind: .queueFilled, detail: "K=64")
    try store.addEval(EvalRecord(step: 5, epoch: 1, kind: .knn, top1: 0.5, top5: 0.9))
    try store.addEval(EvalRecord(step: 5, epoch: 1, kind: .linear, top1: 0.6))
    try store.setStatus(.finished, event: RunEvent(step: 5, kind: .finished))
    #expect(try store.lastRecordedStep() == 5)

    let reader = try RunReader(directory: folder)
    #expect(try reader.status() == .finished)
    #expect(try reader.meta(MetaKey.scorescopeVersion) == "9.9.9")
    #expect(try reader.meta(MetaKey.schemaVersion) == String(RunStore.schemaVersion))
    #expect(try reader.configJSON()?.contains("extrapolate") == true)
    #expect(try reader.histogramSpecs()[.positiveTransformed] == .transformed)
    #expect(try reader.stepCount() == 5 && reader.stepRange() == 1...5)
    let steps = try reader.steps()
    #expect(steps.count == 5)
    #expect(steps[0] == sampleStep(1))
    #expect(steps[4] == sampleStep(5, lambdas: true))
    #expect(steps[2].loss.isNaN)  // NaN is stored as NULL and read back as NaN
    #expect(try reader.lastSteps(2).map(\.step) == [4, 5])
    let series = try reader.series(.positiveMean, in: 2...4)
    #expect(series.steps == [2, 3, 4] && series.values == [0.602, 0.603, 0.604])
    #expect(try reader.series(.lambdaExtrapolation).values[0].isNaN)
    #expect(try reader.streams() == [.positive, .negative, .positiveTransformed])
    for stream in [ScoreStream.positive, .negative, .positiveTransformed] {
        let read = try reader.histograms(stream)
        #expect(read.map(\.step) == [1, 2, 3, 4, 5])
        for item in read {
            let original = written[item.step]!.first { $0.stream == stream }!.histogram
            #expect(item.histogram == original)  // bit-exact: counts, moments, edges
        }
    }
    #expect(try reader.histogram(.negative, step: 3)?.count == 8 * 32)
    #expect(try reader.histogram(.negativeTransformed, step: 3) == nil)
    #expect(try reader.evals() == [EvalRecord(step: 5, epoch: 1, kind: .knn, top1: 0.5, top5: 0.9),
                                    EvalRecord(step: 5, epoch: 1, kind: .linear, top1: 0.6)])
    #expect(try reader.events() == [RunEvent(step: 2, kind: .queueFilled, detail: "K=64"),
                                     RunEvent(step: 5, kind: .finished)])
    #expect(try reader.sampleSteps() == [5])
    let samples = try reader.samples(step: 5)
    #expect(samples.count == 2)
    #expect(samples.first { $0.kind == .query }?.vector.map(\.bitPattern) == vector.map(\.bitPattern))
}

@Test func storeIsInWALModeAndSchemaVersionIsVisibleToTools() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder)
    try store.record(step: 1, histograms: [])
    // SQLite header bytes 18 and 19 (write/read format) are 2 for a WAL database.
    let header = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + RunStore.fileName)).prefix(20)
    #expect(header[18] == 2 && header[19] == 2)
    #expect(FileManager.default.fileExists(atPath: folder + "/run.sqlite-wal"))
}

extension RunStore {
    /// Test helper: records a plain step.
    func record(step: Int, histograms: [(stream: ScoreStream, histogram: ScoreHistogram)]) throws {
        try record(step: sampleStep(step), histograms: histograms)
    }
}

@Test func aStepIsOneTransactionAllOrNothing() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder)
    try store.record(step: 1, histograms: try sampleHistograms(1))
    // The second histogram of the same stream violates the primary key after the steps row was inserted:
    // the whole step must roll back.
    let h = try sampleHistograms(2)[0].histogram
    #expect(throws: RecordingError.self) {
        try store.record(step: 2, histograms: [(.positive, h), (.positive, h)])
    }
    let reader = try RunReader(directory: folder)
    #expect(try reader.stepCount() == 1)
    #expect(try reader.histograms(.positive).map(\.step) == [1])
    // Re-recording an existing step is refused with a clear error.
    #expect(throws: RecordingError.stepAlreadyRecorded(path: store.path, step: 1)) {
        try store.record(step: 1, histograms: [])
    }
    try store.record(step: 2, histograms: [(.positive, h)])
    #expect(try reader.stepCount() == 2)
}

@Test func deleteStepsRemovesEverythingAfterAStep() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder)
    for step in 1...6 {
        try store.record(step: sampleStep(step), histograms: try sampleHistograms(step),
                         samples: [GeometrySample(kind: .key, index: 0, vector: [Float(step)])])
        try store.addEvent(step: step, kind: .checkpoint)
        try store.addEval(EvalRecord(step: step, epoch: 1, kind: .knn, top1: 0.1 * Double(step)))
    }
    try store.setStatus(.interrupted)
    #expect(try store.deleteSteps(after: 4) == 2)
    let reader = try RunReader(directory: folder)
    #expect(try reader.steps().map(\.step) == [1, 2, 3, 4])
    for stream in [ScoreStream.positive, .negative, .positiveTransformed] {
        #expect(try reader.histograms(stream).map(\.step) == [1, 2, 3, 4])
    }
    #expect(try reader.evals().map(\.step) == [1, 2, 3, 4])
    #expect(try reader.events().map(\.step) == [1, 2, 3, 4])
    #expect(try reader.sampleSteps() == [1, 2, 3, 4])
    #expect(try reader.status() == .interrupted)  // meta is not stepped
    #expect(try store.lastRecordedStep() == 4)
    try store.record(step: sampleStep(5), histograms: try sampleHistograms(5))  // the recomputed step goes in
    #expect(try reader.stepCount() == 5)
}

@Test func aSecondWriterIsRefusedWithTheFolderAndPid() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var first: RunStore? = try RunStore(directory: folder)
    do {
        _ = try RunStore(directory: folder)
        Issue.record("a second writer was allowed")
    } catch let error as RecordingError {
        #expect(error == .storeLocked(directory: folder, holderPID: getpid()))
        #expect(error.description.contains(folder) && error.description.contains("process \(getpid())"))
    }
    // Readers are never locked out.
    #expect(try RunReader(directory: folder).stepCount() == 0)
    try first?.close()
    #expect(throws: RecordingError.self) { try first?.record(step: 1, histograms: []) }  // closed: an error, no trap
    first = nil
    let second = try RunStore(directory: folder)  // the lock is free again
    try second.record(step: 1, histograms: [])
}

@Test(.enabled(if: runTool("python3", ["-c", "import fcntl"])?.0 == 0, "needs python3"))
func aWriterInAnotherProcessIsNamedByPid() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    // A child process takes the lock the way RunStore does, reports its pid, then tries to open the store.
    let script = """
    import fcntl, os, subprocess, sys
    f = open(sys.argv[1] + "/run.lock", "w"); fcntl.flock(f, fcntl.LOCK_EX); f.write(str(os.getpid())); f.flush()
    print(os.getpid()); sys.stdout.flush(); sys.stdin.read()
    """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, folder]
    let output = Pipe(), input = Pipe()
    process.standardOutput = output
    process.standardInput = input
    try process.run()
    defer {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
    }
    let pid = Int32(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    #expect(pid != nil)
    #expect(throws: RecordingError.storeLocked(directory: folder, holderPID: pid)) {
        _ = try RunStore(directory: folder)
    }
}

@Test func readersSeeCommittedStepsWhileTheWriterIsOpen() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var store: RunStore? = try RunStore(directory: folder)
    try store?.record(step: 1, histograms: try sampleHistograms(1))
    let reader = try RunReader(directory: folder)
    #expect(try reader.stepCount() == 1)
    // A writer in a background thread keeps committing while the reader reads.
    let writer = store!
    let done = DispatchSemaphore(value: 0)
    let errorBox = ErrorBox()
    DispatchQueue.global().async {
        do {
            for step in 2...40 { try writer.record(step: step, histograms: try sampleHistograms(step)) }
        } catch { errorBox.set(error) }
        done.signal()
    }
    var lastSeen = 0
    for _ in 0..<40 {
        let count = try reader.stepCount()
        let histograms = try reader.histograms(.negative)
        #expect(count >= lastSeen)
        #expect(histograms.count >= count)  // a step and its histograms appear together
        lastSeen = count
    }
    done.wait()
    #expect(errorBox.error == nil)
    #expect(try reader.stepCount() == 40)
    // After the writer closes (WAL files cleaned up), readers still open the store.
    try store?.close()
    store = nil
    #expect(try RunReader(directory: folder).stepCount() == 40)
    #expect(try reader.stepCount() == 40)
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    func set(_ error: any Error) { lock.lock(); stored = error; lock.unlock() }
    var error: (any Error)? { lock.lock(); defer { lock.unlock() }; return stored }
}

@Test func schemaVersionMismatchIsAClearError() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    do {
        let store = try RunStore(directory: folder)
        try store.setMeta(MetaKey.schemaVersion, "99")
        try store.close()
    }
    #expect(throws: RecordingError.schemaTooNew(path: folder + "/run.sqlite", found: 99, supported: RunStore.schemaVersion)) {
        _ = try RunReader(directory: folder)
    }
    #expect(throws: RecordingError.schemaTooNew(path: folder + "/run.sqlite", found: 99, supported: RunStore.schemaVersion)) {
        _ = try RunStore(directory: folder)
    }
    #expect(throws: RecordingError.storeNotFound(path: folder + "/nothing")) {
        _ = try RunReader(directory: folder + "/nothing")
    }
    // A file that is not SQLite is an error, not a trap.
    let bogus = temporaryRunFolder("bogus")
    defer { try? FileManager.default.removeItem(atPath: bogus) }
    try FileManager.default.createDirectory(atPath: bogus, withIntermediateDirectories: true)
    try Data("not a database at all, just text".utf8).write(to: URL(fileURLWithPath: bogus + "/run.sqlite"))
    #expect(throws: RecordingError.self) { _ = try RunReader(directory: bogus) }
    #expect(throws: RecordingError.self) { _ = try RunStore(directory: bogus) }
}

@Test func findRunsListsRunFoldersBelowADirectory() throws {
    let root = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    for name in ["b/m0.9-s1", "a", "b/m0.99-s1"] { _ = try RunStore(directory: root + "/" + name) }
    try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
    #expect(RunReader.findRuns(under: root) == [root + "/a", root + "/b/m0.9-s1", root + "/b/m0.99-s1"])
    #expect(RunReader.findRuns(under: root + "/a") == [root + "/a"])
}

@Test(.enabled(if: runTool("python3", ["-c", "import sqlite3"])?.0 == 0, "needs python3 with sqlite3"))
func pythonReadsTheStoreWithNoScorescopeCode() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder)
    try store.setStatus(.running)
    for step in 1...3 {
        try store.record(step: sampleStep(step), histograms: try sampleHistograms(step),
                         samples: [GeometrySample(kind: .query, index: 0, vector: [0.5, -2])])
    }
    // Read while the writer is still open (WAL), decode the BLOBs with struct, check the counts add up.
    let script = """
    import sqlite3, struct, sys
    db = sqlite3.connect("file:" + sys.argv[1] + "/run.sqlite?mode=ro", uri=True)
    print(db.execute("PRAGMA journal_mode").fetchone()[0])
    print(dict(db.execute("SELECT key, value FROM meta"))["status"])
    print(db.execute("SELECT count(*), max(step), round(sum(pos_mean), 3) FROM steps").fetchone())
    ok = True
    for step, stream, bins, under, over, count, blob in db.execute(
            "SELECT step, stream, bins, underflow, overflow, count, counts FROM histograms"):
        c = struct.unpack("<%dI" % bins, blob)
        ok = ok and sum(c) + under + over == count
    print(ok)
    print(struct.unpack("<2f", db.execute("SELECT vector FROM samples WHERE step = 2").fetchone()[0]))
    """
    let result = runTool("python3", ["-c", script, folder])
    #expect(result?.0 == 0, "\(result?.1 ?? "")")
    let lines = (result?.1 ?? "").split(separator: "\n").map(String.init)
    #expect(lines == ["wal", "running", "(3, 3, 1.806)", "True", "(0.5, -2.0)"])
}

@Test(.enabled(if: runTool("sqlite3", ["-version"])?.0 == 0, "needs the sqlite3 command"))
func theSqlite3CommandReadsTheStore() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder)
    try store.record(step: 7, histograms: try sampleHistograms(7))
    let result = runTool("sqlite3", ["-readonly", folder + "/run.sqlite",
                                     "SELECT step, stream, count, length(counts) FROM histograms ORDER BY stream;"])
    #expect(result?.0 == 0)
    #expect(result?.1 == "7|neg|256|800\n7|pos|8|800\n7|pos_ft|8|800\n")
}
