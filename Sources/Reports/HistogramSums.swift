// HistogramSums: stored histograms summed over step ranges, as densities: per pixel column of a heat map (a
// long run's 100k histograms become a few hundred columns; every step counts, none is skipped) or per epoch
// (ridgelines). Reads the stores' histogram blocks (16-step sums) where a block lies inside a range and the
// histogram rows elsewhere, both through RunReader's bulk scans (counts in place, no per-row objects); heat-map
// columns span whole blocks when they are that wide. Several runs are read on all cores, each into its own
// result, so the output does not depend on the thread count.
// Deliberately not here: drawing, and any smoothing or interpolation of the counts.
import Dispatch
import Foundation
import Recording

/// Summed bin counts of one stream over a set of step ranges ("slots": heat-map columns or epochs).
struct StreamSums: Sendable {
    var stream: ScoreStream
    var lower: Double
    var upper: Double
    var bins: Int
    /// `counts[slot * bins + bin]` (exact integer sums).
    var counts: [UInt64]
    /// Values per slot including under/overflow (the density's denominator).
    var totals: [Double]
    /// Histogram rows summed per slot.
    var rows: [Int]

    var binWidth: Double { (upper - lower) / Double(bins) }
    var edges: [Double] { (0...bins).map { lower + Double($0) * binWidth } }
    var slots: Int { totals.count }

    /// Density per bin (counts / (total × bin width)) of `slot`; NaN everywhere for an empty slot.
    func density(_ slot: Int) -> [Double] {
        let total = totals[slot]
        guard total > 0 else { return Array(repeating: .nan, count: bins) }
        let scale = 1 / (total * binWidth)
        return (0..<bins).map { Double(counts[slot * bins + $0]) * scale }
    }
}

enum HistogramSums {
    /// Sums `streams` of `run` over the step ranges `slots` (ascending, disjoint): one slot each.
    static func sum(_ run: RunSource, streams: [ScoreStream], slots: [ClosedRange<Int>]) throws(ReportError) -> [ScoreStream: StreamSums] {
        try sum(run.reader, streams: streams, slots: slots, active: slots.indices)
    }

    /// Sums `streams` over the slots `active` of `slots` (ascending, disjoint step ranges); the result has all
    /// `slots.count` slots, the others zero (so two halves read on two connections add up). Histogram blocks lying
    /// wholly inside a slot are read instead of their steps' rows; every other step is read row by row (a
    /// version-1 store, a block that is missing, or one cut by a slot boundary). Integer sums: the result is the
    /// same either way. Streams with no histogram in any slot are absent from the result. Throws `.store` when a
    /// stream's bin spec changes between rows.
    static func sum(_ reader: RunReader, streams: [ScoreStream], slots: [ClosedRange<Int>],
                    active: Range<Int>) throws(ReportError) -> [ScoreStream: StreamSums] {
        if active.isEmpty { return [:] }
        guard active.lowerBound >= 0, active.upperBound <= slots.count,
              zip(slots, slots.dropFirst()).allSatisfy({ $0.upperBound < $1.lowerBound }) else {
            throw .badOption("histogram sums need ascending, disjoint step ranges, got \(slots.prefix(8))")
        }
        // Accumulators per stream position, in separate arrays mutated in place (no struct copies, no reference-count
        // traffic per row); stream → position without hashing per row.
        let all = ScoreStream.allCases, slotCount = slots.count
        var specs: [(lower: Double, upper: Double, bins: Int)?] = Array(repeating: nil, count: all.count)
        var counts = Array(repeating: [UInt64](), count: all.count)
        var totals = Array(repeating: [Double](), count: all.count)
        var rows = Array(repeating: [Int](), count: all.count)
        let path = reader.path
        func add(_ row: HistogramRowView, slot s: Int) throws {
            guard let k = all.firstIndex(of: row.stream) else { return }
            if let spec = specs[k] {
                if spec.bins != row.bins || spec.lower != row.lower || spec.upper != row.upper {
                    throw ReportError.store("\(path): the \(row.stream.rawValue) histogram at step \(row.step) has bins "
                        + "\(row.bins) on [\(row.lower), \(row.upper)] where earlier steps had \(spec.bins) on [\(spec.lower), \(spec.upper)]")
                }
            } else {
                specs[k] = (row.lower, row.upper, row.bins)
                counts[k] = Array(repeating: 0, count: slotCount * row.bins)
                totals[k] = Array(repeating: 0, count: slotCount)
                rows[k] = Array(repeating: 0, count: slotCount)
            }
            totals[k][s] += Double(row.count)
            rows[k][s] += row.rows
            let bins = row.bins
            counts[k].withUnsafeMutableBufferPointer { buffer in
                guard let out = buffer.baseAddress?.advanced(by: s * bins) else { return }
                row.addCounts(to: out)
            }
        }
        // The slot holding steps first…last (binary search on the ascending lower bounds), nil when none does.
        func slot(holding first: Int, _ last: Int) -> Int? {
            var lo = active.lowerBound, hi = active.upperBound
            while lo < hi {
                let mid = (lo + hi) / 2
                if slots[mid].upperBound < first { lo = mid + 1 } else { hi = mid }
            }
            return lo < active.upperBound && slots[lo].contains(first) && slots[lo].contains(last) ? lo : nil
        }
        let wanted = Set(streams)
        // Active slots in runs of adjacent ones (step ranges that touch): one block query per run, so five epochs
        // of a long run read five epochs' blocks, not everything between them.
        var groups: [Range<Int>] = []
        for j in active {
            if let last = groups.last, slots[last.upperBound - 1].upperBound + 1 == slots[j].lowerBound {
                groups[groups.count - 1] = last.lowerBound..<(j + 1)
            } else {
                groups.append(j..<(j + 1))
            }
        }
        try ReportError.wrap {
            // One read transaction: blocks and rows come from the same committed snapshot.
            try reader.scan { scanner in
                // 1. Blocks wholly inside a slot, remembered by first step (ascending, as read).
                var usedBlocks: [ClosedRange<Int>] = []
                for group in groups {
                    let first = slots[group.lowerBound].lowerBound, last = slots[group.upperBound - 1].upperBound
                    try scanner.forEachHistogramBlock(wanted, firstStepIn: first...last) { block in
                        guard let s = slot(holding: block.step, block.lastStep) else { return }
                        if usedBlocks.last != block.step...block.lastStep { usedBlocks.append(block.step...block.lastStep) }
                        try add(block, slot: s)
                    }
                }
                // 2. Every other step of the active slots, row by row.
                var j = active.lowerBound
                for gap in uncovered(slots[active], by: usedBlocks) {
                    try scanner.forEachHistogram(wanted, in: gap) { row in
                        while j < active.upperBound && slots[j].upperBound < row.step { j += 1 }
                        guard j < active.upperBound, slots[j].contains(row.step) else { return }
                        try add(row, slot: j)
                    }
                }
            }
        }
        var sums: [ScoreStream: StreamSums] = [:]
        for (k, stream) in all.enumerated() {
            guard let spec = specs[k] else { continue }
            sums[stream] = StreamSums(stream: stream, lower: spec.lower, upper: spec.upper, bins: spec.bins,
                                      counts: counts[k], totals: totals[k], rows: rows[k])
        }
        return sums
    }

