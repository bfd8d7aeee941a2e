// RunStore: the writer side of a run's SQLite store (`run.sqlite` in the run folder), through GRDB.
//
// One writer per folder (an flock on `run.lock`, see WriterLock.swift); WAL mode so that readers (`inspect`,
// `analyze`, `plot`, Python) read committed data while training writes; one transaction per training step
// (`record(step:histograms:samples:)`), so a crash at any moment loses no committed step and leaves no half step.
// Durability: `.full` (default) syncs every commit (survives power loss); `.crashSafe` syncs only at WAL
// checkpoints (survives any process crash or SIGKILL, may lose the last commits on power loss).
// Deliberately not here: reading beyond what the writer itself needs (RunReader.swift), the schema text
// (RunStore+Schema.swift), and training policy (what to record when is the trainer's business).
import Foundation
import GRDB

/// The writer handle of a run store. Thread-safe; every call is one SQLite transaction.
public final class RunStore: @unchecked Sendable {
    /// File name of the store inside a run folder.
    public static let fileName = "run.sqlite"
    /// File name of the writer lock inside a run folder.
    public static let lockFileName = "run.lock"
    /// The schema version this build writes.
    public static var schemaVersion: Int { RunStoreSchema.currentVersion }
    /// Steps per histogram block (`histogram_blocks`: block b sums the histograms of steps 16b+1 … 16b+16).
    public static var histogramBlockSteps: Int { HistogramBlocks.steps }

    /// How hard each commit is pushed to disk.
    public enum Durability: Sendable {
        /// PRAGMA synchronous = FULL: every committed step survives power loss.
        case full
        /// PRAGMA synchronous = NORMAL: committed steps survive process crashes; power loss may drop the last few.
        case crashSafe
    }

    /// The run folder.
    public let directory: String
    /// Path of `run.sqlite`.
    public let path: String
    private let queue: DatabaseQueue
    private let state = NSLock()
    private var lock: WriterLock?

