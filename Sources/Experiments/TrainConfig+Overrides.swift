// TrainConfig+Overrides: building a config from presets, a JSON config file and `--set key=value` overrides.
// Each source is a sparse JSON patch; patches are merged in order (defaults < presets < file < --set) and the
// result is decoded leniently (missing keys take their defaults, see TrainConfig.swift) and validated.
// Keys are dotted paths into the JSON form ("ft.positive", "knn.k", "augmentation.blurProbability"); every key
// is checked against the full config before anything is decoded, so a typo is an error, never ignored.
// Deliberately not here: argument parsing (the `train` command passes the raw strings), file locations.
import Foundation
import Data
import NN
import Contrastive

/// Errors of building or validating a TrainConfig; the messages name the key, the value and what is expected.
public enum TrainConfigError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case unknownPreset(name: String, available: [String])
    case malformedOverride(String)
    case unknownKey(key: String, origin: String, known: [String])
    case groupKey(key: String, origin: String, members: [String])
    case badValue(key: String, value: String, expected: String)
    case invalid(key: String, problem: String)
    case unreadableFile(path: String, problem: String)

    public var description: String {
        switch self {
        case let .unknownPreset(name, available):
            "unknown preset '\(name)'; available: \(available.joined(separator: ", "))"
        case let .malformedOverride(text):
            "--set '\(text)' is not of the form key=value (e.g. --set momentum=0.9)"
        case let .unknownKey(key, origin, known):
            "\(origin): unknown key '\(key)'; valid keys here: \(known.joined(separator: ", "))"
        case let .groupKey(key, origin, members):
            "\(origin): '\(key)' is a group, set one of its keys: \(members.map { "\(key).\($0)" }.joined(separator: ", "))"
        case let .badValue(key, value, expected):
            "config key '\(key)': '\(value)' is not valid; expected \(expected)"
        case let .invalid(key, problem):
            "config key '\(key)': \(problem)"
        case let .unreadableFile(path, problem):
            "config file \(path): \(problem)"
        }
    }

    public var errorDescription: String? { description }
}

/// A JSON value that keeps integers exact (seeds are UInt64).
enum ConfigValue: Codable, Equatable, Sendable {
    case null, bool(Bool), int(Int64), uint(UInt64), double(Double), string(String)
    case array([ConfigValue]), object([String: ConfigValue])

    init(from decoder: Decoder) throws {
        if var a = try? decoder.unkeyedContainer() {
            var items: [ConfigValue] = []
            while !a.isAtEnd { items.append(try a.decode(ConfigValue.self)) }
            self = .array(items)
            return
        }
        if let o = try? decoder.container(keyedBy: AnyKey.self) {
            var items: [String: ConfigValue] = [:]
            for key in o.allKeys { items[key.stringValue] = try o.decode(ConfigValue.self, forKey: key) }
            self = .object(items)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let u = try? c.decode(UInt64.self) { self = .uint(u) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    func encode(to encoder: Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .uint(let u): var c = encoder.singleValueContainer(); try c.encode(u)
        case .double(let d): var c = encoder.singleValueContainer(); try c.encode(d)
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .array(let a): var c = encoder.unkeyedContainer(); for v in a { try c.encode(v) }
        case .object(let o):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in o { try c.encode(v, forKey: AnyKey(k)) }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Parses JSON text.
    static func parse(_ text: String) throws -> ConfigValue {
        try JSONDecoder().decode(ConfigValue.self, from: Foundation.Data(text.utf8))
    }

    /// The JSON form of any Encodable value.
    static func encoding<T: Encodable>(_ value: T) throws -> ConfigValue {
        try JSONDecoder().decode(ConfigValue.self, from: JSONEncoder().encode(value))
    }

    /// Decodes a value of type T from this JSON.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(self))
    }

    /// `patch` merged over `self`: objects merge key by key, anything else is replaced.
    func merged(with patch: ConfigValue) -> ConfigValue {
        guard case .object(var base) = self, case .object(let top) = patch else { return patch }
        for (k, v) in top { base[k] = (base[k] ?? .object([:])).merged(with: v) }
        return .object(base)
    }

    /// `self` with `value` at `path` (creating objects on the way).
    func setting(_ path: ArraySlice<String>, to value: ConfigValue) -> ConfigValue {
        guard let head = path.first else { return value }
        var object: [String: ConfigValue] = [:]
        if case .object(let o) = self { object = o }
        object[head] = (object[head] ?? .object([:])).setting(path.dropFirst(), to: value)
        return .object(object)
    }

    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "true or false"
        case .int, .uint, .double: "a number"
        case .string: "a string"
        case .array: "a JSON list such as [30, 40]"
        case .object: "a group"
        }
    }
}

extension TrainConfig {
    /// Builds a config: the defaults, then each preset in order, then the JSON file `configFile` (if any), then
    /// each `key=value` of `overrides` in order; decodes and validates the result.
    /// Throws `TrainConfigError` naming the preset, file, key or value that is wrong.
    public static func resolve(presets: [String] = [], configFile: String? = nil,
                               overrides: [String] = []) throws -> TrainConfig {
        var patch = ConfigValue.object([:])
        for name in presets {
            guard let preset = presetPatches[name] else {
                throw TrainConfigError.unknownPreset(name: name, available: presetNames)
            }
            patch = patch.merged(with: preset)
        }
        if let path = configFile {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw TrainConfigError.unreadableFile(path: path, problem: "cannot be read (\(error.localizedDescription))")
            }
            let file: ConfigValue
            do { file = try ConfigValue.parse(text) } catch {
                throw TrainConfigError.unreadableFile(path: path, problem: "is not valid JSON")
            }
            guard case .object = file else {
                throw TrainConfigError.unreadableFile(path: path, problem: "must hold a JSON object of config keys")
            }
            try checkKeys(file, against: try schema(of: patch), prefix: [], origin: "config file \(path)")
            patch = patch.merged(with: file)
        }
        for text in overrides { patch = try applying(override: text, to: patch) }
        let config = try decodeReporting(patch)
        try config.validate()
        return config
    }

