// Binary serialisation for checkpoints: a little-endian byte stream with a header (magic, format name,
// format version), typed values, tagged sections, and errors that say what is wrong with which file.
// Layout: "SCORESCP" (8 bytes) | format name (String) | version (UInt64) | values...
//   UInt64/Int64/Double/Float: little-endian bit patterns; Bool: one byte; String: UInt64 byte count + UTF-8;
//   [Float]: UInt64 count + floats; Tensor: UInt64 rank, UInt64 dims, then the floats; [Tensor]: count + tensors.
// Deliberately not here: compression, checksums, random access.
import Foundation

/// Errors of the NN module: files and formats, and invalid specs.
public enum NNError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case truncated(source: String, offset: Int, needed: Int, available: Int)
    case foreignFile(source: String)
    case formatMismatch(source: String, expected: String, found: String)
    case unsupportedVersion(source: String, format: String, found: Int, supported: ClosedRange<Int>)
    case unexpectedSection(source: String, offset: Int, expected: String, found: String)
    case shapeMismatch(source: String, name: String, expected: [Int], found: [Int])
    case corrupt(source: String, offset: Int, detail: String)
    case trailingBytes(source: String, count: Int)
    case fileSystem(path: String, detail: String)
    case invalidSpec(String)

    public var description: String {
        switch self {
        case let .truncated(source, offset, needed, available):
            "\(source): file is truncated at byte \(offset): needed \(needed) more bytes, only \(available) left"
        case let .foreignFile(source):
            "\(source): not a scorescope binary file (the header magic \"SCORESCP\" is missing)"
        case let .formatMismatch(source, expected, found):
            "\(source): holds a \"\(found)\" file, expected \"\(expected)\""
        case let .unsupportedVersion(source, format, found, supported):
            "\(source): \"\(format)\" format version \(found) is not supported (this build reads \(supported.lowerBound)...\(supported.upperBound))"
        case let .unexpectedSection(source, offset, expected, found):
            "\(source): expected section \"\(expected)\" at byte \(offset), found \"\(found)\""
        case let .shapeMismatch(source, name, expected, found):
            "\(source): \(name) has shape \(found), the model needs \(expected)"
        case let .corrupt(source, offset, detail):
            "\(source): corrupt data at byte \(offset): \(detail)"
        case let .trailingBytes(source, count):
            "\(source): \(count) unexpected bytes after the end of the data"
        case let .fileSystem(path, detail):
            "\(path): \(detail)"
        case let .invalidSpec(detail):
            "invalid model spec: \(detail)"
        }
    }

    public var errorDescription: String? { description }
}

/// Appends typed values to a byte buffer, after a header.
public struct BinaryWriter: Sendable {
    /// The 8 bytes every scorescope binary file starts with.
    public static let magic: [UInt8] = Array("SCORESCP".utf8)

    public private(set) var bytes: [UInt8]

    /// Starts a file of kind `format` (e.g. "checkpoint") at format `version`.
    public init(format: String, version: Int) {
        bytes = Self.magic
        append(format)
        append(UInt64(version))
    }

    public mutating func append(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ value: Int) { append(UInt64(bitPattern: Int64(value))) }

    public mutating func append(_ value: Double) { append(value.bitPattern) }

    public mutating func append(_ value: Float) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func append(_ value: String) {
        let utf8 = Array(value.utf8)
        append(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    public mutating func append(_ values: [Float]) {
        append(UInt64(values.count))
        appendLittleEndian(values, to: &bytes)
    }

    public mutating func append(_ values: [Double]) {
        append(UInt64(values.count))
        for v in values { append(v) }
    }

    public mutating func append(_ values: [UInt64]) {
        append(UInt64(values.count))
        for v in values { append(v) }
    }

    public mutating func append(_ tensor: Tensor) {
        append(UInt64(tensor.shape.count))
        for d in tensor.shape { append(UInt64(d)) }
        append(tensor.storage)
    }

    public mutating func append(_ tensors: [Tensor]) {
        append(UInt64(tensors.count))
        for t in tensors { append(t) }
    }

    /// Marks the start of a named section; `BinaryReader.expectSection` checks it.
    public mutating func beginSection(_ name: String) { append("§" + name) }

    /// Writes the bytes to `path` atomically (a temporary file in the same directory, then a rename).
    public func write(toFile path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw NNError.fileSystem(path: path, detail: "cannot write: \(error.localizedDescription)")
        }
    }
}

/// Reads typed values back, checking the header and every length against the bytes that are left.
public struct BinaryReader: Sendable {
    public let bytes: [UInt8]
    /// Where the bytes came from (a path or "<memory>"), for error messages.
    public let source: String
    public private(set) var format: String
    public private(set) var version: Int
    public private(set) var offset: Int

