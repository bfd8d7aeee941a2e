// HistogramBlocks: the derived `histogram_blocks` table (schema version 2). Block b of a stream is the exact sum
// of that stream's histograms over steps 16b+1 … 16b+16: bin counts (little-endian UInt32 like the histograms',
// so a row of 200 bins fits in its B-tree page with no overflow page), under- and overflow, NaN and value counts,
// and how many histogram rows went in. A figure over a long run (a heat map of 100k steps) then reads one row per
// 16 steps instead of one per step, and gets the same integers.
// Written by the writer in the transaction that records a block's last step (summed from the rows already in
// the store, so a resumed run, whose block is half old rows and half recomputed ones, writes the same block as an
// uninterrupted one), deleted with the steps after a checkpoint (by last step), and filled for every complete
// block when a version-1 store is migrated. A block whose rows of one stream disagree on the bin spec, or with a
// bin whose sum does not fit a UInt32 (more than 268M scores per step), is not written at all: readers then fall
// back to the rows (and report a disagreement themselves).
// Deliberately not here: reading the blocks (RunReader+Bulk.swift), moments (sum, sum_sq, min, max stay per step).
import Foundation
import GRDB

enum HistogramBlocks {
    /// Steps per block.
    static let steps = 16

    /// The block holding `step` (steps start at 1; steps below 1 have no block).
    static func block(of step: Int) -> Int { step >= 1 ? (step - 1) / steps : -1 }
    /// First and last step of block `block`.
    static func firstStep(of block: Int) -> Int { block * steps + 1 }
    static func lastStep(of block: Int) -> Int { (block + 1) * steps }
    static func isLastStepOfBlock(_ step: Int) -> Bool { step >= 1 && step % steps == 0 }

    /// One stream's running sum within a block.
    private struct Sum {
        var lower: Double, upper: Double, bins: Int
        var rows = 0, underflow = 0, overflow = 0, nan = 0, count = 0
        var counts: [UInt64]
        var consistent = true
    }

    /// (Re)writes block `block` from the `histograms` table: the writer calls it in the transaction that records
    /// the block's last step.
    static func write(_ db: Database, path: String, block: Int) throws {
        if block >= 0 { try write(db, path: path, first: block, last: block) }
    }

    /// Writes every complete block (last step ≤ the largest recorded step) from the `histograms` table: migration.
    static func writeAll(_ db: Database, path: String) throws {
        let lastSteps = try Int.fetchOne(db, sql: "SELECT max(step) FROM steps")
        let lastHistograms = try Int.fetchOne(db, sql: "SELECT max(step) FROM histograms")
        guard let lastRecorded = [lastSteps, lastHistograms].compactMap({ $0 }).max() else { return }
        try write(db, path: path, first: 0, last: block(of: lastRecorded + 1) - 1)
    }

    private static func write(_ db: Database, path: String, first: Int, last: Int) throws {
        if first > last { return }
        try db.execute(sql: "DELETE FROM histogram_blocks WHERE first_step BETWEEN ? AND ?",
                       arguments: [firstStep(of: first), firstStep(of: last)])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO histogram_blocks(first_step, stream, last_step, rows, lo, hi, bins, underflow, overflow, nan,
              count, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var current = -1
        var sums: [String: Sum] = [:]
        func flush() throws {
            defer { sums = [:] }
            // One stream with mixed bin specs, a bin over UInt32 or a count over Int64: no row for this block at all
            // (readers read its steps row by row).
            guard current >= 0, !sums.isEmpty,
                  sums.values.allSatisfy({ $0.consistent && $0.counts.allSatisfy { $0 <= UInt64(UInt32.max) } }) else { return }
            for (stream, s) in sums.sorted(by: { $0.key < $1.key }) {
                try insert.execute(arguments: [firstStep(of: current), stream, lastStep(of: current), s.rows, s.lower,
                                               s.upper, s.bins, s.underflow, s.overflow, s.nan, s.count,
                                               BlobCoding.encode(s.counts.map { UInt32($0) })])
            }
        }
        let rows = try Row.fetchCursor(db, sql: """
            SELECT step, stream, lo, hi, bins, underflow, overflow, nan, count, counts FROM histograms
            WHERE step BETWEEN ? AND ? ORDER BY step, stream
            """, arguments: [firstStep(of: first), lastStep(of: last)])
        while let row = try rows.next() {
            // Storage classes checked cell by cell (GRDB's conversions would trap on a mistyped cell); integers must
            // be stored as integers, as the bulk reader requires.
            guard let step = exactInteger(row, 0), let stream = text(row, 1), let lower = real(row, 2),
                  let upper = real(row, 3), let bins = exactInteger(row, 4), bins > 0,
                  let underflow = exactInteger(row, 5), let overflow = exactInteger(row, 6),
                  let nan = exactInteger(row, 7), let count = exactInteger(row, 8),
                  let data = blob(row, 9), data.count % 4 == 0, data.count / 4 == bins
            else { throw RecordingError.corruptStore(path: path, reason: "a histogram row has a missing or mistyped cell") }
            let b = block(of: step)
            if b != current { try flush(); current = b }
            var s = sums[stream] ?? Sum(lower: lower, upper: upper, bins: bins, counts: Array(repeating: 0, count: bins))
            if s.lower != lower || s.upper != upper || s.bins != bins {
                s.consistent = false
            } else {
                // Overflow-checked sums (a damaged cell near Int64.max must not trap): an overflow drops the block.
                func add(_ total: inout Int, _ value: Int) -> Bool {
                    let (sum, overflow) = total.addingReportingOverflow(value)
                    total = sum
                    return !overflow
                }
                s.rows += 1
                let fits = add(&s.underflow, underflow) && add(&s.overflow, overflow) && add(&s.nan, nan) && add(&s.count, count)
                if !fits { s.consistent = false }
                data.withUnsafeBytes { raw in
                    s.counts.withUnsafeMutableBufferPointer { out in
                        if let source = raw.baseAddress, let target = out.baseAddress {
                            addLittleEndianCounts(source, bins: bins, to: target)
                        }
                    }
                }
            }
            sums[stream] = s
        }
        try flush()
    }
}
