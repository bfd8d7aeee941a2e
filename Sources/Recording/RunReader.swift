// RunReader: read-only access to a run store, safe while a writer is training (WAL: each call reads one
// consistent committed snapshot). Used by `inspect`, Analysis, Reports and tests. Also RunOverview, the
// summary `inspect` and sweep status print.
// Every cell is decoded defensively: a NULL or a value of the wrong type becomes NaN/nil or a
// `RecordingError.corruptStore` naming the file, never a trap.
// Deliberately not here: writing, caching across calls, or interpreting the config JSON (Analysis does that).
import Foundation
import GRDB

/// A read-only handle on a run store.
public final class RunReader: Sendable {
    /// The run folder.
    public let directory: String
    /// Path of `run.sqlite`.
    public let path: String
    private let queue: DatabaseQueue

    /// Opens the store of run folder `directory` read-only. Throws `storeNotFound` when there is no store,
    /// `schemaTooNew` when its schema version is newer than `RunStore.schemaVersion` (`schemaTooOld` below 1),
    /// `corruptStore` when it is not a run store. A version-1 store is read as it is (it has no histogram blocks).
    public init(directory: String) throws {
        self.directory = directory
        let path = (directory as NSString).appendingPathComponent(RunStore.fileName)
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw RecordingError.storeNotFound(path: directory) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        configuration.label = "scorescope.run-reader"
        // Memory-mapped reads: bulk scans (heat maps read 100k+ histogram BLOBs) then copy pages straight from the
        // page cache instead of one pread per page; a read-only connection never writes through the mapping.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = 1073741824") }
        let queue = try RunStore.wrap(path) { try DatabaseQueue(path: path, configuration: configuration) }
        self.queue = queue
        let version: Int? = try RunStore.wrap(path) {
            try queue.read { db in
                guard try db.tableExists("meta") else { return nil }
                return try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?",
                                           arguments: [MetaKey.schemaVersion]).flatMap { Int($0) }
            }
        }
        guard let version else { throw RecordingError.corruptStore(path: path, reason: "no schema_version in meta") }
        if version > RunStoreSchema.currentVersion {
            throw RecordingError.schemaTooNew(path: path, found: version, supported: RunStoreSchema.currentVersion)
        }
        if version < RunStoreSchema.oldestReadableVersion {
            throw RecordingError.schemaTooOld(path: path, found: version, supported: RunStoreSchema.currentVersion)
        }
        schemaVersion = version
    }

    /// The store's schema version (1 … `RunStore.schemaVersion`).
    public let schemaVersion: Int

    /// True when the store has the histogram blocks (schema version 2 and later).
    public var hasHistogramBlocks: Bool { schemaVersion >= 2 }

    /// True when `directory` contains a run store file.
    public static func isRunDirectory(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(RunStore.fileName))
    }

    /// Run folders at or below `directory` (itself if it is one), at most `maxDepth` levels down (default 3),
    /// sorted by path. Does not descend into run folders.
    public static func findRuns(under directory: String, maxDepth: Int = 3) -> [String] {
        if isRunDirectory(directory) { return [directory] }
        guard maxDepth > 0,
              let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var runs: [String] = []
        for entry in entries.sorted() where !entry.hasPrefix(".") {
            let child = (directory as NSString).appendingPathComponent(entry)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory), isDirectory.boolValue {
                runs += findRuns(under: child, maxDepth: maxDepth - 1)
            }
        }
        return runs
    }

    // MARK: Meta

    /// All `meta` key/value pairs.
    public func meta() throws -> [String: String] {
        try read { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta") {
                if let key = text(row, 0), let value = text(row, 1) { result[key] = value }
            }
            return result
        }
    }

    /// The `meta` value of `key`, or nil.
    public func meta(_ key: String) throws -> String? {
        try read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    /// The run status; nil when unset or not a known status.
    public func status() throws -> RunStatus? {
        try meta(MetaKey.status).flatMap(RunStatus.init(rawValue:))
    }

    /// The resolved training configuration JSON, or nil.
    public func configJSON() throws -> String? { try meta(MetaKey.config) }

    /// The histogram specs recorded in meta (empty when none were recorded).
    public func histogramSpecs() throws -> [ScoreStream: HistogramSpec] {
        guard let json = try meta(MetaKey.histogramSpecs) else { return [:] }
        guard let raw = try? JSONDecoder().decode([String: HistogramSpec].self, from: Data(json.utf8)) else {
            throw RecordingError.corruptStore(path: path, reason: "meta.histogram_specs is not valid JSON specs")
        }
        var result: [ScoreStream: HistogramSpec] = [:]
        for (key, spec) in raw { if let stream = ScoreStream(rawValue: key) { result[stream] = spec } }
        return result
    }

    // MARK: Steps

    /// Number of recorded steps.
    public func stepCount() throws -> Int {
        try read { try Int.fetchOne($0, sql: "SELECT count(*) FROM steps") ?? 0 }
    }

    /// First and last recorded step, or nil for an empty store.
    public func stepRange() throws -> ClosedRange<Int>? {
        try read { db in
            // Two queries: SQLite answers a lone min() or max() from the primary key in O(log n), but scans the
            // whole table for both in one SELECT.
            let low = try Row.fetchOne(db, sql: "SELECT min(step) FROM steps")
            let high = try Row.fetchOne(db, sql: "SELECT max(step) FROM steps")
            guard let low, let high, let first = integer(low, 0), let last = integer(high, 0), first <= last else { return nil }
            return first...last
        }
    }

    /// The `steps` rows with step in `range` (all when nil), ascending.
    public func steps(in range: ClosedRange<Int>? = nil) throws -> [StepRecord] {
        let (clause, arguments) = rangeClause(range)
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT \(stepColumns) FROM steps\(clause) ORDER BY step", arguments: arguments)
                .map(decodeStep)
        }
    }

    /// The last `count` `steps` rows, ascending.
    public func lastSteps(_ count: Int) throws -> [StepRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT \(stepColumns) FROM steps ORDER BY step DESC LIMIT ?",
                             arguments: [max(0, count)]).map(decodeStep).reversed()
        }
    }

    /// One `steps` column as a series over `range` (all steps when nil); NULL cells read as NaN.
    public func series(_ column: StepColumn, in range: ClosedRange<Int>? = nil) throws -> StepSeries {
        let (clause, arguments) = rangeClause(range)
        return try read { db in
            var steps: [Int] = [], values: [Double] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT step, \(column.rawValue) FROM steps\(clause) ORDER BY step",
                                           arguments: arguments)
            while let row = try rows.next() {
                guard let step = integer(row, 0) else { throw corrupt("a steps row has no integer step") }
                steps.append(step)
                values.append(real(row, 1) ?? .nan)
            }
            return StepSeries(column: column, steps: steps, values: values)
        }
    }

    // MARK: Histograms

    /// The streams that have at least one histogram, in `ScoreStream.allCases` order.
    public func streams() throws -> [ScoreStream] {
        let names = try read { try String.fetchAll($0, sql: "SELECT DISTINCT stream FROM histograms") }
        return ScoreStream.allCases.filter { names.contains($0.rawValue) }
    }

    /// The histograms of `stream` with step in `range` (all when nil), ascending by step.
    public func histograms(_ stream: ScoreStream, in range: ClosedRange<Int>? = nil) throws -> [StepHistogram] {
        var (clause, arguments) = rangeClause(range)
        clause = clause.isEmpty ? " WHERE stream = ?" : clause + " AND stream = ?"
        arguments += [stream.rawValue]
        return try read { db in
            var result: [StepHistogram] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT step, lo, hi, bins, underflow, overflow, nan, count, sum, sum_sq, min, max, counts
                FROM histograms\(clause) ORDER BY step
                """, arguments: arguments)
            while let row = try rows.next() { result.append(try decodeHistogram(row, stream: stream)) }
            return result
        }
    }

    /// The histogram of `stream` at `step`, or nil.
    public func histogram(_ stream: ScoreStream, step: Int) throws -> ScoreHistogram? {
        try histograms(stream, in: step...step).first?.histogram
    }

    // MARK: Evaluations, events, samples

    /// Evaluations (of `kind`, or all), ascending by step then kind.
    public func evals(kind: EvalKind? = nil) throws -> [EvalRecord] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT step, epoch, kind, top1, top5 FROM evals"
                + (kind == nil ? "" : " WHERE kind = ?") + " ORDER BY step, kind",
                arguments: kind.map { [$0.rawValue] } ?? [])
            return try rows.map { row in
                guard let step = integer(row, 0), let epoch = integer(row, 1), let kind = text(row, 2) else {
                    throw corrupt("an evals row lacks step, epoch or kind")
                }
                return EvalRecord(step: step, epoch: epoch, kind: EvalKind(rawValue: kind), top1: real(row, 3) ?? .nan,
                                  top5: real(row, 4))
            }
        }
    }

    /// Events (of `kind`, or all), in the order they were added.
    public func events(kind: EventKind? = nil) throws -> [RunEvent] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT step, kind, detail FROM events"
                + (kind == nil ? "" : " WHERE kind = ?") + " ORDER BY id",
                arguments: kind.map { [$0.rawValue] } ?? [])
            return try rows.map { row in
                guard let step = integer(row, 0), let kind = text(row, 1) else {
                    throw corrupt("an events row lacks step or kind")
                }
                return RunEvent(step: step, kind: EventKind(rawValue: kind), detail: text(row, 2) ?? "")
            }
        }
    }

    /// Steps that have geometry samples, ascending.
    public func sampleSteps() throws -> [Int] {
        try read { try Int.fetchAll($0, sql: "SELECT DISTINCT step FROM samples ORDER BY step") }
    }

    /// The geometry samples of `step`, ordered by kind then index. Unknown kinds are skipped.
    public func samples(step: Int) throws -> [GeometrySample] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT kind, idx, vector FROM samples WHERE step = ? ORDER BY kind, idx",
                                        arguments: [step])
            return try rows.compactMap { row in
                guard let kind = text(row, 0).flatMap(SampleKind.init(rawValue:)) else { return nil }
                guard let index = integer(row, 1), let data = blob(row, 2), let vector = BlobCoding.decodeVector(data) else {
                    throw corrupt("a samples row at step \(step) has a bad index or vector")
                }
                return GeometrySample(kind: kind, index: index, vector: vector)
            }
        }
    }

    // MARK: Decoding

    private let stepColumns = """
        step, epoch, lr, momentum, loss, instance_acc, grad_norm, pos_mean, pos_var, neg_mean, neg_var_query,
        neg_var_all, lambda_ex, lambda_in, ms
        """

    private func decodeStep(_ row: Row) throws -> StepRecord {
        guard let step = integer(row, 0), let epoch = integer(row, 1) else {
            throw corrupt("a steps row lacks an integer step or epoch")
        }
        let r = { (i: Int) in real(row, i) ?? .nan }
        return StepRecord(
            step: step, epoch: epoch, learningRate: r(2), momentum: r(3), loss: r(4), instanceAccuracy: r(5),
            gradientNorm: r(6),
            scores: ScoreStatistics(positiveMean: r(7), positiveVariance: r(8), negativeMean: r(9),
                                    negativeVarianceQuery: r(10), negativeVarianceAll: r(11)),
            lambdaExtrapolation: real(row, 12), lambdaInterpolation: real(row, 13), milliseconds: r(14))
    }

    private func decodeHistogram(_ row: Row, stream: ScoreStream) throws -> StepHistogram {
        guard let step = integer(row, 0), let lower = real(row, 1), let upper = real(row, 2), let bins = integer(row, 3),
              let under = integer(row, 4), let over = integer(row, 5), let nan = integer(row, 6),
              let count = integer(row, 7), let data = blob(row, 12), let counts = BlobCoding.decodeCounts(data)
        else { throw corrupt("a \(stream.rawValue) histogram row has missing or mistyped cells") }
        do {
            let spec = try HistogramSpec(lower: lower, upper: upper, bins: bins)
            let histogram = try ScoreHistogram(
                spec: spec, counts: counts, underflow: under, overflow: over, nanCount: nan, count: count,
                sum: real(row, 8) ?? .nan, sumOfSquares: real(row, 9) ?? .nan,
                minimum: real(row, 10) ?? .infinity, maximum: real(row, 11) ?? -.infinity)
            return StepHistogram(step: step, stream: stream, histogram: histogram)
        } catch let error as RecordingError {
            throw corrupt("\(stream.rawValue) histogram at step \(step): \(error.description)")
        }
    }

    func corrupt(_ reason: String) -> RecordingError { .corruptStore(path: path, reason: reason) }

    private func rangeClause(_ range: ClosedRange<Int>?) -> (String, StatementArguments) {
        guard let range else { return ("", []) }
        return (" WHERE step BETWEEN ? AND ?", [range.lowerBound, range.upperBound])
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try RunStore.wrap(path) { try queue.read(body) }
    }
}

// Cell decoders (also used by HistogramBlocks): exact storage class checks, no GRDB conversions that could trap on
// a mistyped cell.
func integer(_ row: Row, _ index: Int) -> Int? {
    switch (row[index] as DatabaseValue).storage {
    case .int64(let v): return Int(v)
    case .double(let v) where v.rounded() == v && abs(v) < 9e15: return Int(v)
    default: return nil
    }
}

/// An INTEGER cell only (no whole-number REAL), for cells the bulk scans also read as integers.
func exactInteger(_ row: Row, _ index: Int) -> Int? {
    if case .int64(let v) = (row[index] as DatabaseValue).storage { return Int(v) }
    return nil
}

func real(_ row: Row, _ index: Int) -> Double? {
    switch (row[index] as DatabaseValue).storage {
    case .double(let v): return v
    case .int64(let v): return Double(v)
    default: return nil
    }
}

func text(_ row: Row, _ index: Int) -> String? {
    if case .string(let v) = (row[index] as DatabaseValue).storage { return v }
    return nil
}

func blob(_ row: Row, _ index: Int) -> Data? {
    if case .blob(let v) = (row[index] as DatabaseValue).storage { return v }
    return nil
}

/// A summary of a run store for `inspect` and sweep status: what state it is in, how far it got, the latest
/// scores and evaluations. Codable (non-finite numbers need a non-conforming-float strategy to encode).
public struct RunOverview: Codable, Sendable {
    public var directory: String
    /// Raw `meta.status` (nil when unset).
    public var status: String?
    public var schemaVersion: Int?
    public var scorescopeVersion: String?
    public var created: String?
    public var stepCount: Int
    public var firstStep: Int?
    public var lastStep: Int?
    /// The last few `steps` rows, ascending.
    public var recentSteps: [StepRecord]
    /// Streams with histograms, as stored names.
    public var streams: [String]
    /// The latest evaluation of each kind, ordered by kind.
    public var latestEvals: [EvalRecord]
    public var evalCount: Int
    /// The last few events, in insertion order.
    public var recentEvents: [RunEvent]
    public var eventCount: Int
}

extension RunReader {
    /// The overview of this store with the last `recentSteps` steps (default 3) and `recentEvents` events
    /// (default 10).
    public func overview(recentSteps: Int = 3, recentEvents: Int = 10) throws -> RunOverview {
        let meta = try meta()
        let range = try stepRange()
        let evals = try evals()
        var latest: [String: EvalRecord] = [:]
        for eval in evals { latest[eval.kind.rawValue] = eval }  // ascending by step: the last one wins
        let events = try events()
        return RunOverview(
            directory: directory, status: meta[MetaKey.status], schemaVersion: meta[MetaKey.schemaVersion].flatMap { Int($0) },
            scorescopeVersion: meta[MetaKey.scorescopeVersion], created: meta[MetaKey.created],
            stepCount: try stepCount(), firstStep: range?.lowerBound, lastStep: range?.upperBound,
            recentSteps: try lastSteps(recentSteps), streams: try streams().map(\.rawValue),
            latestEvals: latest.keys.sorted().compactMap { latest[$0] }, evalCount: evals.count,
            recentEvents: Array(events.suffix(max(0, recentEvents))), eventCount: events.count)
    }
}
