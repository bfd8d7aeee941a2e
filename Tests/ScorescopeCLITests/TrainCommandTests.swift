// `scorescope train` argument parsing: presets apply in order, --set overrides last, bad values are usage errors
// naming the key, and the help lists the presets and every config key.
import Testing
import Experiments
@testable import scorescope

@Test func trainAppliesPresetsInOrderThenOverrides() throws {
    let command = try TrainCommand.parse(["--preset", "quick", "--preset", "ft-posneg", "--set", "momentum=0.9",
                                          "--out", "/tmp/scorescope-cli-never-created", "--threads", "2"])
    let config = try command.resolvedConfig()
    #expect(config.dataset == "fashion-mnist?limit=10000" && config.model.encoder == .convnetXS)
    #expect(config.ft.positive == .extrapolate && config.ft.negative == .interpolate && config.momentum == 0.9)
    #expect(command.threads == 2)
}

@Test func trainRejectsBadOptionsNamingThem() {
    #expect(throws: (any Error).self) { try TrainCommand.parse(["--preset", "tiny", "--out", "/tmp/x"]) }
    #expect(throws: (any Error).self) { try TrainCommand.parse(["--set", "momentum=2", "--out", "/tmp/x"]) }
    #expect(throws: (any Error).self) { try TrainCommand.parse(["--preset", "smoke", "--out", "/tmp/x", "--threads", "0"]) }
    #expect(throws: (any Error).self) { try TrainCommand.parse(["--preset", "smoke"]) }
    let message = TrainCommand.message(for: ValidationErrorProbe.momentum)
    #expect(message.contains("momentum") && message.contains("[0, 1]"))
}

@Test func trainHelpListsPresetsAndKeys() {
    let help = TrainCommand.helpMessage(columns: 200)
    for name in TrainConfig.presetNames { #expect(help.contains(name)) }
    #expect(help.contains("knn.atStart") && help.contains("dataSeed") && help.contains("ft.queueMode"))
}

/// The usage error of an out-of-range value, as the command reports it.
enum ValidationErrorProbe {
    static var momentum: any Error {
        do { _ = try TrainCommand.parse(["--set", "momentum=2", "--out", "/tmp/x"]) } catch { return error }
        return CancellationError()
    }
}
