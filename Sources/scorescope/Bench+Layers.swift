// `scorescope bench layers`: per-layer forward/backward timings of an encoder + head, and the whole encoder,
// as JSON lines. The timing itself lives in NN (benchmarkLayers); this file parses, validates and prints.
import ArgumentParser
import Foundation
import NN

struct BenchLayers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "Time every layer of an encoder and the whole encoder forward + backward (JSON lines)."
    )

    @Option(help: "Images per batch.")
    var batch: Int = 256

    @Option(help: "Encoder.")
    var encoder: EncoderKind = .convnetS

    @Option(help: "Input as CxHxW, e.g. 1x28x28 (Fashion-MNIST) or 3x32x32 (CIFAR).")
    var input: String = "1x28x28"

    @Option(help: "Split-BN groups (the batch must be divisible by it).")
    var groups: Int = 1

    @Option(help: "Timed repeats per measurement (the median is printed), after one warm-up.")
    var repeats: Int = 5

    @OptionGroup var workers: BenchThreads
    var threads: Int { workers.threads }

    @Flag(help: "Only time the whole encoder (one line).")
    var encoderOnly = false

    func validate() throws {
        if batch < 2 { throw ValidationError("--batch must be at least 2, got \(batch)") }
        if parsedInput == nil { throw ValidationError("--input must look like 1x28x28 (positive C, H, W), got \(input)") }
        if groups < 1 || batch % groups != 0 {
            throw ValidationError("--groups must divide --batch \(batch), got \(groups)")
        }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
    }

    var parsedInput: (Int, Int, Int)? {
        let parts = input.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else { return nil }
        return (parts[0], parts[1], parts[2])
    }

    func run() throws {
        guard let (c, h, w) = parsedInput else { return }
        configureBLASSingleThreaded()
        if blasCoreIsSlowFallback() {
            FileHandle.standardError.write(Data(("warning: OpenBLAS picked the \(blasCoreName()) kernels (a fallback for an " +
                "unrecognised CPU, ~15x slower); set OPENBLAS_CORETYPE=SkylakeX (AVX-512 Intel), Zen (AMD) or Haswell (other AVX2)\n").utf8))
        }
        let spec = ModelSpec(encoder: encoder, head: .mlp, inputChannels: c, inputHeight: h, inputWidth: w)
        let context = ComputeContext(threads: threads)
        let timings = benchmarkLayers(spec: spec, batch: batch, groups: groups, repeats: repeats, context: context,
                                      encoderOnly: encoderOnly)
        for t in timings {
            let gflops = t.gigaflopsPerSecond.map { String(format: "%.1f", $0) } ?? "null"
            let cpu = t.forwardCPUMilliseconds + t.backwardCPUMilliseconds
            let fastest = t.forwardFastestMilliseconds + t.backwardFastestMilliseconds
            let best = t.flops > 0 && fastest > 0 ? String(format: "%.1f", t.flops / (fastest * 1e6)) : "null"
            let perCore = t.flops > 0 && cpu > 0 ? String(format: "%.1f", t.flops / (cpu * 1e6)) : "null"
            print(#"{"bench":"layer","name":"\#(t.name)","kind":"\#(t.kind)","batch":\#(batch),"threads":\#(threads),"# +
                  #""fwd_ms":\#(String(format: "%.3f", t.forwardMilliseconds)),"bwd_ms":\#(String(format: "%.3f", t.backwardMilliseconds)),"# +
                  #""fwd_min_ms":\#(String(format: "%.3f", t.forwardFastestMilliseconds)),"bwd_min_ms":\#(String(format: "%.3f", t.backwardFastestMilliseconds)),"# +
                  #""fwd_cpu_ms":\#(String(format: "%.3f", t.forwardCPUMilliseconds)),"bwd_cpu_ms":\#(String(format: "%.3f", t.backwardCPUMilliseconds)),"# +
                  #""gflop":\#(String(format: "%.3f", t.flops / 1e9)),"gflops":\#(gflops),"gflops_best":\#(best),"gflops_per_cpu_core":\#(perCore),"# +
                  #""blas_core":"\#(blasCoreName())"}"#)
        }
    }
}
