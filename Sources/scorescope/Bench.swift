// `scorescope bench ...`: quick benchmarks that print JSON lines. Run them from a release build.
import ArgumentParser

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (JSON lines on standard output; build with -c release for meaningful numbers).",
        subcommands: [BenchLayers.self, BenchData.self, BenchRecord.self, BenchLearner.self, BenchStep.self, BenchPlot.self]
    )
}
