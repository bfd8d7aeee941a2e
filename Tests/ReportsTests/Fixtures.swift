// Test fixtures: small run stores written once per test process through RunStore (SyntheticRun: a few hundred
// steps of realistic-looking numbers with events, kNN evaluations, a linear probe, geometry samples and FT
// streams), a bare store with steps only, a sweep with an FT ablation, and a sweep whose names need escaping.
// Also helpers to inspect what a figure draws (recording renderer) and to read PNG sizes.
import Foundation
import Plotting
import Recording
@testable import Reports

/// The stores the tests read. Built lazily, once, in a fresh temporary folder.
struct Fixtures: Sendable {
    /// Sweep of momenta 0.9, 0.99 (two seeds) and 0.999 with FT streams: 300 steps, 30 per epoch (10 epochs),
    /// samples every 100 steps.
    let momentumSweep: String
    let momentumRuns: [String]
    /// Momenta 0.9, 0.99, 0.999 with FT streams, 60 steps of 15 per epoch: small enough for golden SVGs.
    let goldenSweep: String
    /// m = 0.99, FT on and off, two seeds each.
    let ablationSweep: String
    /// A store with steps only: no histograms, evaluations, events or samples.
    let bare: String
    /// A sweep whose run folder, sweep name and description contain HTML.
    let evilSweep: String
    let evilRunName: String

    /// The fixtures, written on first use; a failure to write them fails every test that asks.
    static func load() throws -> Fixtures { try loaded.get() }
    private static let loaded: Result<Fixtures, any Error> = Result { try Fixtures() }

    init() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("scorescope-reports-tests-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        func run(_ folder: String, _ m: Double, seed: UInt64, ft: Bool = true, steps: Int = 300, perEpoch: Int = 30) throws -> String {
            try SyntheticRun.write(directory: folder, options: SyntheticRunOptions(
                momentum: m, steps: steps, stepsPerEpoch: perEpoch, seed: seed, featureTransform: ft, sampleEvery: 100))
            return folder
        }
        momentumSweep = root + "/momentum"
        momentumRuns = [
            try run(momentumSweep + "/m0.9-s1", 0.9, seed: 1),
            try run(momentumSweep + "/m0.99-s1", 0.99, seed: 1),
            try run(momentumSweep + "/m0.99-s2", 0.99, seed: 2),
            try run(momentumSweep + "/m0.999-s1", 0.999, seed: 1),
        ]
        try #"{"name": "momentum-test", "grid": {"momentum": [0.9, 0.99, 0.999]}, "seeds": [1, 2]}"#
            .write(toFile: momentumSweep + "/sweep.json", atomically: true, encoding: .utf8)

        goldenSweep = root + "/golden"
        for m in [0.9, 0.99, 0.999] { _ = try run(goldenSweep + "/m\(m)-s1", m, seed: 1, steps: 60, perEpoch: 15) }

        ablationSweep = root + "/ablation"
        for ft in [false, true] {
            for seed: UInt64 in [1, 2] {
                _ = try run(ablationSweep + "/\(ft ? "ft" : "base")-s\(seed)", 0.99, seed: seed, ft: ft, steps: 120)
            }
        }

        bare = root + "/bare/run"
        let store = try RunStore(directory: bare, durability: .crashSafe)
        try store.setConfig(json: #"{"momentum": 0.99, "seed": 1}"#)
        for step in 1...50 {
            let scores = ScoreStatistics(positiveMean: 0.5 + 0.004 * Double(step), positiveVariance: 0.02, negativeMean: 0,
                                         negativeVarianceQuery: 0.02, negativeVarianceAll: 0.021)
            try store.record(step: StepRecord(step: step, epoch: 1 + step / 25, learningRate: 0.06, momentum: 0.99,
                                              loss: 8 - 0.02 * Double(step), instanceAccuracy: 0.1, gradientNorm: 1,
                                              scores: scores, milliseconds: 10))
        }
        try store.close()

        evilSweep = root + "/evil"
        evilRunName = "m0.99 <b>&\"x\""
        _ = try run(evilSweep + "/" + evilRunName, 0.99, seed: 3, steps: 90)
        try #"{"name": "sweep <script>alert(1)</script>", "description": "a & b <i>", "seeds": [3]}"#
            .write(toFile: evilSweep + "/sweep.json", atomically: true, encoding: .utf8)
    }

    /// The momentum sweep's runs, opened.
    func momentumSources() throws -> [RunSource] { try RunSource.open([momentumSweep]) }
}

/// What a figure draws, recorded.
func record(_ figure: Figure) -> RecordingRenderer {
    let renderer = RecordingRenderer()
    figure.render(to: renderer)
    return renderer
}

/// Every text the figure draws.
func texts(_ figure: Figure) -> [String] { record(figure).texts.map(\.string) }

/// Width and height from a PNG's IHDR chunk.
func pngSize(_ bytes: [UInt8]) -> (Int, Int)? {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard bytes.count > 24, Array(bytes[0..<8]) == signature, String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR" else { return nil }
    func be32(_ i: Int) -> Int { bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}

/// A fresh empty folder for a test's outputs.
func scratchFolder(_ name: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("scorescope-reports-\(name)-\(getpid())").path
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
