// The scorescope command line: parse, validate, wire, print. No logic worth testing lives here.
import ArgumentParser
import Foundation
import NN

/// The version printed by `scorescope --version` and recorded in every run store.
let scorescopeVersion = "0.1.0"

struct Scorescope: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scorescope",
        abstract: "Study the positive/negative score distributions of contrastive learners (MoCo + feature transformations).",
        discussion: """
        Train MoCo v1/v2 on the CPU while recording histograms of the positive and negative cosine scores at every \
        iteration, before and after the feature transformations of Zhu et al. (ICCV 2021); analyse their stability \
        per momentum; and draw publication figures.

        Start with: scorescope sweep experiments/quick-demo/sweep.json --jobs 2 && scorescope report runs/quick-demo
        """,
        version: scorescopeVersion,
        subcommands: [TrainCommand.self, SweepCommand.self, InspectCommand.self, AnalyzeCommand.self, PlotCommand.self, ReportCommand.self, ExportCommand.self, DataCommand.self, Bench.self]
    )
}

/// The process entry: checks that this CPU can run the compiled kernels (CPULevel), picks the OpenBLAS kernel for
/// this CPU (restarting once with OPENBLAS_CORETYPE set when the environment names none; see NN's
/// BLASKernelChoice), then runs the command.
@main
enum Entry {
    static func main() async {
        CPULevel.checkOrExit()
        selectBLASKernel()
        configureAllocator()
        await Scorescope.main()
    }

    static func selectBLASKernel() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["SCORESCOPE_BLAS_SELECTED"] == nil,
              let core = BLASKernelChoice.preferredCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("SCORESCOPE_BLAS_SELECTED", "1", 1)  // never restart twice
        let argv = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", argv)
        // exec failed (no /proc?): carry on with OpenBLAS's own choice.
    }
}
