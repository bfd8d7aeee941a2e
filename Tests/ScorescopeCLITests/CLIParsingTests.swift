// Command-line parsing: each command parses its arguments into the right values and rejects bad options with a
// message that names the option. The executable holds no logic worth testing beyond this.
import ArgumentParser
import Foundation
import Testing
@testable import scorescope

@Test func versionIsSemantic() {
    #expect(scorescopeVersion.split(separator: ".").count == 3)
}

/// The message ArgumentParser would print for these arguments, or nil when they parse and validate.
private func parseError(_ args: [String]) -> String? {
    do {
        _ = try Scorescope.parseAsRoot(args)
        return nil
    } catch {
        return Scorescope.message(for: error)
    }
}

@Test func sweepParsesFileJobsAndBackend() throws {
    let cmd = try Scorescope.parseAsRoot(["sweep", "experiments/quick-demo/sweep.json", "--jobs", "2", "--out", "/tmp/x"])
    let run = try #require(cmd as? SweepRun)
    #expect(run.file == "experiments/quick-demo/sweep.json")
    #expect(run.jobs == 2)
    #expect(run.out == "/tmp/x")
    #expect(run.backend == .local)
    let slurm = try #require(try Scorescope.parseAsRoot(["sweep", "run", "f.json", "--backend", "slurm", "--dry-run",
                                                          "--cpus-per-task", "4", "--time", "01:00:00"]) as? SweepRun)
    #expect(slurm.backend == .slurm && slurm.dryRun && slurm.cpusPerTask == 4 && slurm.time == "01:00:00")
}

@Test func sweepRejectsBadOptionsNamingThem() {
    #expect(parseError(["sweep", "f.json", "--jobs", "0"])?.contains("--jobs") == true)
    #expect(parseError(["sweep", "f.json", "--backend", "cloud"])?.contains("cloud") == true)
    #expect(parseError(["sweep", "f.json", "--dry-run"])?.contains("--backend slurm") == true)
    #expect(parseError(["sweep", "task", "--manifest", "m", "--index", "-1"])?.contains("--index") == true)
    #expect(parseError(["sweep", "status", "/nonexistent/folder"])?.contains("not a folder") == true)
}

@Test func inspectAnalyzeExportRejectMissingFolders() {
    #expect(parseError(["inspect", "/nonexistent/run"]) != nil)
    #expect(parseError(["analyze", "/nonexistent/run"]) != nil)
    #expect(parseError(["export", "/nonexistent/run"]) != nil)
}

@Test func analyzeParsesFormatsAndGrouping() throws {
    let dir = FileManager.default.temporaryDirectory.path
    let cmd = try Scorescope.parseAsRoot(["analyze", dir, "--format", "csv", "--group-by", "momentum", "--metric", "pos_mean.level"])
    #expect(cmd is AnalyzeCommand)
    #expect(parseError(["analyze", dir, "--format", "xlsx"]) != nil)
}

@Test func dataCommandsValidateTheirOptions() {
    #expect(parseError(["data", "check"]) == nil)  // the dataset defaults to fashion-mnist
    #expect(parseError(["data", "preview", "--dataset", "synthetic:64", "--out", "/tmp/p.png", "--count", "0"]) != nil)
}

@Test func unknownCommandIsAnError() {
    #expect(parseError(["trian"]) != nil)
}

@Test func cpuLevelCheckNamesTheMissingFlags() {
    let v3Only = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave\n"
    let v4 = "flags\t\t: fpu sse2 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave avx512f avx512bw avx512cd avx512dq avx512vl\n"
    #expect(CPULevel.missingFlags("x86-64-v3", cpuinfo: v3Only).isEmpty)
    #expect(CPULevel.missingFlags("x86-64-v4", cpuinfo: v3Only) == ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"])
    #expect(CPULevel.missingFlags("x86-64-v4", cpuinfo: v4).isEmpty)
    #expect(CPULevel.missingFlags("x86-64-v3", cpuinfo: "flags\t: fpu sse2 avx fma xsave\n")
            == ["avx2", "bmi1", "bmi2", "f16c", "abm", "movbe"])
    // No flags line (not Linux, unreadable file): nothing to check against.
    #expect(CPULevel.missingFlags("x86-64-v4", cpuinfo: nil).isEmpty)
    #expect(CPULevel.missingFlags("x86-64-v4", cpuinfo: "processor\t: 0\n").isEmpty)
}
