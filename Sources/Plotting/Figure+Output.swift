// Figure output: encoding to PNG (at a DPI), SVG (CSS px) or PDF in memory, and writing files with the format
// chosen by extension. Output is byte-deterministic for the same figure. It deliberately writes through
// Foundation so a bad path gives a clear PlotError instead of a Cairo status.

import Foundation

extension Figure {
    /// The encoded file. PNG at `dpi` (default 200); SVG in px at 96 px/inch; PDF in points with text embedded.
    public func data(format: OutputFormat, dpi: Double = 200) throws(PlotError) -> [UInt8] {
        if !(dpi > 0) || !dpi.isFinite || dpi > 2400 {
            throw .invalidParameter(what: "dpi must be in (0, 2400], got \(dpi)")
        }
        if !(width > 0 && height > 0) || !width.isFinite || !height.isFinite {
            throw .invalidParameter(what: "figure size must be positive, got \(width)×\(height) pt")
        }
        return try CairoEncoder.encode(format: format, width: width, height: height, dpi: dpi) { self.render(to: $0) }
    }

    /// Writes the figure to `path`, choosing PNG, SVG or PDF by its extension. Default `dpi` 200 (PNG only).
    /// Throws `PlotError.unknownFormat` for other extensions and `.unwritablePath` when the file cannot be written.
    public func write(to path: String, dpi: Double = 200) throws(PlotError) {
        guard let format = OutputFormat(path: path) else {
            throw .unknownFormat(path: path, known: OutputFormat.allCases.map(\.rawValue))
        }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            throw .unwritablePath(path: path, reason: "the folder '\(folder)' does not exist")
        }
        if !isDirectory.boolValue { throw .unwritablePath(path: path, reason: "'\(folder)' is not a folder") }
        let bytes = try data(format: format, dpi: dpi)
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw .unwritablePath(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
