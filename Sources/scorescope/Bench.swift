// `scorescope bench ...`: quick benchmarks that print JSON lines. Run them from a release build.
import ArgumentParser
import NN

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (JSON lines on standard output; build with -c release for meaningful numbers).",
        subcommands: [BenchLayers.self, BenchConv.self, BenchData.self, BenchRecord.self, BenchLearner.self, BenchStep.self, BenchPlot.self]
    )
}

/// The worker-thread option every benchmark shares (`--threads N`, default all cores).
struct BenchThreads: ParsableArguments {
    @Option(help: "Worker threads (default: all cores).")
    var threads = ComputeContext.availableCores

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }
}

/// `--encoder convnet-s|convnet-xs`, checked by ArgumentParser (which also lists the values in --help).
extension EncoderKind: ExpressibleByArgument {}
