// ConfigValues: a run's resolved training config (the JSON object in `meta.config`) flattened to dotted key
// paths ("momentum", "ft.positive", "optimizer.lr"), read generically so that the analysis does not depend on
// the exact shape of TrainConfig. Arrays are kept whole, as their compact JSON text.
// Deliberately not here: validating the config or knowing what any key means, beyond the names of keys to
// ignore when grouping (`SweepAnalysis`).
import Foundation

/// One config value.
public enum ConfigValue: Codable, Hashable, Sendable, Comparable, CustomStringConvertible {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null

    /// The text shown in tables and group labels: numbers in shortest round-trip form without a trailing ".0".
    public var description: String {
        switch self {
        case .number(let v):
            if v.rounded() == v, abs(v) < 1e15 { return String(Int64(v)) }
            return "\(v)"
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }

    /// The number, if this is one.
    public var number: Double? {
        if case .number(let v) = self { return v }
        return nil
    }

    /// Numbers order numerically and before strings; strings lexicographically; then bools, then null.
    public static func < (a: ConfigValue, b: ConfigValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x < y
        case (.string(let x), .string(let y)): return x < y
        case (.bool(let x), .bool(let y)): return !x && y
        default: return a.rank < b.rank
        }
    }

    private var rank: Int {
        switch self {
        case .number: return 0
        case .string: return 1
        case .bool: return 2
        case .null: return 3
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let v): try c.encode(v)
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .null: try c.encodeNil()
        }
    }
}

/// Any JSON value, for walking a config of unknown shape.
indirect enum JSONValue: Decodable {
    case object([String: JSONValue])
    case array([JSONValue])
    case scalar(ConfigValue)

    init(from decoder: any Decoder) throws {
        if let object = try? [String: JSONValue](from: decoder) { self = .object(object); return }
        if let array = try? [JSONValue](from: decoder) { self = .array(array); return }
        self = .scalar(try ConfigValue(from: decoder))
    }

    /// Compact JSON text (keys sorted) of this value.
    var text: String {
        switch self {
        case .object(let o):
            return "{" + o.keys.sorted().map { "\"\($0)\":\(o[$0]!.text)" }.joined(separator: ",") + "}"
        case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
        case .scalar(.string(let s)): return "\"\(s)\""
        case .scalar(let v): return v.description
        }
    }
}

/// A flattened config: dotted key path → value.
public struct ConfigValues: Codable, Hashable, Sendable {
    /// Dotted key path → value. Arrays are strings holding their compact JSON.
    public var values: [String: ConfigValue]

    /// An empty config.
    public init() { values = [:] }

    /// Flattens the JSON object `json`; throws `AnalysisError.badConfig` when it is not a JSON object.
    public init(json: String) throws {
        guard let root = try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), case .object = root else {
            throw AnalysisError.badConfig("the config is not a JSON object")
        }
        values = [:]
        flatten(root, prefix: "")
    }

    private mutating func flatten(_ value: JSONValue, prefix: String) {
        switch value {
        case .object(let object):
            for (key, child) in object { flatten(child, prefix: prefix.isEmpty ? key : prefix + "." + key) }
        case .array:
            values[prefix] = .string(value.text)
        case .scalar(let scalar):
            values[prefix] = scalar
        }
    }

    /// The value at a dotted key path, or nil.
    public subscript(_ key: String) -> ConfigValue? { values[key] }

    /// All key paths, sorted.
    public var keys: [String] { values.keys.sorted() }
}