    /// Decodes a complete config as written by `jsonString()` (e.g. the resolved config of a run store), checking
    /// every key and validating it.
    public static func decode(json: String, origin: String = "stored config") throws -> TrainConfig {
        let value: ConfigValue
        do { value = try ConfigValue.parse(json) } catch {
            throw TrainConfigError.unreadableFile(path: origin, problem: "is not valid JSON")
        }
        try checkKeys(value, against: try schema(of: .object([:])), prefix: [], origin: origin)
        let config = try decodeReporting(value)
        try config.validate()
        return config
    }

    /// The config as JSON with sorted keys (stable bytes; `pretty` adds indentation). Every key is explicit.
    public func jsonString(pretty: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Every settable key as a dotted path, sorted (for help texts).
    public static var keyPaths: [String] {
        guard let schema = try? ConfigValue.encoding(TrainConfig()) else { return [] }
        var out: [String] = []
        func walk(_ v: ConfigValue, _ prefix: String) {
            if case .object(let o) = v {
                for (k, child) in o { walk(child, prefix.isEmpty ? k : "\(prefix).\(k)") }
            } else { out.append(prefix) }
        }
        walk(schema, "")
        return out.sorted()
    }

    /// Keys whose value is one of a fixed set of names.
    static let enumeratedKeys: [String: [String]] = [
        "mocoVersion": MoCoVersion.allCases.map(\.rawValue),
        "model.encoder": EncoderKind.allCases.map(\.rawValue),
        "model.head": HeadKind.allCases.map(\.rawValue),
        "momentumSchedule": MomentumSchedule.allCases.map(\.rawValue),
        "lrSchedule": LearningRateScheduleKind.allCases.map(\.rawValue),
        "augmentation.recipe": AugmentationRecipe.allCases.map(\.rawValue),
        "ft.positive": FeatureTransformOptions.PositiveMode.allCases.map(\.rawValue),
        "ft.negative": FeatureTransformOptions.NegativeMode.allCases.map(\.rawValue),
        "ft.distribution": FeatureTransformOptions.Distribution.allCases.map(\.rawValue),
        "ft.granularity": FeatureTransformOptions.Granularity.allCases.map(\.rawValue),
        "ft.renormalize": FeatureTransformOptions.Renormalization.allCases.map(\.rawValue),
        "ft.queueMode": FeatureTransformOptions.QueueMode.allCases.map(\.rawValue),
    ]

    /// The full JSON form of the config `patch` describes (every key present): the reference for key checks.
    static func schema(of patch: ConfigValue) throws -> ConfigValue {
        try ConfigValue.encoding(try decodeReporting(patch))
    }

    /// Applies one `key=value` override to `patch`.
    static func applying(override text: String, to patch: ConfigValue) throws -> ConfigValue {
        guard let equals = text.firstIndex(of: "=") else { throw TrainConfigError.malformedOverride(text) }
        let key = text[..<equals].trimmingCharacters(in: .whitespaces)
        let raw = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if key.isEmpty || path.contains("") { throw TrainConfigError.malformedOverride(text) }
        // Walk the full config to find what kind of value the key holds.
        var node = try schema(of: patch)
        for (depth, segment) in path.enumerated() {
            guard case .object(let children) = node else {
                throw TrainConfigError.unknownKey(key: key, origin: "--set", known: [])
            }
            guard let child = children[segment] else {
                let prefix = path[..<depth].joined(separator: ".")
                throw TrainConfigError.unknownKey(key: key, origin: "--set",
                                                  known: children.keys.sorted().map { prefix.isEmpty ? $0 : "\(prefix).\($0)" })
            }
            node = child
        }
        if case .object(let members) = node {
            throw TrainConfigError.groupKey(key: key, origin: "--set", members: members.keys.sorted())
        }
        let value = try parseValue(raw, key: key, like: node)
        return patch.setting(path[...], to: value)
    }

    /// Parses the text of an override for a key whose current value is `current`.
    static func parseValue(_ raw: String, key: String, like current: ConfigValue) throws -> ConfigValue {
        func bad(_ expected: String) -> TrainConfigError { .badValue(key: key, value: raw, expected: expected) }
        switch current {
        case .bool:
            switch raw.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw bad("true or false")
            }
        case .int, .uint, .double:
            if let i = Int64(raw) { return .int(i) }
            if let u = UInt64(raw) { return .uint(u) }
            if let d = Double(raw), d.isFinite { return .double(d) }
            throw bad("a number")
        case .string:
            var text = raw
            if text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\""), case .string(let s)? = try? ConfigValue.parse(text) {
                text = s
            }
            if let allowed = enumeratedKeys[key], !allowed.contains(text) {
                throw bad("one of \(allowed.joined(separator: ", "))")
            }
            return .string(text)
        case .array:
            let text = raw.hasPrefix("[") ? raw : "[\(raw)]"
            guard let value = try? ConfigValue.parse(text), case .array = value else {
                throw bad("a list such as [30, 40] or 30,40")
            }
            return value
        case .null, .object:
            guard let value = try? ConfigValue.parse(raw) else { throw bad("a JSON value") }
            return value
        }
    }

    /// Checks that every key of `value` exists in `schema` (recursively), naming the first unknown one.
    static func checkKeys(_ value: ConfigValue, against schema: ConfigValue, prefix: [String], origin: String) throws {
        guard case .object(let items) = value else { return }
        guard case .object(let known) = schema else {
            throw TrainConfigError.unknownKey(key: prefix.joined(separator: "."), origin: origin, known: [])
        }
        for (k, v) in items.sorted(by: { $0.key < $1.key }) {
            let path = prefix + [k]
            guard let child = known[k] else {
                let p = prefix.joined(separator: ".")
                throw TrainConfigError.unknownKey(key: path.joined(separator: "."), origin: origin,
                                                  known: known.keys.sorted().map { p.isEmpty ? $0 : "\(p).\($0)" })
            }
            if case .object = child {
                try checkKeys(v, against: child, prefix: path, origin: origin)
            }
        }
    }

    /// The first leaf (dotted key, JSON text) of `patch` that fails to decode on its own.
    static func firstFailingLeaf(of patch: ConfigValue) -> (key: String, value: String)? {
        var leaves: [([String], ConfigValue)] = []
        func walk(_ v: ConfigValue, _ path: [String]) {
            if case .object(let o) = v { for (k, child) in o.sorted(by: { $0.key < $1.key }) { walk(child, path + [k]) } }
            else { leaves.append((path, v)) }
        }
        walk(patch, [])
        for (path, leaf) in leaves {
            let alone = ConfigValue.object([:]).setting(path[...], to: leaf)
            if (try? alone.decode(TrainConfig.self)) == nil {
                let text = (try? String(decoding: JSONEncoder().encode(leaf), as: UTF8.self)) ?? "?"
                return (path.joined(separator: "."), text)
            }
        }
        return nil
    }

    /// Decodes a patch, turning Swift's decoding errors into messages that name the key.
    static func decodeReporting(_ patch: ConfigValue) throws -> TrainConfig {
        do {
            return try patch.decode(TrainConfig.self)
        } catch let error as DecodingError {
            let (path, detail): ([CodingKey], String)
            switch error {
            case let .typeMismatch(type, context): (path, detail) = (context.codingPath, "a value of type \(type)")
            case let .valueNotFound(type, context): (path, detail) = (context.codingPath, "a value of type \(type)")
            case let .keyNotFound(key, context): (path, detail) = (context.codingPath + [key], "this key to be present")
            case let .dataCorrupted(context): (path, detail) = (context.codingPath, context.debugDescription)
            @unknown default: (path, detail) = ([], "\(error)")
            }
            if path.isEmpty, let culprit = firstFailingLeaf(of: patch) {
                // Foundation reports numbers that do not fit the key's type (12.5 for an Int, −1 for the seed)
                // without a coding path: find the key by decoding each leaf alone.
                throw TrainConfigError.badValue(key: culprit.key, value: culprit.value,
                                                expected: "a whole number within the key's range (counts and the seed are ≥ 0)")
            }
            let key = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            var value = patch
            for k in path {
                if case .object(let o) = value, let v = o[k.stringValue] { value = v }
                else if case .array(let a) = value, let i = k.intValue, i < a.count { value = a[i] }
            }
            let shown: String
            switch value {
            case .string(let s): shown = s
            default: shown = (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "?"
            }
            if let allowed = enumeratedKeys[key] {
                throw TrainConfigError.badValue(key: key, value: shown, expected: "one of \(allowed.joined(separator: ", "))")
            }
            throw TrainConfigError.badValue(key: key, value: shown, expected: detail.lowercased().hasPrefix("a ") ? detail : "\(detail)")
        }
    }
}
