// `scorescope bench conv`: every convolution of an encoder timed on the plain im2col + sgemm path and on the
// padding-aware path (pixel classes), interleaved round by round, as JSON lines. Timing lives in NN.
import ArgumentParser
import Foundation
import NN

struct BenchConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Compare the plain and the padding-aware convolution paths layer by layer (interleaved, JSON lines).",
        discussion: """
            Each round runs forward + backward of the layer on both paths, alternating which goes first, so a \
            change in the machine's load hits both alike. saved = fraction of multiply-adds the padding-aware path \
            skips (null: the layer always runs the plain path).
            """
    )

    @Option(help: "Images per batch.")
    var batch: Int = 256

    @Option(help: "Encoder.")
    var encoder: EncoderKind = .convnetS

    @Option(help: "Rounds (the median of each path is printed), after one warm-up of each.")
    var repeats: Int = 10

    @OptionGroup var workers: BenchThreads

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
    }

    func run() throws {
        configureBLASSingleThreaded()
        let context = ComputeContext(threads: workers.threads)
        for t in benchmarkConvolutionPaths(spec: ModelSpec(encoder: encoder), batch: batch, repeats: repeats,
                                           context: context) {
            let saved = t.savedFraction.map { String(format: "%.3f", $0) } ?? "null"
            print(#"{"bench":"conv_paths","name":"\#(t.name)","batch":\#(batch),"threads":\#(workers.threads),"# +
                  #""saved":\#(saved),"plain_ms":\#(String(format: "%.3f", t.plainMilliseconds)),"# +
                  #""classed_ms":\#(String(format: "%.3f", t.classedMilliseconds)),"# +
                  #""plain_cpu_ms":\#(String(format: "%.3f", t.plainCPUMilliseconds)),"# +
                  #""classed_cpu_ms":\#(String(format: "%.3f", t.classedCPUMilliseconds)),"# +
                  #""blas_core":"\#(blasCoreName())"}"#)
        }
    }
}
