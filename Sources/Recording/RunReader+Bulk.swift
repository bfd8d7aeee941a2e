// RunReader bulk reads: several `steps` columns in one pass, and the raw bin counts of many histograms (or of
// histogram blocks, their 16-step sums) without building a ScoreHistogram per row, for figures over 100k+ steps
// (heat maps sum counts per pixel column).
// These loops step a prepared SQLite statement directly (inside a GRDB read transaction, so they see one
// committed snapshot like every other read): GRDB's per-row decoding cost about as much as SQLite itself here.
// Every cell's storage class is checked: NULL or non-numeric cells read as NaN in series; a histogram row with a
// missing cell or a counts BLOB that does not hold `bins` counts is a `corruptStore` error naming the file.
// Deliberately not here: any aggregation policy (the caller sums, bins or skips).
import Foundation
import GRDB
import GRDBSQLite

/// One stored histogram row, or one histogram block (the sum of a stream's rows over `step…lastStep`), valid only
/// inside the `forEachHistogram` / `forEachHistogramBlock` callback that hands it over.
public struct HistogramRowView {
    /// The step the histogram belongs to (a block: its first step).
    public var step: Int
    /// The block's last step (a row: `step`).
    public var lastStep: Int
    /// Histogram rows summed (a row: 1).
    public var rows: Int
    /// Which scores it counts.
    public var stream: ScoreStream
    /// Lower and upper edge and bin count of the row's spec.
    public var lower: Double
    public var upper: Double
    public var bins: Int
    /// Values below `lower` and above `upper` (kept out of the bins; `upper` itself is in the last bin).
    public var underflow: Int
    public var overflow: Int
    /// Non-NaN values (bins + underflow + overflow).
    public var count: Int
    /// `bins` little-endian UInt32 counts; do not keep this buffer beyond the callback.
    public var counts: UnsafeRawBufferPointer

    /// The count of bin `index` (0-based, < `bins`).
    @inlinable public func count(ofBin index: Int) -> UInt32 {
        UInt32(littleEndian: counts.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
    }

    /// Adds the bin counts to `out[0..<bins]` (exact integer adds of zero-extended counts; vectorises).
    @inlinable public func addCounts(to out: UnsafeMutablePointer<UInt64>) {
        guard let source = counts.baseAddress else { return }
        addLittleEndianCounts(source, bins: bins, to: out)
    }
}

/// out[b] += the b-th little-endian UInt32 of `source`, for b < bins (exact; the histograms' and blocks' encoding).
@usableFromInline @inline(__always)
func addLittleEndianCounts(_ source: UnsafeRawPointer, bins: Int, to out: UnsafeMutablePointer<UInt64>) {
    for b in 0..<bins { out[b] &+= UInt64(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: b &* 4, as: UInt32.self))) }
}

/// The two tables of bin counts the bulk scans read: per-step histograms and 16-step blocks.
private enum CountTable {
    case histograms, blocks

    var name: String { self == .histograms ? "histograms" : "histogram_blocks" }
    /// The column ordering and ranging the rows: the step, or a block's first step.
    var stepColumn: String { self == .histograms ? "step" : "first_step" }
    /// The last step and the rows summed (a histogram row: its own step, 1).
    var extraColumns: String { self == .histograms ? "step, 1" : "last_step, rows" }
    var what: String { self == .histograms ? "histogram" : "histogram block" }
}

/// The bulk histogram scans of one read transaction (`RunReader.scan`); valid only inside its body.
public struct HistogramScanner {
    fileprivate let reader: RunReader
    fileprivate let db: Database

    /// `RunReader.forEachHistogram` in this snapshot.
    public func forEachHistogram(_ streams: Set<ScoreStream>, in range: ClosedRange<Int>? = nil,
                                 _ body: (HistogramRowView) throws -> Void) throws {
        try reader.forEachCountRow(db, .histograms, streams, in: range, body)
    }