    /// Opens the store of run folder `directory` for writing, creating the folder and an empty store (schema
    /// version `RunStore.schemaVersion`) when missing, migrating an older store. Takes the folder's writer lock:
    /// throws `RecordingError.storeLocked` (naming the folder and the holder's pid) when another writer has it,
    /// `schemaTooNew` when the store is from a newer scorescope. `scorescopeVersion` is recorded in `meta` when
    /// the store is created.
    public init(directory: String, scorescopeVersion: String? = nil, durability: Durability = .full) throws {
        self.directory = directory
        path = (directory as NSString).appendingPathComponent(RunStore.fileName)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RecordingError.io(path: directory, message: "cannot create the run folder: \(error.localizedDescription)")
        }
        let lock = try WriterLock(directory: directory, fileName: RunStore.lockFileName)
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(10)
        configuration.label = "scorescope.run-store"
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        let path = self.path
        queue = try RunStore.wrap(path) { try DatabaseQueue(path: path, configuration: configuration) }
        self.lock = lock
        try migrate(scorescopeVersion: scorescopeVersion)
    }

    /// Closes the database and releases the writer lock. Later calls on this store throw. Also done on release.
    public func close() throws {
        defer {
            state.lock()
            lock = nil
            state.unlock()
        }
        try RunStore.wrap(path) { try queue.close() }
    }

    // MARK: Meta

    /// Sets (or replaces) a `meta` value.
    public func setMeta(_ key: String, _ value: String) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    /// The `meta` value of `key`, or nil.
    public func meta(_ key: String) throws -> String? {
        try RunStore.wrap(path) { try queue.read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) } }
    }

    /// Stores the resolved training configuration (must be a JSON object; throws otherwise) under `meta.config`.
    public func setConfig(json: String) throws {
        let object = try? JSONSerialization.jsonObject(with: Data(json.utf8))
        guard object is [String: Any] else {
            throw RecordingError.io(path: path, message: "the config to store is not a JSON object")
        }
        try setMeta(MetaKey.config, json)
    }

    /// Sets `meta.status`.
    public func setStatus(_ status: RunStatus) throws {
        try setMeta(MetaKey.status, status.rawValue)
    }

    /// Records the bin specs of the streams in `meta.histogram_specs` (JSON: stream → {lower, upper, bins}).
    public func setHistogramSpecs(_ specs: [ScoreStream: HistogramSpec]) throws {
        let object = Dictionary(uniqueKeysWithValues: specs.map { ($0.key.rawValue, $0.value) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(object) else {
            throw RecordingError.io(path: path, message: "cannot encode histogram specs")
        }
        try setMeta(MetaKey.histogramSpecs, String(decoding: data, as: UTF8.self))
    }

    // MARK: Steps

    /// Records one training step, its histograms and its geometry samples in ONE transaction: either all of it
    /// is committed or none. Throws `stepAlreadyRecorded` if `step.step` is already there. When the step is the
    /// last of a histogram block (a multiple of `histogramBlockSteps`), the block's sums go in the same transaction.
    public func record(step: StepRecord, histograms: [(stream: ScoreStream, histogram: ScoreHistogram)] = [],
                       samples: [GeometrySample] = []) throws {
        let path = self.path
        try write { db in
                if try Int.fetchOne(db, sql: "SELECT 1 FROM steps WHERE step = ?", arguments: [step.step]) != nil {
                    throw RecordingError.stepAlreadyRecorded(path: path, step: step.step)
                }
                let s = step.scores
                try db.cachedStatement(sql: """
                    INSERT INTO steps(step, epoch, lr, momentum, loss, instance_acc, grad_norm, pos_mean, pos_var,
                      neg_mean, neg_var_query, neg_var_all, lambda_ex, lambda_in, ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                    step.step, step.epoch, step.learningRate, step.momentum, step.loss, step.instanceAccuracy,
                    step.gradientNorm, s.positiveMean, s.positiveVariance, s.negativeMean, s.negativeVarianceQuery,
                    s.negativeVarianceAll, step.lambdaExtrapolation, step.lambdaInterpolation, step.milliseconds,
                ])
                let insertHistogram = try db.cachedStatement(sql: """
                    INSERT INTO histograms(step, stream, lo, hi, bins, underflow, overflow, nan, count, sum, sum_sq,
                      min, max, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for (stream, h) in histograms {
                    try insertHistogram.execute(arguments: [
                        step.step, stream.rawValue, h.spec.lower, h.spec.upper, h.spec.bins, h.underflow, h.overflow,
                        h.nanCount, h.count, h.sum, h.sumOfSquares,
                        h.count > 0 ? h.minimum : nil, h.count > 0 ? h.maximum : nil, BlobCoding.encode(h.counts),
                    ])
                }
                if HistogramBlocks.isLastStepOfBlock(step.step) {
                    try HistogramBlocks.write(db, path: path, block: HistogramBlocks.block(of: step.step))
                }
                let insertSample = try db.cachedStatement(
                    sql: "INSERT INTO samples(step, kind, idx, vector) VALUES (?, ?, ?, ?)")
                for sample in samples {
                    try insertSample.execute(arguments: [step.step, sample.kind.rawValue, sample.index,
                                                         BlobCoding.encode(sample.vector)])
                }
        }
    }

    /// The largest recorded step, or nil for an empty store.
    public func lastRecordedStep() throws -> Int? {
        try RunStore.wrap(path) { try queue.read { try Int.fetchOne($0, sql: "SELECT max(step) FROM steps") } }
    }

    /// Deletes every step, histogram, histogram block, evaluation, event and sample with step > `step` (a block: its
    /// last step), in one transaction
    /// (for resuming from a checkpoint taken at `step`). Returns the number of `steps` rows removed.
    @discardableResult
    public func deleteSteps(after step: Int) throws -> Int {
        try write { db in
            var removed = 0
            for (table, column) in RunStoreSchema.steppedTables {
                try db.execute(sql: "DELETE FROM \(table) WHERE \(column) > ?", arguments: [step])
                if table == "steps" { removed = db.changesCount }
            }
            return removed
        }
    }

    // MARK: Events and evaluations

    /// Appends an event.
    public func addEvent(_ event: RunEvent) throws {
        try write { db in
            try db.execute(sql: "INSERT INTO events(step, kind, detail) VALUES (?, ?, ?)",
                           arguments: [event.step, event.kind.rawValue, event.detail])
        }
    }

    /// Appends an event (convenience).
    public func addEvent(step: Int, kind: EventKind, detail: String = "") throws {
        try addEvent(RunEvent(step: step, kind: kind, detail: detail))
    }

    /// Records an evaluation; one per (step, kind): a second one for the same pair replaces the first.
    public func addEval(_ eval: EvalRecord) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO evals(step, epoch, kind, top1, top5) VALUES (?, ?, ?, ?, ?)",
                           arguments: [eval.step, eval.epoch, eval.kind.rawValue, eval.top1, eval.top5])
        }
    }

    /// Sets the status and appends an event in one transaction (for `finished`, `diverged`, `interrupted`, …).
    public func setStatus(_ status: RunStatus, event: RunEvent) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                           arguments: [MetaKey.status, status.rawValue])
            try db.execute(sql: "INSERT INTO events(step, kind, detail) VALUES (?, ?, ?)",
                           arguments: [event.step, event.kind.rawValue, event.detail])
        }
    }

    // MARK: Internals

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        try RunStore.wrap(path) { try queue.write(body) }
    }

    /// Creates or migrates the schema up to the current version, in one transaction.
    private func migrate(scorescopeVersion: String?) throws {
        let path = self.path
        try write { db in
            let hasMeta = try db.tableExists("meta")
            var version = 0
            if hasMeta {
                guard let text = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?",
                                                     arguments: [MetaKey.schemaVersion]),
                    let found = Int(text)
                else { throw RecordingError.corruptStore(path: path, reason: "meta has no integer schema_version") }
                version = found
            } else if try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0 > 0 {
                throw RecordingError.corruptStore(path: path, reason: "it has tables but no meta table")
            }
            if version > RunStoreSchema.currentVersion {
                throw RecordingError.schemaTooNew(path: path, found: version, supported: RunStoreSchema.currentVersion)
            }
            if version < 0 { throw RecordingError.corruptStore(path: path, reason: "negative schema_version \(version)") }
            let created = version == 0
            while version < RunStoreSchema.currentVersion {
                for sql in RunStoreSchema.migrations[version] { try db.execute(sql: sql) }
                version += 1
                // Version 2's blocks are derived data: fill them from the histograms already stored.
                if version == 2 { try HistogramBlocks.writeAll(db, path: path) }
            }
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                           arguments: [MetaKey.schemaVersion, String(version)])
            try db.execute(sql: "PRAGMA user_version = \(version)")
            if created {
                let now = ISO8601DateFormatter().string(from: Date())
                try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [MetaKey.created, now])
                if let scorescopeVersion {
                    try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                   arguments: [MetaKey.scorescopeVersion, scorescopeVersion])
                }
            }
        }
    }

    /// Runs `body`, turning GRDB errors into `RecordingError.io` naming `path`; RecordingErrors pass through.
    static func wrap<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as RecordingError {
            throw error
        } catch let error as DatabaseError {
            throw RecordingError.io(path: path, message: error.message ?? "\(error)")
        } catch {
            throw RecordingError.io(path: path, message: "\(error)")
        }
    }
}
