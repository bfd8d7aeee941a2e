// PNG decoding through libpng's simplified API: every colour type and bit depth comes out as the 8-bit values a
// user expects (alpha dropped, palettes expanded, 16-bit scaled), and broken files are errors, never traps.
import Foundation
import Testing
@testable import Data

/// Writes `png` to a temporary file and decodes it with `channels` output channels.
private func decode(_ png: [UInt8], channels: Int) throws -> [UInt8] {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try writeBytes(png, to: folder.file("image.png"))
    let decoded = try readPNG(folder.file("image.png"), channels: channels)
    return decoded.pixels
}

/// 16-bit → 8-bit as libpng scales it: round(v · 255 / 65535).
private func scaled16(_ v: Int) -> UInt8 { UInt8((Double(v) * 255 / 65535).rounded()) }

@Test func greyImagesOfEveryBitDepthDecode() throws {
    // 2×2 images; samples use the full range of their depth.
    #expect(try decode(encodePNG(width: 2, height: 2, colourType: .grey, bitDepth: 8, samples: [0, 77, 200, 255]),
                       channels: 1) == [0, 77, 200, 255])
    #expect(try decode(encodePNG(width: 2, height: 2, colourType: .grey, bitDepth: 1, samples: [0, 1, 1, 0]),
                       channels: 1) == [0, 255, 255, 0])
    #expect(try decode(encodePNG(width: 2, height: 2, colourType: .grey, bitDepth: 2, samples: [0, 1, 2, 3]),
                       channels: 1) == [0, 85, 170, 255])
    #expect(try decode(encodePNG(width: 2, height: 2, colourType: .grey, bitDepth: 4, samples: [0, 5, 10, 15]),
                       channels: 1) == [0, 85, 170, 255])
    let wide = [0, 1000, 40000, 65535]
    #expect(try decode(encodePNG(width: 2, height: 2, colourType: .grey, bitDepth: 16, samples: wide),
                       channels: 1) == wide.map(scaled16))
}

@Test func alphaIsDroppedNotComposited() throws {
    let greyAlpha = encodePNG(width: 2, height: 1, colourType: .greyAlpha, bitDepth: 8, samples: [100, 0, 200, 128])
    #expect(try decode(greyAlpha, channels: 1) == [100, 200])
    let rgba = encodePNG(width: 2, height: 1, colourType: .rgba, bitDepth: 8,
                         samples: [10, 20, 30, 255, 200, 150, 100, 64])
    #expect(try decode(rgba, channels: 3) == [10, 20, 30, 200, 150, 100])
    let rgba16 = encodePNG(width: 1, height: 1, colourType: .rgba, bitDepth: 16, samples: [65535, 32768, 0, 40000])
    #expect(try decode(rgba16, channels: 3) == [255, 128, 0])
    // tRNS on a grey image marks one value transparent; the value itself is kept.
    let keyed = encodePNG(width: 2, height: 1, colourType: .grey, bitDepth: 8, samples: [50, 60], transparency: [0, 50])
    #expect(try decode(keyed, channels: 1) == [50, 60])
}

@Test func colourAndPaletteImagesDecode() throws {
    let rgb = encodePNG(width: 2, height: 1, colourType: .rgb, bitDepth: 8, samples: [1, 2, 3, 250, 128, 0])
    #expect(try decode(rgb, channels: 3) == [1, 2, 3, 250, 128, 0])
    let rgb16 = encodePNG(width: 1, height: 1, colourType: .rgb, bitDepth: 16, samples: [65535, 257 * 100, 300])
    #expect(try decode(rgb16, channels: 3) == [255, 100, scaled16(300)])
    let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 10, 20, 30]
    let indexed = encodePNG(width: 3, height: 1, colourType: .palette, bitDepth: 8, samples: [2, 0, 1],
                            palette: palette, transparency: [255, 0])
    #expect(try decode(indexed, channels: 3) == [10, 20, 30, 255, 0, 0, 0, 255, 0])
    let indexed4 = encodePNG(width: 3, height: 1, colourType: .palette, bitDepth: 4, samples: [1, 2, 0], palette: palette)
    #expect(try decode(indexed4, channels: 3) == [0, 255, 0, 10, 20, 30, 255, 0, 0])
    // Grey replicated into RGB when the dataset is colour.
    let grey = encodePNG(width: 1, height: 1, colourType: .grey, bitDepth: 8, samples: [123])
    #expect(try decode(grey, channels: 3) == [123, 123, 123])
    // An sRGB-like gAMA chunk (1/2.2) leaves 8-bit values alone.
    let gammaTagged = encodePNG(width: 2, height: 1, colourType: .grey, bitDepth: 8, samples: [30, 220], gamma: 45455)
    #expect(try decode(gammaTagged, channels: 1) == [30, 220])
}

@Test func writtenPNGsReadBack() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let rgb: [UInt8] = (0..<(5 * 3 * 3)).map { UInt8($0 * 5) }
    try writePNG(path: folder.file("rgb.png"), pixels: rgb, width: 5, height: 3, channels: 3)
    let back = try readPNG(folder.file("rgb.png"), channels: 3)
    #expect(back.width == 5 && back.height == 3 && back.pixels == rgb)
    let grey: [UInt8] = [0, 64, 128, 255]
    try writePNG(path: folder.file("grey.png"), pixels: grey, width: 2, height: 2, channels: 1)
    #expect(try readPNG(folder.file("grey.png"), channels: 1).pixels == grey)
    #expect(try readPNGHeader(folder.file("grey.png")) == PNGHeader(width: 2, height: 2, isColour: false))
    #expect(throws: DataError.self) {
        try writePNG(path: folder.file("bad.png"), pixels: [1, 2, 3], width: 2, height: 2, channels: 1)
    }
    let error = dataError { try writePNG(path: "/nonexistent/dir/x.png", pixels: grey, width: 2, height: 2, channels: 1) }
    guard case .writeFailed("/nonexistent/dir/x.png", _)? = error else {
        Issue.record("got \(String(describing: error))")
        return
    }
}

@Test func brokenPNGsAreErrorsNamingTheFile() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let good = encodePNG(width: 8, height: 8, colourType: .rgb, bitDepth: 8,
                         samples: (0..<192).map { ($0 * 37) % 256 })
    let path = folder.file("broken.png")

    // Cut in the middle of the image data.
    try writeBytes(Array(good[0..<(good.count - 30)]), to: path)
    var error = dataError { _ = try readPNG(path, channels: 3) }
    guard case .corruptPNG(path, _)? = error else { Issue.record("truncated: \(String(describing: error))"); return }

    // A damaged IHDR checksum.
    var damaged = good
    damaged[29] ^= 0xFF
    try writeBytes(damaged, to: path)
    error = dataError { _ = try readPNGHeader(path) }
    guard case .corruptPNG(path, _)? = error else { Issue.record("bad CRC: \(String(describing: error))"); return }

    // Only the signature.
    try writeBytes(pngSignature, to: path)
    error = dataError { _ = try readPNGHeader(path) }
    guard case .corruptPNG(path, _)? = error else { Issue.record("signature only: \(String(describing: error))"); return }

    // Not a PNG at all.
    try writeBytes(Array("GIF89a not really".utf8), to: path)
    #expect(throwsError(.notPNG(path: path)) { _ = try readPNG(path, channels: 1) })
}