    /// `RunReader.forEachHistogramBlock` in this snapshot (nothing on a version-1 store).
    public func forEachHistogramBlock(_ streams: Set<ScoreStream>, firstStepIn range: ClosedRange<Int>? = nil,
                                      _ body: (HistogramRowView) throws -> Void) throws {
        guard reader.hasHistogramBlocks else { return }
        try reader.forEachCountRow(db, .blocks, streams, in: range, body)
    }
}

extension RunReader {
    /// Several `steps` columns over `range` (all steps when nil) in one query: the steps ascending and one value
    /// array per requested column, in the order given; NULL (or non-numeric) cells read as NaN.
    public func columns(_ columns: [StepColumn], in range: ClosedRange<Int>? = nil) throws -> (steps: [Int], values: [[Double]]) {
        let names = (["step"] + columns.map(\.rawValue)).joined(separator: ", ")
        let sql = "SELECT \(names) FROM steps" + rangeSQL(range, prefix: " WHERE") + " ORDER BY step"
        return try read { db in
            var steps: [Int] = []
            var values = Array(repeating: [Double](), count: columns.count)
            try forEachRow(db, sql) { statement in
                guard sqlite3_column_type(statement, 0) == SQLITE_INTEGER else { throw corrupt("a steps row has no integer step") }
                steps.append(Int(sqlite3_column_int64(statement, 0)))
                for c in columns.indices { values[c].append(real(statement, Int32(c + 1)) ?? .nan) }
            }
            return (steps, values)
        }
    }

    /// Calls `body` for every histogram of `streams` with step in `range` (all when nil), ascending by step
    /// (streams of one step in stream-name order). The row's counts are read in place, not copied.
    public func forEachHistogram(_ streams: Set<ScoreStream>, in range: ClosedRange<Int>? = nil,
                                 _ body: (HistogramRowView) throws -> Void) throws {
        try scan { try $0.forEachHistogram(streams, in: range, body) }
    }

    /// Calls `body` for every histogram block (`histogram_blocks`, schema version 2: the exact sum of a stream's
    /// histograms over `RunStore.histogramBlockSteps` steps) of `streams` whose first step is in `range` (all when
    /// nil), ascending by first step. Nothing on a version-1 store (`hasHistogramBlocks` is false).
    public func forEachHistogramBlock(_ streams: Set<ScoreStream>, firstStepIn range: ClosedRange<Int>? = nil,
                                      _ body: (HistogramRowView) throws -> Void) throws {
        try scan { try $0.forEachHistogramBlock(streams, firstStepIn: range, body) }
    }

    /// Runs `body` inside one read transaction: every scan it makes through the scanner sees the same committed
    /// snapshot (a figure that reads blocks and then rows cannot mix two versions of a resumed run).
    public func scan<T>(_ body: (HistogramScanner) throws -> T) throws -> T {
        try read { db in try body(HistogramScanner(reader: self, db: db)) }
    }

