import ArgumentParser
import Foundation
import Recording
import Reports

struct BenchPlot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plot", abstract: "scratch")
    @Option var steps = 20000
    @Option var keep: String?
    @Flag var ft = false
    func run() throws {
        let folder = keep ?? "/tmp/rp/bench"
        let ms = [0.5, 0.9, 0.99, 0.999, 1.0]
        for (i, m) in ms.enumerated() where !RunReader.isRunDirectory(folder + "/m\(m)") {
            try SyntheticRun.write(directory: folder + "/m\(m)", options: SyntheticRunOptions(momentum: m, steps: steps, stepsPerEpoch: max(1, steps / 20), seed: UInt64(i + 1), featureTransform: ft, sampleEvery: max(1, steps / 10)))
        }
    }
}
