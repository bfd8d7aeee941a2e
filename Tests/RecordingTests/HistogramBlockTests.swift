// Histogram blocks (schema version 2): written with a block's last step as the exact sums of its rows, deleted with
// the steps after a checkpoint and rewritten identically, filled when a version-1 store is migrated, absent when a
// stream's bin spec changes inside the block, and a version-1 store still readable (without blocks).
import Foundation
import GRDB
import Testing
@testable import Recording

/// Every block of a store as (first step, stream, last step, rows, underflow, overflow, nan, count, counts).
private func blocks(_ folder: String) throws -> [[String]] {
    let reader = try RunReader(directory: folder)
    var out: [[String]] = []
    try reader.forEachHistogramBlock(Set(ScoreStream.allCases)) { b in
        out.append([b.step, b.lastStep, b.rows, b.underflow, b.overflow, b.count].map(String.init)
                   + [b.stream.rawValue, (0..<b.bins).map { String(b.count(ofBin: $0)) }.joined(separator: ",")])
    }
    return out
}

/// The same sums computed from the histogram rows of the steps in each block (first step, last step).
private func expectedBlocks(_ folder: String, blocks: [ClosedRange<Int>]) throws -> [[String]] {
    let reader = try RunReader(directory: folder)
    var out: [[String]] = []
    for range in blocks {
        var perStream: [ScoreStream: (rows: Int, under: Int, over: Int, count: Int, counts: [UInt64])] = [:]
        try reader.forEachHistogram(Set(ScoreStream.allCases), in: range) { h in
            var s = perStream[h.stream] ?? (0, 0, 0, 0, Array(repeating: 0, count: h.bins))
            s.rows += 1; s.under += h.underflow; s.over += h.overflow; s.count += h.count
            for b in 0..<h.bins { s.counts[b] += UInt64(h.count(ofBin: b)) }
            perStream[h.stream] = s
        }
        for stream in ScoreStream.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let s = perStream[stream] else { continue }
            out.append([range.lowerBound, range.upperBound, s.rows, s.under, s.over, s.count].map(String.init)
                       + [stream.rawValue, s.counts.map(String.init).joined(separator: ",")])
        }
    }
    return out
}

@Test func aBlockIsWrittenWithItsLastStepAsTheExactSumOfItsRows() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder)
    #expect(RunStore.histogramBlockSteps == 16)
    for step in 1...15 { try store.record(step: sampleStep(step), histograms: try sampleHistograms(step)) }
    #expect(try blocks(folder).isEmpty)                     // block 1…16 is not complete yet
    for step in 16...40 { try store.record(step: sampleStep(step), histograms: try sampleHistograms(step)) }
    let written = try blocks(folder)
    #expect(written.count == 6)                             // blocks 1…16 and 17…32, three streams each
    #expect(written == (try expectedBlocks(folder, blocks: [1...16, 17...32])))
    #expect(written.allSatisfy { $0[2] == "16" })           // rows
    // A range asks for blocks by first step.
    let reader = try RunReader(directory: folder)
    var firsts: [Int] = []
    try reader.forEachHistogramBlock([.negative], firstStepIn: 2...40) { firsts.append($0.step) }
    #expect(firsts == [17])
}

@Test func resumingInsideABlockRewritesTheSameBlock() throws {
    let straight = temporaryRunFolder("straight"), resumed = temporaryRunFolder("resumed")
    defer { for f in [straight, resumed] { try? FileManager.default.removeItem(atPath: f) } }
    do {
        let store = try RunStore(directory: straight)
        for step in 1...40 { try store.record(step: sampleStep(step), histograms: try sampleHistograms(step)) }
    }
    let store = try RunStore(directory: resumed)
    for step in 1...35 { try store.record(step: sampleStep(step), histograms: try sampleHistograms(step)) }
    try store.deleteSteps(after: 20)                        // block 17…32 goes, block 1…16 stays
    #expect(try blocks(resumed).map { $0[0] } == ["1", "1", "1"])
    for step in 21...40 { try store.record(step: sampleStep(step), histograms: try sampleHistograms(step)) }
    #expect(try blocks(resumed) == (try blocks(straight)))
    #expect(try blocks(resumed).count == 6)
}

