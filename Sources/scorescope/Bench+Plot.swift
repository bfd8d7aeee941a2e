// `scorescope bench plot`: times the `curves` and `heatmap` figures for N synthetic run stores of S steps each
// (default 5 × 20k; created untimed in a temporary folder through RunStore), to PNG and SVG, store reading
// included (opening the stores, reading series or every histogram, drawing, encoding, writing the file).
// Prints one JSON line per kind and format with the median of the repeats. `--keep DIR` writes the stores (and a
// sweep.json describing them) to DIR and keeps them, e.g. for `scorescope report DIR`.
import ArgumentParser
import Foundation
import Recording
import Reports

struct BenchPlot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Time the curves and heatmap figures (PNG and SVG) from N synthetic run stores, store reading included.")

    @Option(help: "Number of runs (momenta 0.5, 0.9, 0.99, 0.999, 1, then 0.8, 0.7, 0.6).")
    var runs = 5

    @Option(help: "Steps per run.")
    var steps = 20_000

    @Option(help: "Steps per epoch of the synthetic runs.")
    var stepsPerEpoch = 234

    @Option(help: "Timed repetitions per figure and format (the median is reported).")
    var repeats = 3

    @Flag(help: "Record FT streams too (pos_ft, neg_ft, λ, transformed samples).")
    var ft = false

    @Option(help: "Figure kinds to time, comma-separated.")
    var kinds = "curves,heatmap"

    @Option(help: "Formats to time, comma-separated (png, svg, pdf).")
    var formats = "png,svg"

    @Option(help: "Write the stores (and a sweep.json) to this folder and keep them; existing stores there are replaced.")
    var keep: String?

    @Flag(help: "With --keep: reuse the stores already in that folder instead of writing them again.")
    var reuse = false

    static let momenta = [0.5, 0.9, 0.99, 0.999, 1.0, 0.8, 0.7, 0.6]

    func validate() throws {
        guard (1...Self.momenta.count).contains(runs) else { throw ValidationError("--runs must be 1…\(Self.momenta.count)") }
        guard steps >= 2 else { throw ValidationError("--steps must be at least 2") }
        guard stepsPerEpoch >= 1 else { throw ValidationError("--steps-per-epoch must be at least 1") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard !reuse || keep != nil else { throw ValidationError("--reuse needs --keep DIR") }
    }

    func run() throws {
        let folder = keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("scorescope-bench-plot-\(getpid())").path
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: folder) } }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let momenta = Array(Self.momenta.prefix(runs))
        var directories: [String] = []
        for (i, m) in momenta.enumerated() {
            let directory = (folder as NSString).appendingPathComponent("m\(m)-s1")
            directories.append(directory)
            if reuse && RunReader.isRunDirectory(directory) { continue }
            try SyntheticRun.write(directory: directory, options: SyntheticRunOptions(
                momentum: m, steps: steps, stepsPerEpoch: stepsPerEpoch, seed: UInt64(i + 1), featureTransform: ft,
                sampleEvery: max(1, steps / 10)))
        }
        if keep != nil {
            let sweep = """
                {
                  "name": "synthetic-bench",
                  "description": "Synthetic run stores written by scorescope bench plot (numbers shaped like method.md's description, not results).",
                  "grid": {"momentum": [\(momenta.map { "\($0)" }.joined(separator: ", "))]},
                  "seeds": [1],
                  "synthetic": {"steps": \(steps), "stepsPerEpoch": \(stepsPerEpoch), "ft": \(ft)}
                }

                """
            try sweep.write(toFile: (folder as NSString).appendingPathComponent("sweep.json"), atomically: true, encoding: .utf8)
        }
        try time(folder: folder, directories: directories)
    }

    func time(folder: String, directories: [String]) throws {
        let output = (folder as NSString).appendingPathComponent("figures")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let kindList = try kinds.split(separator: ",").map { try FigureKind.parse(String($0)) }
        for kind in kindList {
            for format in formats.split(separator: ",").map(String.init) {
                let path = (output as NSString).appendingPathComponent("\(kind.rawValue).\(format)")
                var times: [Double] = [], cpuTimes: [Double] = [], buildTimes: [Double] = []
                for _ in 0..<repeats {
                    let cpuStart = processCPUTime()
                    let start = DispatchTime.now().uptimeNanoseconds
                    let figure = try ReportFigures.figure(kind, directories: directories)
                    let built = DispatchTime.now().uptimeNanoseconds
                    try ReportFigures.write(figure, to: path)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                    buildTimes.append(Double(built - start) / 1e6)
                    cpuTimes.append((processCPUTime() - cpuStart) * 1e3)
                }
                func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
                // build_ms: reading the stores and building the figure; the rest of ms is rendering and encoding.
                print("{\"bench\":\"plot\",\"kind\":\"\(kind.rawValue)\",\"format\":\"\(format)\",\"ms\":\(rounded(median(times))),"
                    + "\"min_ms\":\(rounded(times.min() ?? 0)),\"build_ms\":\(rounded(median(buildTimes))),"
                    + "\"cpu_ms\":\(rounded(median(cpuTimes))),\"runs\":\(runs),\"steps\":\(steps)}")
            }
        }
    }

    /// CPU time of the whole process (all threads) in seconds.
    private func processCPUTime() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    private func rounded(_ milliseconds: Double) -> Double { (milliseconds * 10).rounded() / 10 }
}
