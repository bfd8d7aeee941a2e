// PNG reading and writing through libpng's simplified API (png_image_*), so libpng errors never longjmp through
// Swift frames: libpng catches them itself and returns 0 with a message in `png_image.message`.
//
// Reading: grey, grey+alpha, RGB, RGBA and palette images of any bit depth come out as 8-bit grey or RGB
// (libpng's transforms expand palettes and low bit depths, replicate grey into RGB when asked, and reduce 16-bit
// samples to 8 bits: with PNG_IMAGE_FLAG_16BIT_sRGB a 16-bit file without gamma chunk is taken as sRGB-encoded, so
// its values are scaled, not gamma-converted). Alpha is dropped (the colour values are kept, as torchvision's
// `convert("RGB")` does). A file whose gAMA chunk declares a non-sRGB gamma is converted to sRGB by libpng.
// Writing: 8-bit grey or RGB (for `data preview`).
// Deliberately not here: 16-bit output, interlacing choices, metadata chunks.
import CPNG
import Foundation

/// What a PNG header says, before decoding.
struct PNGHeader: Equatable {
    let width: Int
    let height: Int
    /// Colour (RGB or colour palette) rather than grey.
    let isColour: Bool
}

/// The 8 bytes every PNG file starts with.
let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

/// True when the file at `path` starts with the PNG signature (false when it cannot be read).
func hasPNGSignature(_ path: String) -> Bool {
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    guard let head = try? handle.read(upToCount: 8) else { return false }
    return [UInt8](head) == pngSignature
}

/// The text of a png_image's message buffer.
private func message(of image: png_image) -> String {
    withUnsafeBytes(of: image.message) { raw in
        let bytes = raw.prefix { $0 != 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.isEmpty ? "unknown libpng error" : text
    }
}

/// A fresh png_image for the simplified API.
private func newImage() -> png_image {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    return image
}

/// Reads the header of the PNG at `path`. Throws `notPNG` (no PNG signature) or `corruptPNG`.
func readPNGHeader(_ path: String) throws -> PNGHeader {
    if !hasPNGSignature(path) { throw DataError.notPNG(path: path) }
    var image = newImage()
    if png_image_begin_read_from_file(&image, path) == 0 {
        let problem = message(of: image)
        png_image_free(&image)
        throw DataError.corruptPNG(path: path, problem: problem)
    }
    defer { png_image_free(&image) }
    return PNGHeader(width: Int(image.width), height: Int(image.height),
                     isColour: image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0)
}

/// Decodes the PNG at `path` to 8-bit samples with `channels` (1 grey or 3 RGB) per pixel, interleaved, rows top
/// down. Alpha is dropped; grey is replicated when `channels` is 3; colour is reduced to luma when it is 1.
func readPNG(_ path: String, channels: Int) throws -> (pixels: [UInt8], width: Int, height: Int) {
    if !hasPNGSignature(path) { throw DataError.notPNG(path: path) }
    var image = newImage()
    if png_image_begin_read_from_file(&image, path) == 0 {
        let problem = message(of: image)
        png_image_free(&image)
        throw DataError.corruptPNG(path: path, problem: problem)
    }
    // Decode with alpha so libpng never composites (it would blend colour into a background); drop it after.
    image.format = channels == 3 ? UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
                                 : UInt32(PNG_FORMAT_FLAG_ALPHA)
    image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
    let width = Int(image.width), height = Int(image.height)
    let stride = channels + 1
    // Refuse absurd headers before allocating for them (8192×8192 is far beyond any training image).
    if width <= 0 || height <= 0 || width * height > 1 << 26 {
        png_image_free(&image)
        throw DataError.corruptPNG(path: path, problem: "image size \(width)×\(height) is over the limit of 2^26 pixels")
    }
    var decoded = [UInt8](repeating: 0, count: width * height * stride)
    let finished = decoded.withUnsafeMutableBytes { buffer in
        png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width * stride), nil)
    }
    if finished == 0 {
        let problem = message(of: image)
        png_image_free(&image)
        throw DataError.corruptPNG(path: path, problem: problem)
    }
    png_image_free(&image)
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    for pixel in 0..<(width * height) {
        for channel in 0..<channels { pixels[pixel * channels + channel] = decoded[pixel * stride + channel] }
    }
    return (pixels, width, height)
}

/// Writes 8-bit grey (`channels` 1) or RGB (`channels` 3) pixels, interleaved, rows top down, as a PNG file.
/// Throws `writeFailed` with libpng's message, or for a pixel count that does not match the shape.
public func writePNG(path: String, pixels: [UInt8], width: Int, height: Int, channels: Int) throws {
    if channels != 1 && channels != 3 {
        throw DataError.writeFailed(path: path, problem: "PNG output needs 1 or 3 channels, got \(channels)")
    }
    if width <= 0 || height <= 0 || pixels.count != width * height * channels {
        throw DataError.writeFailed(path: path, problem: "\(pixels.count) bytes do not make a "
            + "\(width)×\(height) image of \(channels) channels")
    }
    var image = newImage()
    image.width = UInt32(width)
    image.height = UInt32(height)
    image.format = channels == 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0
    let written = pixels.withUnsafeBytes { buffer in
        png_image_write_to_file(&image, path, 0, buffer.baseAddress, Int32(width * channels), nil)
    }
    if written == 0 {
        let problem = message(of: image)
        png_image_free(&image)
        throw DataError.writeFailed(path: path, problem: problem)
    }
}
