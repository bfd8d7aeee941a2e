import Testing
import Foundation
@testable import Experiments

@Test func orderedJSONKeepsKeyOrderAndRoundTrips() throws {
    let text = #"{"z": 1, "a": [true, null, "x\"y\u00e9"], "m": {"k": -2.5e-3}}"#
    let v = try JSONValue.parse(text)
    guard case let .object(pairs) = v else { Issue.record("not an object"); return }
    #expect(pairs.map(\.0) == ["z", "a", "m"])
    #expect(try JSONValue.parse(v.jsonText) == v)
    #expect(v["a"] == .array([.bool(true), .null, .string("x\"yé")]))
    #expect(v["m"]?["k"] == .number(-0.0025))
}

@Test func orderedJSONReportsPositionOfErrors() {
    #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\": 1,\n \"b\": }") }
    do { _ = try JSONValue.parse("{\"a\": 1,\n \"b\": }") } catch let e as JSONParseError {
        #expect(e.line == 2)
    } catch { Issue.record("wrong error \(error)") }
    #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\": 1, \"a\": 2}") }
    #expect(throws: JSONParseError.self) { try JSONValue.parse("[1, 2") }
    #expect(throws: JSONParseError.self) { try JSONValue.parse("01x") }
}

@Test func sweepPlanNamesRunsFromVaryingValuesInFileOrder() throws {
    let json = try JSONValue.parse("""
    {"base": {"preset": "smoke", "set": {"epochs": 2}},
     "grid": {"ft": ["ft-none", "ft-posneg"], "momentum": [0.9, 0.99]},
     "seeds": [1, 2],
     "runs": [{"name": "noshuffle", "set": {"shuffleKeys": false}}]}
    """)
    let spec = try SweepSpec(json: json, defaultName: "demo")
    #expect(spec.name == "demo")
    let runs = try spec.plan()
    #expect(runs.map(\.name) == [
        "ft-none-m0.9-s1", "ft-none-m0.9-s2", "ft-none-m0.99-s1", "ft-none-m0.99-s2",
        "ft-posneg-m0.9-s1", "ft-posneg-m0.9-s2", "ft-posneg-m0.99-s1", "ft-posneg-m0.99-s2",
        "noshuffle-s1", "noshuffle-s2",
    ])
    #expect(runs[2].setArguments == ["--preset", "ft-none", "--set", "epochs=2", "--set", "momentum=0.99", "--set", "seed=1"])
    #expect(runs[8].setArguments.contains("shuffleKeys=false"))
}

@Test func sweepRejectsBadFilesWithClearMessages() throws {
    func message(_ text: String) -> String {
        do { _ = try SweepSpec(json: try JSONValue.parse(text), defaultName: "x"); return "" }
        catch let e as SweepError { return e.message } catch { return "\(error)" }
    }
    #expect(message(#"{"grid": {}}"#).contains("nothing to run"))
    #expect(message(#"{"grid": {"momentum": []}}"#).contains("non-empty"))
    #expect(message(#"{"grid": {"momentum": [0.9]}, "seeds": [1, 1]}"#).contains("twice"))
    #expect(message(#"{"grid": {"momentum": [0.9]}, "seeds": [1.5]}"#).contains("integers"))
    #expect(message(#"{"grdi": {"momentum": [0.9]}}"#).contains("unknown top-level key \"grdi\""))
    #expect(message(#"{"runs": [{"set": {}}]}"#).contains("name"))
    let dup = try SweepSpec(json: try JSONValue.parse(#"{"grid": {"momentum": [0.9]}, "runs": [{"name": "m0.9"}]}"#), defaultName: "x")
    #expect(throws: SweepError.self) { try dup.plan() }
}

@Test func sweepFileErrorsNameTheFile() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("sweep.json").path
    try "{\"grid\": [}".write(toFile: path, atomically: true, encoding: .utf8)
    do { _ = try SweepSpec(contentsOf: path); Issue.record("no error") } catch let e as SweepError {
        #expect(e.message.hasPrefix(path))
        #expect(e.message.contains("not valid JSON"))
    }
    #expect(throws: SweepError.self) { try SweepSpec(contentsOf: dir.appendingPathComponent("missing.json").path) }
}

@Test func slurmScriptMapsArrayIndexToManifestAndRequeuesOnTerm() throws {
    var o = try SlurmOptions(json: [("cpusPerTask", .number(1)), ("time", .string("00:10:00")),
                                    ("partition", .string("debug")), ("maxConcurrent", .number(2))])
    try o.validate()
    let s = SlurmBackend.script(sweepName: "demo", count: 4, manifest: "/r/demo/manifest.jsonl",
                                logDirectory: "/r/demo/slurm", executable: "/opt/it's/scorescope", options: o)
    #expect(s.hasPrefix("#!/bin/bash\n"))
    #expect(s.contains("#SBATCH --array=0-3%2\n"))
    #expect(s.contains("#SBATCH --cpus-per-task=1\n"))
    #expect(s.contains("#SBATCH --time=00:10:00\n"))
    #expect(s.contains("#SBATCH --partition=debug\n"))
    #expect(s.contains("#SBATCH --requeue\n"))
    #expect(s.contains("#SBATCH --signal=B:TERM@120\n"))
    #expect(s.contains("#SBATCH --output=/r/demo/slurm/%A_%a.out\n"))
    #expect(s.contains("EXE='/opt/it'\\''s/scorescope'"))
    #expect(s.contains("sweep task --manifest \"$MANIFEST\" --index \"$TASK\""))
    #expect(s.contains("scontrol requeue"))
    // The kernel the submitting process picked for its own CPU is dropped; the task picks for its node.
    #expect(s.contains("if [ -n \"${SCORESCOPE_BLAS_SELECTED:-}\" ]; then unset OPENBLAS_CORETYPE SCORESCOPE_BLAS_SELECTED; fi"))
    #expect(!s.contains("OPENBLAS_CORETYPE="))
    o.time = "soon"
    #expect(throws: SweepError.self) { try o.validate() }
    #expect(throws: SweepError.self) { try SlurmOptions(json: [("cpus", .number(2))]) }
}

@Test func manifestLinesRoundTrip() throws {
    let e = ManifestEntry(index: 3, name: "m0.9-s1", outputDirectory: "/tmp/x/m0.9-s1",
                          config: .object([("momentum", .number(0.9)), ("ft", .object([("positive", .string("none"))]))]))
    #expect(try ManifestEntry(line: e.line) == e)
    #expect(!e.line.contains("\n"))
}
