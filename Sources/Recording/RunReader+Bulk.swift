// RunReader bulk reads: several `steps` columns in one pass, and the raw bin counts of many histograms without
// building a ScoreHistogram per row, for figures over 100k+ steps (heat maps sum counts per pixel column).
// Cells are decoded through GRDB's direct column access (no DatabaseValue per cell); NULLs read as NaN and a
// histogram row whose counts BLOB does not match its `bins` is a `corruptStore` error naming the file.
// Deliberately not here: any aggregation policy (the caller sums, bins or skips).
import Foundation
import GRDB

/// One stored histogram row, valid only inside the `forEachHistogram` callback that hands it over.
public struct HistogramRowView {
    public var step: Int
    public var stream: ScoreStream
    /// Lower and upper edge and bin count of the row's spec.
    public var lower: Double
    public var upper: Double
    public var bins: Int
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
}

extension RunReader {
    /// Several `steps` columns over `range` (all steps when nil) in one query: the steps ascending and one value
    /// array per requested column, in the order given; NULL cells read as NaN.
    public func columns(_ columns: [StepColumn], in range: ClosedRange<Int>? = nil) throws -> (steps: [Int], values: [[Double]]) {
        let clause = range == nil ? "" : " WHERE step BETWEEN ? AND ?"
        let arguments: StatementArguments = range.map { [$0.lowerBound, $0.upperBound] } ?? []
        let names = (["step"] + columns.map(\.rawValue)).joined(separator: ", ")
        return try read { db in
            var steps: [Int] = []
            var values = Array(repeating: [Double](), count: columns.count)
            let cursor = try Row.fetchCursor(db, sql: "SELECT \(names) FROM steps\(clause) ORDER BY step", arguments: arguments)
            while let row = try cursor.next() {
                guard let step = try row.decode(Int?.self, atIndex: 0) else { throw corrupt("a steps row has no integer step") }
                steps.append(step)
                for c in columns.indices { values[c].append(try row.decode(Double?.self, atIndex: c + 1) ?? .nan) }
            }
            return (steps, values)
        }
    }

    /// Calls `body` for every histogram of `streams` with step in `range` (all when nil), ascending by step
    /// (streams of one step in stream-name order). The row's counts are read in place, not copied.
    public func forEachHistogram(_ streams: Set<ScoreStream>, in range: ClosedRange<Int>? = nil,
                                 _ body: (HistogramRowView) throws -> Void) throws {
        let names = ScoreStream.allCases.filter(streams.contains).map(\.rawValue)
        if names.isEmpty { return }
        var clause = " WHERE stream IN (" + names.map { _ in "?" }.joined(separator: ", ") + ")"
        var arguments = StatementArguments(names)
        if let range {
            clause += " AND step BETWEEN ? AND ?"
            arguments += [range.lowerBound, range.upperBound]
        }
        try read { db in
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT step, stream, lo, hi, bins, underflow, overflow, count, counts FROM histograms\(clause)
                ORDER BY step, stream
                """, arguments: arguments)
            while let row = try cursor.next() {
                guard let name = try row.decode(String?.self, atIndex: 1), let stream = ScoreStream(rawValue: name),
                      streams.contains(stream) else { continue }
                guard let step = try row.decode(Int?.self, atIndex: 0), let lower = try row.decode(Double?.self, atIndex: 2),
                      let upper = try row.decode(Double?.self, atIndex: 3), let bins = try row.decode(Int?.self, atIndex: 4),
                      let underflow = try row.decode(Int?.self, atIndex: 5), let overflow = try row.decode(Int?.self, atIndex: 6),
                      let count = try row.decode(Int?.self, atIndex: 7), bins > 0, upper > lower
                else { throw corrupt("a \(name) histogram row has missing or mistyped cells") }
                try row.withUnsafeData(atIndex: 8) { data in
                    guard let data, data.count == bins * 4 else {
                        throw corrupt("the \(name) histogram at step \(step) has a counts BLOB that does not hold \(bins) bins")
                    }
                    try data.withUnsafeBytes { raw in
                        try body(HistogramRowView(step: step, stream: stream, lower: lower, upper: upper, bins: bins,
                                                  underflow: underflow, overflow: overflow, count: count, counts: raw))
                    }
                }
            }
        }
    }
}
