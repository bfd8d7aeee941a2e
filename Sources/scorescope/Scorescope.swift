// The scorescope command line: parse, validate, wire, print. No logic worth testing lives here.
import ArgumentParser

/// The version printed by `scorescope --version` and recorded in every run store.
let scorescopeVersion = "0.1.0"

@main
struct Scorescope: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scorescope",
        abstract: "Study the positive/negative score distributions of contrastive learners (MoCo + feature transformations).",
        discussion: """
        Train MoCo v1/v2 on the CPU while recording histograms of the positive and negative cosine scores at every
        iteration, before and after the feature transformations of Zhu et al. (ICCV 2021); analyse their stability per
        momentum; and draw publication figures.
        """,
        version: scorescopeVersion,
        subcommands: [Bench.self, DataCommand.self, InspectCommand.self, AnalyzeCommand.self, ExportCommand.self, PlotCommand.self, ReportCommand.self]
    )
}
