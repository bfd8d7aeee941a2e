// Test support: temporary folders and writers for the small data files the tests generate (IDX raw and gzipped,
// CIFAR records, PNG files of every colour type through a tiny encoder that can also produce broken files).
import CZlib
import Foundation
@testable import Data

/// A fresh empty folder under the system temporary folder; removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "scorescope-data-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Creates `name` (and parents) as a folder and returns its path.
    @discardableResult
    func folder(_ name: String) throws -> String {
        let folder = file(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Foundation.Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// gzip-compresses `bytes` (a real gzip member, as `gzip` writes it).
func gzipBytes(_ bytes: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    _ = deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                      Int32(MemoryLayout<z_stream>.size))
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
    var input = bytes
    let produced: Int = input.withUnsafeMutableBufferPointer { source in
        output.withUnsafeMutableBufferPointer { destination in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            stream.next_out = destination.baseAddress
            stream.avail_out = UInt32(destination.count)
            _ = deflate(&stream, Z_FINISH)
            return destination.count - Int(stream.avail_out)
        }
    }
    return Array(output[0..<produced])
}

/// An IDX file of unsigned bytes: magic 0x0000_08DD, big-endian sizes, then `data`.
func idxBytes(sizes: [Int], data: [UInt8], magic: UInt32? = nil) -> [UInt8] {
    var bytes: [UInt8] = []
    func append32(_ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
    append32(magic ?? (0x0000_0800 | UInt32(sizes.count)))
    for size in sizes { append32(UInt32(size)) }
    return bytes + data
}

/// Writes an MNIST-layout split (`prefix` "train" or "t10k") of `count` images of height×width into `folder`.
/// Pixel j of image i is (i·31 + j·7) mod 256; label i is labels[i]. Returns the pixel bytes.
@discardableResult
func writeIDXSplit(folder: String, prefix: String, count: Int, height: Int, width: Int, labels: [UInt8],
                   gzip: Bool) throws -> [UInt8] {
    let pixels = (0..<(count * height * width)).map { k -> UInt8 in
        let i = k / (height * width), j = k % (height * width)
        return UInt8((i * 31 + j * 7) % 256)
    }
    let images = idxBytes(sizes: [count, height, width], data: pixels)
    let labelFile = idxBytes(sizes: [labels.count], data: labels)
    let suffix = gzip ? ".gz" : ""
    try writeBytes(gzip ? gzipBytes(images) : images, to: folder + "/\(prefix)-images-idx3-ubyte" + suffix)
    try writeBytes(gzip ? gzipBytes(labelFile) : labelFile, to: folder + "/\(prefix)-labels-idx1-ubyte" + suffix)
    return pixels
}

/// CIFAR records: for each item its label bytes then 3072 pixel bytes (pixel j of record i is (i·13 + j) mod 256).
func cifarRecords(labels: [[UInt8]], firstItem: Int = 0) -> [UInt8] {
    var bytes: [UInt8] = []
    for (i, label) in labels.enumerated() {
        bytes += label
        bytes += (0..<3072).map { UInt8(((firstItem + i) * 13 + $0) % 256) }
    }
    return bytes
}

// MARK: - A tiny PNG encoder (zlib + CRC-32), for every colour type and for broken files.

/// PNG colour types.
enum PNGColourType: UInt8 {
    case grey = 0, rgb = 2, palette = 3, greyAlpha = 4, rgba = 6

    var samplesPerPixel: Int {
        switch self {
        case .grey, .palette: return 1
        case .greyAlpha: return 2
        case .rgb: return 3
        case .rgba: return 4
        }
    }
}

/// A PNG chunk: length, type, data, CRC-32 of type + data.
func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let typeBytes = Array(type.utf8)
    let body = typeBytes + data
    let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
    return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
}

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
}

/// A PNG file of `samples` (row-major, `colourType.samplesPerPixel` samples per pixel, each < 2^bitDepth), with
/// optional palette (RGB triples), tRNS and gAMA chunks.
func encodePNG(
    width: Int, height: Int, colourType: PNGColourType, bitDepth: Int, samples: [Int],
    palette: [UInt8]? = nil, transparency: [UInt8]? = nil, gamma: UInt32? = nil
) -> [UInt8] {
    precondition(samples.count == width * height * colourType.samplesPerPixel)
    var raw: [UInt8] = []
    let perRow = width * colourType.samplesPerPixel
    for y in 0..<height {
        raw.append(0)  // filter: none
        let row = samples[(y * perRow)..<((y + 1) * perRow)]
        if bitDepth == 16 {
            for s in row { raw += [UInt8(s >> 8), UInt8(s & 0xFF)] }
        } else if bitDepth == 8 {
            for s in row { raw.append(UInt8(s)) }
        } else {  // 1, 2, 4 bits: packed from the most significant bit
            var byte = 0, used = 0
            for s in row {
                byte = (byte << bitDepth) | s
                used += bitDepth
                if used == 8 { raw.append(UInt8(byte)); byte = 0; used = 0 }
            }
            if used > 0 { raw.append(UInt8(byte << (8 - used))) }
        }
    }
    var compressedSize = compressBound(UInt(raw.count))
    var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
    _ = compress2(&compressed, &compressedSize, raw, UInt(raw.count), 6)
    compressed = Array(compressed[0..<Int(compressedSize)])

    var file = pngSignature
    file += pngChunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        + [UInt8(bitDepth), colourType.rawValue, 0, 0, 0])
    if let gamma { file += pngChunk("gAMA", bigEndian(gamma)) }
    if let palette { file += pngChunk("PLTE", palette) }
    if let transparency { file += pngChunk("tRNS", transparency) }
    file += pngChunk("IDAT", compressed)
    file += pngChunk("IEND", [])
    return file
}

/// Writes an 8-bit grey PNG of a constant `value`.
func writeGreyPNG(_ path: String, width: Int, height: Int, value: Int) throws {
    try writeBytes(encodePNG(width: width, height: height, colourType: .grey, bitDepth: 8,
                             samples: [Int](repeating: value, count: width * height)), to: path)
}

/// Relative/absolute closeness for floats: |a − b| ≤ tolerance · max(1, |a|, |b|).
func close(_ a: Double, _ b: Double, tolerance: Double) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}

/// The largest absolute difference between two equal-length float arrays.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Expects `body` to throw exactly `expected`.
func throwsError(_ expected: DataError, _ body: () throws -> Void) -> Bool {
    do {
        try body()
        return false
    } catch let error as DataError {
        return error == expected
    } catch {
        return false
    }
}

/// The DataError `body` throws (nil when it throws nothing or something else).
func dataError(_ body: () throws -> Void) -> DataError? {
    do {
        try body()
        return nil
    } catch let error as DataError {
        return error
    } catch {
        return nil
    }
}

/// The floats `cifarRecords` stores for item `item`.
func expectedCIFARPixels(item: Int) -> [Float] {
    var pixels = [Float](repeating: 0, count: 3072)
    for j in 0..<3072 { pixels[j] = Float((item * 13 + j) % 256) / 255 }
    return pixels
}