    /// The steps of `slots` (ascending, disjoint) outside `covered` (ascending blocks, each inside one slot), as
    /// maximal runs of consecutive steps.
    static func uncovered(_ slots: ArraySlice<ClosedRange<Int>>, by covered: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        var runs: [ClosedRange<Int>] = []
        func add(_ a: Int, _ b: Int) {
            guard a <= b else { return }
            if let last = runs.last, last.upperBound + 1 == a { runs[runs.count - 1] = last.lowerBound...b } else { runs.append(a...b) }
        }
        var next = 0
        for slot in slots {
            var cursor = slot.lowerBound
            while next < covered.count && covered[next].upperBound <= slot.upperBound {
                add(cursor, covered[next].lowerBound - 1)
                cursor = covered[next].upperBound + 1
                next += 1
            }
            add(cursor, slot.upperBound)
        }
        return runs
    }

    /// The heat-map columns of a run's steps first…last: `wanted` equal slices (fewer for fewer steps); but when a
    /// slice would hold a histogram block or more, slices of whole blocks on the block grid (about `wanted` of
    /// them), so that the sums come from the blocks. The same for every store (a version-1 store, without blocks,
    /// is summed row by row into the same columns). Returns the slots, their x edges in steps (evenly spaced; on
    /// the block grid the first and last may reach past the run) and the run's own x range (half a step outside
    /// the first and last step).
    static func columnLayout(first: Int, last: Int, wanted given: Int)
        -> (slots: [ClosedRange<Int>], xEdges: [Double], xRange: ClosedRange<Double>) {
        let span = last - first + 1, blockSteps = RunStore.histogramBlockSteps, wanted = max(1, given)
        let xRange = (Double(first) - 0.5)...(Double(last) + 0.5)
        if span >= wanted * blockSteps {
            let per = max(1, Int((Double(span) / Double(wanted) / Double(blockSteps)).rounded())) * blockSteps
            // The block grid: blocks start at steps 1, 17, 33, …
            let origin = first - ((first - 1) % blockSteps + blockSteps) % blockSteps
            let columns = (last - origin) / per + 1
            let slots = (0..<columns).map { j in max(first, origin + j * per)...min(last, origin + (j + 1) * per - 1) }
            let xEdges = (0...columns).map { Double(origin) - 0.5 + Double($0 * per) }
            return (slots, xEdges, xRange)
        }
        let columns = max(1, min(wanted, span))
        // Slice j: the steps s with (s − first)·columns / span == j.
        let starts = (0...columns).map { first + ($0 * span + columns - 1) / columns }
        let slots = (0..<columns).map { starts[$0]...(starts[$0 + 1] - 1) }
        let xEdges = (0...columns).map { Double(first) - 0.5 + Double($0) * Double(span) / Double(columns) }
        return (slots, xEdges, xRange)
    }

