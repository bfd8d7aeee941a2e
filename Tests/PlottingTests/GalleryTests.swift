import Foundation
import Testing
@testable import Plotting

@Test func everyGalleryFigureRendersToAllFormats() throws {
    let folder = ProcessInfo.processInfo.environment["SCORESCOPE_PLOT_GALLERY"]
    for (name, figure) in try Gallery.all() {
        for format in OutputFormat.allCases {
            let bytes = try figure.data(format: format)
            #expect(bytes.count > 1000, "\(name).\(format.rawValue) is suspiciously small")
            if let folder {
                try Data(bytes).write(to: URL(fileURLWithPath: folder).appendingPathComponent("\(name).\(format.rawValue)"))
            }
        }
    }
}