    /// The shared scan of `histograms` and `histogram_blocks`: columns step, stream index, lo, hi, bins, underflow,
    /// overflow, count, counts, last step, rows. Block rows must cover exactly one block.
    fileprivate func forEachCountRow(_ db: Database, _ table: CountTable, _ streams: Set<ScoreStream>,
                                     in range: ClosedRange<Int>?, _ body: (HistogramRowView) throws -> Void) throws {
        let wanted = ScoreStream.allCases.filter(streams.contains)
        if wanted.isEmpty { return }
        let isBlock = table == .blocks, what = table.what, stepColumn = table.stepColumn
        let blockSteps = RunStore.histogramBlockSteps
        // Stream names are the enum's own constants, so they can be written into the SQL; the stream comes back
        // as its index in `wanted` to avoid a String per row.
        let names = wanted.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let index = "CASE stream " + wanted.enumerated().map { "WHEN '\($1.rawValue)' THEN \($0)" }.joined(separator: " ") + " END"
        let sql = "SELECT \(stepColumn), \(index), lo, hi, bins, underflow, overflow, count, counts, \(table.extraColumns) FROM \(table.name) "
            + "WHERE stream IN (\(names))" + rangeSQL(range, prefix: " AND", column: stepColumn) + " ORDER BY \(stepColumn), stream"
        // Integer cells: step, stream index, bins, underflow, overflow, count, last step, rows.
        let integerColumns: [Int32] = [0, 1, 4, 5, 6, 7, 9, 10]
        try forEachRow(db, sql) { statement in
            for column in integerColumns where sqlite3_column_type(statement, column) != SQLITE_INTEGER {
                throw corrupt("a \(what) row has a missing or mistyped cell \(column)")
            }
            let step = Int(sqlite3_column_int64(statement, 0))
            let stream = wanted[Int(sqlite3_column_int64(statement, 1))]
            let lastStep = Int(sqlite3_column_int64(statement, 9)), rows = Int(sqlite3_column_int64(statement, 10))
            if isBlock && (step < 1 || (step - 1) % blockSteps != 0 || lastStep != step + blockSteps - 1
                           || !(1...blockSteps).contains(rows)) {
                throw corrupt("the \(stream.rawValue) histogram block at step \(step) does not cover one block "
                    + "(last step \(lastStep), \(rows) rows)")
            }
            guard let lower = real(statement, 2), let upper = real(statement, 3), upper > lower else {
                throw corrupt("the \(stream.rawValue) \(what) at step \(step) has no valid edges")
            }
            let bins = Int(sqlite3_column_int64(statement, 4))
            let bytes = Int(sqlite3_column_bytes(statement, 8))
            guard bins > 0, sqlite3_column_type(statement, 8) == SQLITE_BLOB, bytes % 4 == 0, bytes / 4 == bins,
                  let blob = sqlite3_column_blob(statement, 8) else {
                throw corrupt("the \(stream.rawValue) \(what) at step \(step) has a counts BLOB that does not hold \(bins) bins")
            }
            try body(HistogramRowView(step: step, lastStep: lastStep, rows: rows, stream: stream,
                                      lower: lower, upper: upper, bins: bins,
                                      underflow: Int(sqlite3_column_int64(statement, 5)),
                                      overflow: Int(sqlite3_column_int64(statement, 6)),
                                      count: Int(sqlite3_column_int64(statement, 7)),
                                      counts: UnsafeRawBufferPointer(start: blob, count: bytes)))
        }
    }

    /// " WHERE step BETWEEN a AND b" (or with another prefix or column) for a range, "" for nil. Integers only.
    private func rangeSQL(_ range: ClosedRange<Int>?, prefix: String, column: String = "step") -> String {
        guard let range else { return "" }
        return "\(prefix) \(column) BETWEEN \(range.lowerBound) AND \(range.upperBound)"
    }

    /// Prepares `sql` on the read transaction's connection and calls `body` once per result row.
    private func forEachRow(_ db: Database, _ sql: String, _ body: (OpaquePointer) throws -> Void) throws {
        guard let connection = db.sqliteConnection else { throw corrupt("the database connection is closed") }
        var prepared: OpaquePointer?
        guard sqlite3_prepare_v2(connection, sql, -1, &prepared, nil) == SQLITE_OK, let statement = prepared else {
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_finalize(prepared)
            throw corrupt("cannot read it: \(message)")
        }
        defer { sqlite3_finalize(statement) }
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw corrupt("reading failed: \(String(cString: sqlite3_errmsg(connection)))") }
            try body(statement)
        }
    }
}

/// A REAL or INTEGER cell as a Double; nil for NULL, text or blobs.
private func real(_ statement: OpaquePointer, _ column: Int32) -> Double? {
    switch sqlite3_column_type(statement, column) {
    case SQLITE_FLOAT, SQLITE_INTEGER: return sqlite3_column_double(statement, column)
    default: return nil
    }
}
