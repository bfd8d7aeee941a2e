// SweepSpec: a sweep file (`experiments/<name>/sweep.json`) and its expansion into named runs.
//
// A sweep is a base configuration (a preset plus overrides), grid axes over any config key, seeds, and an
// optional list of extra named runs. Every grid point × seed becomes one run whose folder name is built from
// the varying values in the order the file lists the axes (`m0.99-s1`, `ft-posneg-m0.99-s2`), so names are
// stable and readable. Deliberately not here: running anything (see SweepRunner and SlurmBackend).
import Foundation

/// Errors in a sweep file, each naming the file and what is wrong.
public struct SweepError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A parsed sweep file.
public struct SweepSpec: Equatable, Sendable {
    /// The sweep's name (default: the name of the folder holding the file).
    public var name: String
    /// Free text shown in reports.
    public var description: String
    /// The preset the base configuration starts from (`smoke`, `quick`, `full`); default `quick`.
    public var basePreset: String
    /// A configuration file (JSON) applied after the preset, relative to the sweep file; optional.
    public var baseConfigFile: String?
    /// Overrides applied to every run, in order (dotted config keys → values).
    public var baseOverrides: [(String, JSONValue)]
    /// Grid axes in file order: a config key and its values.
    public var axes: [(key: String, values: [JSONValue])]
    /// Seeds; every grid point runs once per seed. Default [1].
    public var seeds: [Int]
    /// Extra named runs (their own overrides on top of the base), each run once per seed.
    public var extraRuns: [(name: String, overrides: [(String, JSONValue)])]
    /// Options for the Slurm backend (time limit, partition, ...), passed through to sbatch.
    public var slurm: [(String, JSONValue)]

    public static func == (a: SweepSpec, b: SweepSpec) -> Bool {
        a.name == b.name && a.description == b.description && a.basePreset == b.basePreset
            && a.baseConfigFile == b.baseConfigFile && a.seeds == b.seeds
            && JSONValue.object(a.baseOverrides) == JSONValue.object(b.baseOverrides)
            && a.axes.map(\.key) == b.axes.map(\.key) && a.axes.map { JSONValue.array($0.values) } == b.axes.map { JSONValue.array($0.values) }
            && a.extraRuns.map(\.name) == b.extraRuns.map(\.name)
    }

    /// Reads and validates a sweep file.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SweepError("\(path): cannot read the sweep file (missing or unreadable)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
        do {
            try self.init(json: try JSONValue.parse(text), defaultName: folder)
        } catch let e as JSONParseError {
            throw SweepError("\(path): not valid JSON (\(e))")
        } catch let e as SweepError {
            throw SweepError("\(path): \(e.message)")
        }
    }

    /// Builds a spec from parsed JSON. `defaultName` names the sweep when the file does not.
    public init(json: JSONValue, defaultName: String) throws {
        guard case let .object(top) = json else { throw SweepError("the top level must be a JSON object") }
        let known: Set<String> = ["name", "description", "base", "grid", "seeds", "runs", "slurm"]
        for (k, _) in top where !known.contains(k) {
            throw SweepError("unknown top-level key \"\(k)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        name = try Self.string(json["name"], "name") ?? defaultName
        if name.isEmpty || !Self.isSafeName(name) {
            throw SweepError("\"name\" must be letters, digits, '.', '_' or '-' (got \"\(name)\")")
        }
        description = try Self.string(json["description"], "description") ?? ""
        basePreset = "quick"
        baseConfigFile = nil
        baseOverrides = []
        if let base = json["base"] {
            guard case let .object(b) = base else { throw SweepError("\"base\" must be an object with \"preset\", \"config\" and \"set\"") }
            for (k, _) in b where !["preset", "config", "set"].contains(k) {
                throw SweepError("unknown key \"\(k)\" in \"base\" (known: preset, config, set)")
            }
            basePreset = try Self.string(base["preset"], "base.preset") ?? "quick"
            baseConfigFile = try Self.string(base["config"], "base.config")
            baseOverrides = try Self.overrides(base["set"], "base.set")
        }
        axes = []
        if let grid = json["grid"] {
            guard case let .object(g) = grid else { throw SweepError("\"grid\" must be an object of key: [values]") }
            for (k, v) in g {
                guard case let .array(values) = v, !values.isEmpty else {
                    throw SweepError("grid axis \"\(k)\" must be a non-empty array of values")
                }
                if k == "seed" { throw SweepError("use \"seeds\", not a grid axis \"seed\"") }
                axes.append((k, values))
            }
        }
        seeds = [1]
        if let s = json["seeds"] {
            guard case let .array(items) = s, !items.isEmpty else { throw SweepError("\"seeds\" must be a non-empty array of integers") }
            seeds = try items.map {
                guard case let .number(d) = $0, d == d.rounded(), d >= 0, d < 1e15 else {
                    throw SweepError("\"seeds\" must hold non-negative integers (got \($0.jsonText))")
                }
                return Int(d)
            }
            if Set(seeds).count != seeds.count { throw SweepError("\"seeds\" lists a seed twice") }
        }
        extraRuns = []
        if let r = json["runs"] {
            guard case let .array(items) = r else { throw SweepError("\"runs\" must be an array of {\"name\", \"set\"}") }
            for item in items {
                guard let n = try Self.string(item["name"], "runs[].name"), Self.isSafeName(n) else {
                    throw SweepError("every entry of \"runs\" needs a \"name\" of letters, digits, '.', '_' or '-'")
                }
                extraRuns.append((n, try Self.overrides(item["set"], "runs[\(n)].set")))
            }
        }
        slurm = []
        if let s = json["slurm"] {
            guard case let .object(o) = s else { throw SweepError("\"slurm\" must be an object") }
            slurm = o
        }
        if axes.isEmpty && extraRuns.isEmpty {
            throw SweepError("the sweep has no \"grid\" axes and no \"runs\": nothing to run")
        }
    }

    static func string(_ v: JSONValue?, _ key: String) throws -> String? {
        guard let v else { return nil }
        guard case let .string(s) = v else { throw SweepError("\"\(key)\" must be a string (got \(v.jsonText))") }
        return s
    }

    static func overrides(_ v: JSONValue?, _ key: String) throws -> [(String, JSONValue)] {
        guard let v else { return [] }
        guard case let .object(o) = v else { throw SweepError("\"\(key)\" must be an object of config key: value") }
        return o
    }

    static func isSafeName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
            && !s.hasPrefix(".")
    }
}

