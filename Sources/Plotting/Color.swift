// Color: an sRGB colour with alpha, and the Okabe–Ito categorical palette (colour-blind safe).
// It deliberately does no colour-space conversion beyond simple sRGB mixing; ordered quantities use `Colormap`.

import Foundation

/// An sRGB colour with straight (not premultiplied) alpha, components in 0...1.
public struct Color: Equatable, Hashable, Sendable {
    public var red: Double
    public var green: Double
    public var blue: Double
    public var alpha: Double

    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red; self.green = green; self.blue = blue; self.alpha = alpha
    }

    /// A colour from 8-bit components (0...255).
    public init(red8: Int, green8: Int, blue8: Int, alpha: Double = 1) {
        self.init(red: Double(red8) / 255, green: Double(green8) / 255, blue: Double(blue8) / 255, alpha: alpha)
    }

    /// A colour from `"#RRGGBB"` or `"RRGGBB"`; nil when the string is not six hex digits.
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
        self.init(red8: Int(value >> 16 & 0xff), green8: Int(value >> 8 & 0xff), blue8: Int(value & 0xff))
    }

    /// `"#rrggbb"` (alpha dropped).
    public var hex: String {
        func byte(_ v: Double) -> Int { Int((Swift.min(Swift.max(v, 0), 1) * 255).rounded()) }
        return String(format: "#%02x%02x%02x", byte(red), byte(green), byte(blue))
    }

    /// The same colour with another alpha.
    public func withAlpha(_ alpha: Double) -> Color { Color(red: red, green: green, blue: blue, alpha: alpha) }

    /// Mixed towards white by `amount` (0 = unchanged, 1 = white), staying opaque.
    public func lightened(_ amount: Double) -> Color { mixed(with: .white, amount) }

    /// Mixed towards black by `amount` (0 = unchanged, 1 = black).
    public func darkened(_ amount: Double) -> Color { mixed(with: .black, amount) }

    /// Linear mix in sRGB: `self * (1 - amount) + other * amount`.
    public func mixed(with other: Color, _ amount: Double) -> Color {
        let t = Swift.min(Swift.max(amount, 0), 1)
        return Color(red: red + (other.red - red) * t, green: green + (other.green - green) * t,
                     blue: blue + (other.blue - blue) * t, alpha: alpha + (other.alpha - alpha) * t)
    }

    public static let black = Color(red: 0, green: 0, blue: 0)
    public static let white = Color(red: 1, green: 1, blue: 1)
    /// Text and frame colour of the default style (near black).
    public static let ink = Color(red8: 0x22, green8: 0x22, blue8: 0x22)
    /// Neutral grey for markers and secondary text.
    public static let gray = Color(red8: 0x70, green8: 0x70, blue8: 0x70)
    /// Light grey for grid lines.
    public static let lightGray = Color(red8: 0xe3, green8: 0xe3, blue8: 0xe3)
}

/// Categorical palettes.
public enum Palette {
    /// Okabe & Ito (2008) colour-blind-safe palette, in the order used for successive series:
    /// blue, vermillion, bluish green, orange, reddish purple, sky blue, yellow, black.
    /// (Yellow comes late because it reads poorly as a thin line on white.)
    public static let okabeIto: [Color] = [
        Color(red8: 0x00, green8: 0x72, blue8: 0xB2), // blue
        Color(red8: 0xD5, green8: 0x5E, blue8: 0x00), // vermillion
        Color(red8: 0x00, green8: 0x9E, blue8: 0x73), // bluish green
        Color(red8: 0xE6, green8: 0x9F, blue8: 0x00), // orange
        Color(red8: 0xCC, green8: 0x79, blue8: 0xA7), // reddish purple
        Color(red8: 0x56, green8: 0xB4, blue8: 0xE9), // sky blue
        Color(red8: 0xF0, green8: 0xE4, blue8: 0x42), // yellow
        Color(red8: 0x00, green8: 0x00, blue8: 0x00), // black
    ]

    /// The `index`-th colour of the Okabe–Ito cycle (wrapping around).
    public static func categorical(_ index: Int) -> Color {
        okabeIto[((index % okabeIto.count) + okabeIto.count) % okabeIto.count]
    }
}