@Test func aBlockWhoseBinSpecChangesIsNotWritten() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder)
    for step in 1...32 {
        var histograms = try sampleHistograms(step)
        if step == 20 {
            var other = ScoreHistogram(spec: try HistogramSpec(lower: -1, upper: 1, bins: 50))
            other.fill([0.5, 0.25], threads: 1)
            histograms[0] = (.positive, other)
        }
        try store.record(step: sampleStep(step), histograms: histograms)
    }
    // Block 17…32 is left to the rows (whose reader reports the change); block 1…16 is there.
    #expect(Set(try blocks(folder).map { $0[0] }) == ["1"])
}

@Test func aVersion1StoreIsReadWithoutBlocksAndMigratedWithThem() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    do {
        let store = try RunStore(directory: folder)
        for step in 1...50 { try store.record(step: sampleStep(step), histograms: try sampleHistograms(step)) }
    }
    let live = try blocks(folder)
    #expect(live.count == 9)                                // three complete blocks, three streams
    // Turn it into a version-1 store, as an older scorescope wrote it.
    do {
        let queue = try DatabaseQueue(path: folder + "/run.sqlite")
        try queue.write { db in
            try db.execute(sql: "DROP TABLE histogram_blocks")
            try db.execute(sql: "UPDATE meta SET value = '1' WHERE key = 'schema_version'")
            try db.execute(sql: "PRAGMA user_version = 1")
        }
    }
    let old = try RunReader(directory: folder)
    #expect(old.schemaVersion == 1 && !old.hasHistogramBlocks)
    #expect(try blocks(folder).isEmpty)
    #expect(try old.histograms(.negative).count == 50)
    // A writer migrates it: version 2, and the blocks equal those written step by step.
    _ = try RunStore(directory: folder)
    let migrated = try RunReader(directory: folder)
    #expect(migrated.schemaVersion == RunStore.schemaVersion && migrated.hasHistogramBlocks)
    #expect(try blocks(folder) == live)
}

@Test func aBlockIsWrittenWithItsLastStepEvenWhenThatStepHasNoHistograms() throws {
    let folder = temporaryRunFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    do {
        let store = try RunStore(directory: folder)
        for step in 1...16 { try store.record(step: sampleStep(step), histograms: step == 16 ? [] : try sampleHistograms(step)) }
    }
    let live = try blocks(folder)
    #expect(Set(live.map { $0[0] }) == ["1"] && live.allSatisfy { $0[2] == "15" })   // 15 rows
    // Migration writes the same blocks (complete = up to the last recorded step, histograms or not).
    let queue = try DatabaseQueue(path: folder + "/run.sqlite")
    try queue.write { db in
        try db.execute(sql: "DROP TABLE histogram_blocks")
        try db.execute(sql: "UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    }
    _ = try RunStore(directory: folder)
    #expect(try blocks(folder) == live)
}

@Test func damagedBlocksAndHistogramsGiveErrorsOrNoBlockNeverATrap() throws {
    func store32() throws -> String {
        let folder = temporaryRunFolder("damaged")
        let store = try RunStore(directory: folder)
        for step in 1...32 { try store.record(step: sampleStep(step), histograms: try sampleHistograms(step)) }
        return folder
    }
    // A block row that does not cover one block (last step before its first step, too many rows, off the grid) or
    // whose counts do not match its bins.
    for damage in ["last_step = first_step - 1", "rows = 99", "first_step = 20, last_step = 35", "counts = x'00'"] {
        let folder = try store32()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try DatabaseQueue(path: folder + "/run.sqlite").write { db in
            try db.execute(sql: "UPDATE histogram_blocks SET \(damage) WHERE first_step = 17 AND stream = 'neg'")
        }
        #expect(throws: RecordingError.self, "\(damage)") { _ = try blocks(folder) }
    }
    // Counts near Int64.max in the rows: the block that would overflow is not written (no trap), and the reader
    // names the damaged row.
    let folder = try store32()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let queue = try DatabaseQueue(path: folder + "/run.sqlite")
    let store = try RunStore(directory: folder)
    for step in 33...48 {
        try store.record(step: sampleStep(step), histograms: try sampleHistograms(step))
        if step == 34 {
            try queue.write { db in try db.execute(sql: "UPDATE histograms SET underflow = 9223372036854775000 WHERE step IN (33, 34)") }
        }
    }
    #expect(Set(try blocks(folder).map { $0[0] }) == ["1", "17"])
    #expect(throws: RecordingError.self) { _ = try RunReader(directory: folder).histograms(.negative) }
}