/// One run of a sweep: its folder name and the overrides that make it.
public struct PlannedRun: Equatable, Sendable {
    /// Folder name under the sweep's output folder (`m0.99-s1`).
    public var name: String
    /// The seed.
    public var seed: Int
    /// Overrides on top of the base preset and config, in order: base, axes (or extra run), then the seed.
    public var overrides: [(String, JSONValue)]
    /// The varying settings that distinguish this run's group (axes or the extra run's name), without the seed.
    public var settings: [(String, JSONValue)]

    public static func == (a: PlannedRun, b: PlannedRun) -> Bool {
        a.name == b.name && a.seed == b.seed && JSONValue.object(a.overrides) == JSONValue.object(b.overrides)
    }

    /// Overrides that name a preset (`"ft": "ft-posneg"` or `"preset": "..."`), applied as presets after the base.
    public var presets: [String] {
        overrides.compactMap { SweepSpec.presetKeys.contains($0.0) ? $0.1.plainText : nil }
    }

    /// The `key=value` overrides (everything that is not a preset).
    public var settingOverrides: [String] {
        overrides.compactMap { SweepSpec.presetKeys.contains($0.0) ? nil : "\($0.0)=\($0.1.plainText)" }
    }

    /// `--preset P` and `--set key=value` words for `scorescope train`, presets first.
    public var setArguments: [String] {
        presets.flatMap { ["--preset", $0] } + settingOverrides.flatMap { ["--set", $0] }
    }
}

extension SweepSpec {
    /// Keys whose string value names a preset rather than a config key (e.g. an FT recipe).
    public static let presetKeys: Set<String> = ["ft", "preset"]

    /// Every run of the sweep: the grid (first axis varies slowest) × seeds, then the extra runs × seeds.
    /// Throws when two runs would get the same folder name.
    public func plan() throws -> [PlannedRun] {
        var points: [[(String, JSONValue)]] = [[]]
        for axis in axes {
            points = points.flatMap { p in axis.values.map { p + [(axis.key, $0)] } }
        }
        if axes.isEmpty { points = [] }
        var runs: [PlannedRun] = []
        for point in points {
            let stem = point.map { Self.namePart(key: $0.0, value: $0.1) }.joined(separator: "-")
            for s in seeds {
                runs.append(PlannedRun(name: "\(stem)-s\(s)", seed: s,
                                       overrides: baseOverrides + point + [("seed", .number(Double(s)))],
                                       settings: point))
            }
        }
        for extra in extraRuns {
            for s in seeds {
                runs.append(PlannedRun(name: "\(extra.name)-s\(s)", seed: s,
                                       overrides: baseOverrides + extra.overrides + [("seed", .number(Double(s)))],
                                       settings: [("run", .string(extra.name))]))
            }
        }
        var seen = Set<String>()
        for r in runs where !seen.insert(r.name).inserted {
            throw SweepError("two runs would share the folder name \"\(r.name)\"; rename an extra run or change the grid")
        }
        return runs
    }

    /// Short, readable name fragments for well-known keys; others use the key's last component.
    static let abbreviations: [String: String] = [
        "momentum": "m", "queueSize": "K", "temperature": "t", "batchSize": "B", "lr": "lr", "epochs": "e",
        "ft.alphaPositive": "apos", "ft.alphaNegative": "aneg", "ft.startEpoch": "ftstart",
        "bnGroups": "G", "weightDecay": "wd",
        "ft.positive": "pos-", "ft.negative": "neg-", "ft.queueMode": "", "ft.distribution": "",
        "ft.granularity": "", "ft.renormalize": "renorm-", "mocoVersion": "moco", "model.encoder": "",
    ]

    /// `momentum` 0.99 → `m0.99`; `ft` "ft-posneg" → `ft-posneg`; `ft.queueMode` "union" → `queueMode-union`.
    static func namePart(key: String, value: JSONValue) -> String {
        let v = sanitize(value.plainText)
        if key == "ft" || key == "preset" { return v }
        if let a = abbreviations[key] { return a + v }
        let last = key.split(separator: ".").last.map(String.init) ?? key
        if case .number = value { return sanitize(last) + v }
        return sanitize(last) + "-" + v
    }

    static func sanitize(_ s: String) -> String {
        String(s.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) ? Character($0) : "_" })
    }
}