    /// Checks the magic, that the format is `format` and that its version lies in `supportedVersions`.
    public init(bytes: [UInt8], format expected: String, supportedVersions: ClosedRange<Int>,
                source: String = "<memory>") throws {
        self.bytes = bytes; self.source = source; offset = 0
        format = ""; version = 0
        if bytes.count < BinaryWriter.magic.count || Array(bytes[0..<BinaryWriter.magic.count]) != BinaryWriter.magic {
            throw NNError.foreignFile(source: source)
        }
        offset = BinaryWriter.magic.count
        let found = try readString()
        if found != expected { throw NNError.formatMismatch(source: source, expected: expected, found: found) }
        let v = try readUInt64()
        if v > UInt64(Int.max) || !supportedVersions.contains(Int(v)) {
            throw NNError.unsupportedVersion(source: source, format: found, found: Int(clamping: v),
                                             supported: supportedVersions)
        }
        format = found; version = Int(v)
    }

    /// Reads the file at `path` (see `init(bytes:format:supportedVersions:source:)`).
    public init(contentsOfFile path: String, format: String, supportedVersions: ClosedRange<Int>) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw NNError.fileSystem(path: path, detail: "cannot read: \(error.localizedDescription)")
        }
        try self.init(bytes: [UInt8](data), format: format, supportedVersions: supportedVersions, source: path)
    }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int) throws -> Range<Int> {
        if count < 0 || count > remaining {
            throw NNError.truncated(source: source, offset: offset, needed: count, available: remaining)
        }
        defer { offset += count }
        return offset..<(offset + count)
    }

    public mutating func readUInt64() throws -> UInt64 {
        let r = try take(8)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[r.lowerBound + i]) << (8 * UInt64(i)) }
        return v
    }

    public mutating func readInt() throws -> Int { Int(Int64(bitPattern: try readUInt64())) }

    public mutating func readDouble() throws -> Double { Double(bitPattern: try readUInt64()) }

    public mutating func readFloat() throws -> Float {
        let r = try take(4)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[r.lowerBound + i]) << (8 * UInt32(i)) }
        return Float(bitPattern: v)
    }

    public mutating func readBool() throws -> Bool {
        let at = offset
        let r = try take(1)
        switch bytes[r.lowerBound] {
        case 0: return false
        case 1: return true
        case let b: throw NNError.corrupt(source: source, offset: at, detail: "byte \(b) is not a Bool")
        }
    }

    /// A count that must fit in the bytes left at `elementSize` bytes per element.
    private mutating func readCount(elementSize: Int) throws -> Int {
        let at = offset
        let n = try readUInt64()
        if n > UInt64(remaining / max(1, elementSize)) {
            throw NNError.truncated(source: source, offset: at,
                                    needed: Int(clamping: n.multipliedReportingOverflow(by: UInt64(elementSize)).partialValue),
                                    available: remaining)
        }
        return Int(n)
    }

    public mutating func readString() throws -> String {
        let at = offset
        let n = try readCount(elementSize: 1)
        let r = try take(n)
        guard let s = String(validating: bytes[r], as: UTF8.self) else {
            throw NNError.corrupt(source: source, offset: at, detail: "string is not valid UTF-8")
        }
        return s
    }

    public mutating func readFloats() throws -> [Float] {
        let n = try readCount(elementSize: 4)
        let r = try take(4 * n)
        return floatsFromLittleEndian(bytes[r])
    }

    public mutating func readDoubles() throws -> [Double] {
        let n = try readCount(elementSize: 8)
        return try (0..<n).map { _ in try readDouble() }
    }

    public mutating func readUInt64s() throws -> [UInt64] {
        let n = try readCount(elementSize: 8)
        return try (0..<n).map { _ in try readUInt64() }
    }

    public mutating func readTensor() throws -> Tensor {
        let at = offset
        let rank = try readCount(elementSize: 8)
        var shape: [Int] = []
        var product: UInt64 = 1
        for _ in 0..<rank {
            let d = try readUInt64()
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow || d > UInt64(Int32.max) {
                throw NNError.corrupt(source: source, offset: at, detail: "tensor dimension \(d) is implausible")
            }
            product = p
            shape.append(Int(d))
        }
        let countAt = offset
        let storage = try readFloats()
        if UInt64(storage.count) != product {
            throw NNError.corrupt(source: source, offset: countAt,
                                  detail: "tensor of shape \(shape) holds \(storage.count) elements")
        }
        return Tensor(shape: shape, storage: storage)
    }

    public mutating func readTensors() throws -> [Tensor] {
        let n = try readCount(elementSize: 16)
        return try (0..<n).map { _ in try readTensor() }
    }

    /// Checks that a section named `name` starts here.
    public mutating func expectSection(_ name: String) throws {
        let at = offset
        let found = try readString()
        if found != "§" + name {
            throw NNError.unexpectedSection(source: source, offset: at, expected: name,
                                            found: found.hasPrefix("§") ? String(found.dropFirst()) : found)
        }
    }

    /// Throws `trailingBytes` unless everything was read.
    public func expectEnd() throws {
        if remaining != 0 { throw NNError.trailingBytes(source: source, count: remaining) }
    }
}
