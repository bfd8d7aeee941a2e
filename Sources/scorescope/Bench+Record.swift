// `scorescope bench record`: times the per-step recording work alone: the fused pos/neg histogram fill with the
// score statistics (B = 256 positives, B×K = 256×4096 negatives), and separately one step's SQLite transaction.
// Prints one JSON line. Not here: the training step itself (`bench step`).
import ArgumentParser
import Foundation
import Recording
import SeededRandom

struct BenchRecord: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Time the pos/neg histogram fill + statistics of one step (256 + 256×4096 scores) and its SQLite commit.")

    @Option(help: "Batch size B (positive scores).")
    var batch = 256

    @Option(help: "Queue size K (negative scores per query).")
    var queue = 4096

    @Option(help: "Timed repetitions after warm-up (the median is reported).")
    var repeats = 20

    @OptionGroup var workers: BenchThreads
    var threads: Int { workers.threads }

    func validate() throws {
        guard batch >= 1, queue >= 1 else { throw ValidationError("--batch and --queue must be at least 1") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        var generator = SeededGenerator(seed: 7)
        let positive = (0..<batch).map { _ in Float(generator.normal(mean: 0.6, std: 0.15)) }
        let negative = (0..<(batch * queue)).map { _ in Float(generator.normal(mean: 0, std: 0.12)) }

        var summary = try ScoreSummary(positive: positive, negative: negative, threads: threads)  // warm-up
        var fillTimes: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            summary = try ScoreSummary(positive: positive, negative: negative, threads: threads)
            fillTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }

        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("scorescope-bench-record-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try RunStore(directory: folder)
        var databaseTimes: [Double] = []
        for step in 0...repeats {
            let record = StepRecord(step: step, epoch: 1, learningRate: 0.06, momentum: 0.99, loss: 8.3,
                                    instanceAccuracy: 0.1, gradientNorm: 1, scores: summary.statistics, milliseconds: 1)
            let start = DispatchTime.now().uptimeNanoseconds
            try store.record(step: record, histograms: [(.positive, summary.positive), (.negative, summary.negative)])
            if step > 0 { databaseTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
        }
        try store.close()

        print("{\"bench\":\"record\",\"scores\":\(batch + batch * queue),\"ms\":\(median(fillTimes)),"
            + "\"min_ms\":\(rounded(fillTimes.min() ?? .nan)),\"db_ms\":\(median(databaseTimes)),\"threads\":\(threads)}")
    }
}

private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let mid = sorted.count / 2
    return rounded(sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2)
}

private func rounded(_ milliseconds: Double) -> Double { (milliseconds * 1000).rounded() / 1000 }