    /// Heat-map columns of one run (`columnLayout`).
    static func columns(_ run: RunSource, streams: [ScoreStream], columns wanted: Int) throws(ReportError)
        -> (sums: [ScoreStream: StreamSums], xEdges: [Double], xRange: ClosedRange<Double>) {
        try columns(of: [run], streams: streams, columns: wanted)[0]
    }

    /// `columns` for several runs, read on all cores: each run's columns are split in two halves read through
    /// separate connections (so 5 runs make 10 balanced jobs), and the halves' exact integer sums are added.
    static func columns(of runs: [RunSource], streams: [ScoreStream], columns wanted: Int) throws(ReportError)
        -> [(sums: [ScoreStream: StreamSums], xEdges: [Double], xRange: ClosedRange<Double>)] {
        var layouts: [(slots: [ClosedRange<Int>], xEdges: [Double], xRange: ClosedRange<Double>)] = []
        for run in runs {
            let range = try run.requireSteps(for: "heatmap")
            layouts.append(columnLayout(first: range.lowerBound, last: range.upperBound, wanted: wanted))
        }
        let parts = 2, planned = layouts
        let pieces = try parallelMap(runs.count * parts) { job throws(ReportError) -> [ScoreStream: StreamSums] in
            let r = job / parts, part = job % parts, slots = planned[r].slots
            let active = (slots.count * part / parts)..<(slots.count * (part + 1) / parts)
            if active.isEmpty { return [:] }
            let reader = part == 0 ? runs[r].reader : try ReportError.wrap { try RunReader(directory: runs[r].directory) }
            return try sum(reader, streams: streams, slots: slots, active: active)
        }
        var result: [(sums: [ScoreStream: StreamSums], xEdges: [Double], xRange: ClosedRange<Double>)] = []
        for (r, layout) in layouts.enumerated() {
            var merged: [ScoreStream: StreamSums] = [:]
            for part in 0..<parts {
                for (stream, s) in pieces[r * parts + part] {
                    guard var m = merged[stream] else { merged[stream] = s; continue }
                    if m.bins != s.bins || m.lower != s.lower || m.upper != s.upper {
                        throw .store("\(runs[r].reader.path): the \(stream.rawValue) histograms change their bins within the run")
                    }
                    for i in m.counts.indices { m.counts[i] &+= s.counts[i] }
                    for i in m.totals.indices { m.totals[i] += s.totals[i]; m.rows[i] += s.rows[i] }
                    merged[stream] = m
                }
            }
            result.append((merged, layout.xEdges, layout.xRange))
        }
        return result
    }

    /// One slot per epoch in `epochs` (each the epoch's step range), in the order given. Reads only those epochs'
    /// steps (their blocks, and rows at the epochs' edges), so five epochs of a long run cost five epochs of reading.
    static func epochs(_ run: RunSource, streams: [ScoreStream], epochs: [(epoch: Int, steps: ClosedRange<Int>)]) throws(ReportError)
        -> [ScoreStream: StreamSums] {
        // `sum` wants ascending ranges: sum in step order, then put the slots back in the order asked.
        let order = epochs.indices.sorted { epochs[$0].steps.lowerBound < epochs[$1].steps.lowerBound }
        let sorted = try sum(run, streams: streams, slots: order.map { epochs[$0].steps })
        var result: [ScoreStream: StreamSums] = [:]
        for (stream, s) in sorted {
            var out = s
            for (position, slot) in order.enumerated() {
                out.counts.replaceSubrange(slot * s.bins..<(slot + 1) * s.bins,
                                           with: s.counts[position * s.bins..<(position + 1) * s.bins])
                out.totals[slot] = s.totals[position]
                out.rows[slot] = s.rows[position]
            }
            result[stream] = out
        }
        return result
    }

    /// `body` for each index in 0..<count on all cores; results in index order; the first error by index is
    /// rethrown. Each index writes only its own slot, so results do not depend on scheduling.
    static func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws(ReportError) -> T) throws(ReportError) -> [T] {
        let slots = ParallelSlots<T>(count)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            let result: Result<T, ReportError>
            do throws(ReportError) { result = .success(try body(i)) } catch { result = .failure(error) }
            slots.lock.lock()
            slots.values[i] = result
            slots.lock.unlock()
        }
        var out: [T] = []
        for value in slots.values {
            switch value {
            case .success(let v)?: out.append(v)
            case .failure(let e)?: throw e
            case nil: throw .store("internal: a parallel read produced no result")
            }
        }
        return out
    }
}

/// Result slots shared by the iterations of `parallelMap` (each writes its own index under the lock).
private final class ParallelSlots<T: Sendable>: @unchecked Sendable {
    var values: [Result<T, ReportError>?]
    let lock = NSLock()
    init(_ count: Int) { values = Array(repeating: nil, count: count) }
}
