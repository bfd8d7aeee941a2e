// Reading a data file whole, gunzipping it through zlib when it is gzip-compressed.
//
// zlib's gzread silently passes non-gzip files through and its end-of-file handling varies between versions, so
// this drives `inflate` directly: a file named `.gz` must start with the gzip magic, a stream that stops before
// its end marker is "truncated", and zlib's CRC-32/length check of the trailer catches damaged data.
// Deliberately not here: streaming (every data file we read fits in memory), writing gzip.
import CZlib
import Foundation

/// The bytes of the file at `path`, decompressed when it is gzip (detected by its magic bytes, whatever its name).
/// Throws `missingFile`, `unreadableFile`, `notGzip` (a `.gz` name without the magic), `truncatedGzip`,
/// `corruptGzip`.
func readDataFile(_ path: String) throws -> [UInt8] {
    let bytes = try readWholeFile(path)
    if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B {
        return try gunzip(bytes, path: path)
    }
    if path.hasSuffix(".gz") { throw DataError.notGzip(path: path) }
    return bytes
}

/// The raw bytes of the file at `path`. Throws `missingFile` or `unreadableFile` (a folder, no permission, ...).
func readWholeFile(_ path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        throw DataError.missingFile(path: path)
    }
    if isDirectory.boolValue { throw DataError.unreadableFile(path: path, problem: "it is a folder, not a file") }
    do {
        return [UInt8](try Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
        throw DataError.unreadableFile(path: path, problem: error.localizedDescription)
    }
}

/// Decompresses a complete gzip file held in memory (one or more concatenated members, as `gzip -d` accepts).
/// `path` only names the file in errors.
func gunzip(_ input: [UInt8], path: String) throws -> [UInt8] {
    if input.count > Int(UInt32.max) {
        throw DataError.unreadableFile(path: path, problem: "gzip files over 4 GiB are not supported")
    }
    var stream = z_stream()
    // windowBits 15 + 16: a gzip (not zlib) wrapper, with its CRC-32 and length checked by inflate.
    let started = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    if started != Z_OK { throw DataError.corruptGzip(path: path, problem: "zlib could not start (status \(started))") }
    defer { inflateEnd(&stream) }

    // The trailer's ISIZE (length mod 2^32) is a good capacity hint.
    var output: [UInt8] = []
    if input.count >= 18 {
        let n = input.count
        let size = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
        output.reserveCapacity(min(size, 1 << 30))
    }
    var chunk = [UInt8](repeating: 0, count: 1 << 20)

    try input.withUnsafeBufferPointer { inputBuffer in
        guard let inputBase = inputBuffer.baseAddress else { throw DataError.truncatedGzip(path: path) }
        stream.next_in = UnsafeMutablePointer(mutating: inputBase)
        stream.avail_in = UInt32(inputBuffer.count)
        while true {
            let status: Int32 = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                stream.next_out = chunkBuffer.baseAddress
                stream.avail_out = UInt32(chunkBuffer.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            let produced = chunk.count - Int(stream.avail_out)
            if produced > 0 { output.append(contentsOf: chunk[0..<produced]) }
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                let remaining = Int(stream.avail_in)
                if remaining == 0 { return }
                let next = inputBuffer.count - remaining
                if remaining >= 2 && inputBuffer[next] == 0x1F && inputBuffer[next + 1] == 0x8B {
                    inflateReset(&stream)  // another gzip member follows
                    continue
                }
                throw DataError.corruptGzip(path: path,
                                            problem: "\(remaining) bytes of trailing data after the gzip stream")
            case Z_BUF_ERROR where stream.avail_in == 0:
                throw DataError.truncatedGzip(path: path)
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw DataError.corruptGzip(path: path, problem: message)
            }
        }
    }
    return output
}
