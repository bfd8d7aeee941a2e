import Testing
import Foundation
@testable import Experiments

/// A stand-in for `scorescope train`: reads --out, behaves by run name (fail → exit 1, div → exit 3,
/// slow → runs until SIGINT, then "checkpoints" and exits 0), writes the run's state into `<out>/state`.
private let fakeTrain = """
#!/bin/bash
out=""; prev=""
for a in "$@"; do [ "$prev" = "--out" ] && out="$a"; prev="$a"; done
echo "args: $*"
echo started >> "$out/starts"
case "$out" in
  *fail*) echo failed > "$out/state"; exit 1 ;;
  *div*) echo diverged > "$out/state"; exit 3 ;;
  *slow*) echo running > "$out/state"; trap 'echo interrupted > "$out/state"; exit 0' INT; for i in $(seq 200); do sleep 0.05; done; echo finished > "$out/state"; exit 0 ;;
  *) echo finished > "$out/state"; exit 0 ;;
esac
"""

private func makeFixture() throws -> (dir: String, exe: String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runner-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    // Run through /bin/bash rather than exec'ing the script: a script this process has just written can be
    // "Text file busy" while another test's child holds an inherited descriptor of it.
    let exe = dir + "/fake-train.sh"
    try fakeTrain.write(toFile: exe, atomically: true, encoding: .utf8)
    return (dir, exe)
}

private let readState: @Sendable (String) -> RunState = { dir in
    guard let s = try? String(contentsOfFile: dir + "/state", encoding: .utf8) else { return .missing }
    return RunState(rawValue: s.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .failed
}

private final class Lines: @unchecked Sendable {
    let lock = NSLock(); var lines: [String] = []
    func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
}

private func runs(_ names: [String]) -> [PlannedRun] {
    names.map { PlannedRun(name: $0, seed: 1, overrides: [("momentum", .number(0.9))], settings: []) }
}

@Test func runnerRunsAllSkipsFinishedAndSurvivesFailures() throws {
    let (dir, exe) = try makeFixture()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let out = dir + "/runs"
    try FileManager.default.createDirectory(atPath: out + "/done-s1", withIntermediateDirectories: true)
    try "finished".write(toFile: out + "/done-s1/state", atomically: true, encoding: .utf8)
    let lines = Lines()
    let runner = SweepRunner(executable: "/bin/bash", baseArguments: [exe, "train", "--preset", "smoke"], jobs: 2, cores: 2,
                             state: readState, log: { lines.add($0) })
    #expect(runner.threadsPerRun == 1)
    let summary = runner.run(runs(["a-s1", "fail-s1", "done-s1", "div-s1", "b-s1"]), outputDirectory: out)
    let byName = Dictionary(uniqueKeysWithValues: summary.outcomes.map { ($0.name, $0.outcome) })
    if case .finished = byName["a-s1"]! {} else { Issue.record("a-s1: \(byName["a-s1"]!)") }
    if case .finished = byName["b-s1"]! {} else { Issue.record("b-s1: \(byName["b-s1"]!)") }
    if case .failed(let code, _) = byName["fail-s1"]! { #expect(code == 1) } else { Issue.record("fail-s1") }
    if case .diverged = byName["div-s1"]! {} else { Issue.record("div-s1") }
    #expect(byName["done-s1"] == .skipped(.finished))
    #expect(!FileManager.default.fileExists(atPath: out + "/done-s1/starts"))
    #expect(summary.failedCount == 2)
    let log = try String(contentsOfFile: out + "/a-s1/train.log", encoding: .utf8)
    #expect(log.contains("--preset smoke --set momentum=0.9 --out \(out)/a-s1 --threads 1"))
    #expect(lines.lines.contains { $0.hasPrefix("progress: 5/5 done, 0 running, 2 failed") })

    // A second invocation skips the finished runs and retries the failed one.
    let again = SweepRunner(executable: "/bin/bash", baseArguments: [exe, "train"], jobs: 1, cores: 2, state: readState, log: { _ in })
    let s2 = again.run(runs(["a-s1", "fail-s1"]), outputDirectory: out)
    #expect(s2.outcomes[0].outcome == .skipped(.finished))
    if case .failed = s2.outcomes[1].outcome {} else { Issue.record("retry of fail-s1") }
}

@Test func runnerStopRequestInterruptsChildrenWhichResumeLater() throws {
    let (dir, exe) = try makeFixture()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let out = dir + "/runs"
    let runner = SweepRunner(executable: "/bin/bash", baseArguments: [exe, "train"], jobs: 1, cores: 2, state: readState, log: { _ in })
    DispatchQueue.global().asyncAfter(deadline: .now() + 1.0) { runner.requestStop() }
    let summary = runner.run(runs(["slow-s1", "later-s1"]), outputDirectory: out)
    #expect(summary.interrupted)
    #expect(summary.outcomes[0].outcome == .interrupted)
    #expect(summary.outcomes[1].outcome == .notStarted)
    #expect(readState(out + "/slow-s1") == .interrupted)
    // Next invocation resumes the interrupted run.
    let lines = Lines()
    let next = SweepRunner(executable: "/bin/bash", baseArguments: [exe, "train"], jobs: 1, cores: 2, state: readState, log: { lines.add($0) })
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { next.requestStop() }
    _ = next.run(runs(["slow-s1"]), outputDirectory: out)
    #expect(lines.lines.contains("[queue] slow-s1: will resume"))
    let starts = try String(contentsOfFile: out + "/slow-s1/starts", encoding: .utf8)
    #expect(starts.split(separator: "\n").count == 2)
}
