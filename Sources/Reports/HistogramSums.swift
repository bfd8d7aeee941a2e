// HistogramSums: stored histograms summed over step ranges, as densities: per pixel column of a heat map (a
// long run's 100k histograms become a few hundred columns; every step counts, none is skipped) or per epoch
// (ridgelines). Reads through RunReader.forEachHistogram (counts in place, no per-row objects) and reads several
// runs on all cores, each run into its own result, so the output does not depend on the thread count.
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
    /// Sums `streams` of `run` into `slotCount` slots; `slot(step)` gives a step's slot or nil to skip it.
    /// Streams that have no histogram in any slot are absent from the result. Throws `.store` when a stream's bin
    /// spec changes between rows.
    static func sum(_ run: RunSource, streams: [ScoreStream], range: ClosedRange<Int>?, slotCount: Int,
                    slot: (Int) -> Int?) throws(ReportError) -> [ScoreStream: StreamSums] {
        try sum(run.reader, streams: streams, range: range, slotCount: slotCount, slot: slot)
    }

    /// `sum` through a given reader (a second connection lets two threads read one store).
    static func sum(_ reader: RunReader, streams: [ScoreStream], range: ClosedRange<Int>?, slotCount: Int,
                    slot: (Int) -> Int?) throws(ReportError) -> [ScoreStream: StreamSums] {
        // Accumulators per stream position, in separate arrays mutated in place (no struct copies, no
        // reference-count traffic per row).
        // Stream → accumulator position without hashing per row.
        let all = ScoreStream.allCases
        func index(_ stream: ScoreStream) -> Int? { all.firstIndex(of: stream) }
        var specs: [(lower: Double, upper: Double, bins: Int)?] = Array(repeating: nil, count: ScoreStream.allCases.count)
        var counts = Array(repeating: [UInt64](), count: ScoreStream.allCases.count)
        var totals = Array(repeating: [Double](), count: ScoreStream.allCases.count)
        var rows = Array(repeating: [Int](), count: ScoreStream.allCases.count)
        let path = reader.path
        try ReportError.wrap {
            try reader.forEachHistogram(Set(streams), in: range) { row in
                guard let s = slot(row.step), s >= 0, s < slotCount, let k = index(row.stream) else { return }
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
                rows[k][s] += 1
                let bins = row.bins
                guard let source = row.counts.baseAddress else { return }
                counts[k].withUnsafeMutableBufferPointer { all in
                    // Integer adds of zero-extended counts: vectorises, and stays exact for any number of steps.
                    guard let out = all.baseAddress?.advanced(by: s * bins) else { return }
                    for b in 0..<bins {
                        out[b] &+= UInt64(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: b &* 4, as: UInt32.self)))
                    }
                }
            }
        }
        var sums: [ScoreStream: StreamSums] = [:]
        for (k, stream) in ScoreStream.allCases.enumerated() {
            guard let spec = specs[k] else { continue }
            sums[stream] = StreamSums(stream: stream, lower: spec.lower, upper: spec.upper, bins: spec.bins,
                                      counts: counts[k], totals: totals[k], rows: rows[k])
        }
        return sums
    }

    /// Heat-map columns: `columns` equal slices of the run's step range (fewer when the run has fewer steps).
    /// Returns the sums and the x edges in steps (slice boundaries, half a step outside the first and last step).
    static func columns(_ run: RunSource, streams: [ScoreStream], columns wanted: Int) throws(ReportError)
        -> (sums: [ScoreStream: StreamSums], xEdges: [Double]) {
        try columns(of: [run], streams: streams, columns: wanted)[0]
    }

    /// `columns` for several runs, read on all cores: each run's step range is split in two halves read through
    /// separate connections (so 5 runs make 10 balanced jobs), and the halves' exact integer sums are added.
    static func columns(of runs: [RunSource], streams: [ScoreStream], columns wanted: Int) throws(ReportError)
        -> [(sums: [ScoreStream: StreamSums], xEdges: [Double])] {
        struct Plan { let first: Int; let span: Int; let columns: Int }
        var plans: [Plan] = []
        for run in runs {
            let range = try run.requireSteps(for: "heatmap")
            let span = range.upperBound - range.lowerBound + 1
            plans.append(Plan(first: range.lowerBound, span: span, columns: max(1, min(wanted, span))))
        }
        let parts = 2, planned = plans
        let pieces = try parallelMap(runs.count * parts) { job throws(ReportError) -> [ScoreStream: StreamSums] in
            let r = job / parts, part = job % parts, plan = planned[r]
            let first = plan.first + plan.span * part / parts, last = plan.first + plan.span * (part + 1) / parts - 1
            if last < first { return [:] }
            let reader = part == 0 ? runs[r].reader : try ReportError.wrap { try RunReader(directory: runs[r].directory) }
            return try sum(reader, streams: streams, range: first...last, slotCount: plan.columns) { step in
                (step - plan.first) * plan.columns / plan.span
            }
        }
        var result: [(sums: [ScoreStream: StreamSums], xEdges: [Double])] = []
        for (r, plan) in plans.enumerated() {
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
            let xEdges = (0...plan.columns).map { Double(plan.first) - 0.5 + Double($0) * Double(plan.span) / Double(plan.columns) }
            result.append((merged, xEdges))
        }
        return result
    }

    /// One slot per epoch in `epochs` (each the epoch's step range). Reads only those epochs' rows, one range query
    /// per epoch, so five epochs of a long run cost five epochs of reading.
    static func epochs(_ run: RunSource, streams: [ScoreStream], epochs: [(epoch: Int, steps: ClosedRange<Int>)]) throws(ReportError)
        -> [ScoreStream: StreamSums] {
        var merged: [ScoreStream: StreamSums] = [:]
        for (slot, epoch) in epochs.enumerated() {
            let one = try sum(run, streams: streams, range: epoch.steps, slotCount: 1) { _ in 0 }
            for (stream, s) in one {
                var m = merged[stream] ?? StreamSums(stream: stream, lower: s.lower, upper: s.upper, bins: s.bins,
                                                     counts: Array(repeating: 0, count: epochs.count * s.bins),
                                                     totals: Array(repeating: 0, count: epochs.count),
                                                     rows: Array(repeating: 0, count: epochs.count))
                if m.bins != s.bins || m.lower != s.lower || m.upper != s.upper {
                    throw .store("\(run.reader.path): the \(stream.rawValue) histograms of epoch \(epoch.epoch) have bins \(s.bins) on "
                        + "[\(s.lower), \(s.upper)] where other epochs have \(m.bins) on [\(m.lower), \(m.upper)]")
                }
                m.counts.replaceSubrange(slot * s.bins..<(slot + 1) * s.bins, with: s.counts)
                m.totals[slot] = s.totals[0]
                m.rows[slot] = s.rows[0]
                merged[stream] = m
            }
        }
        return merged
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
