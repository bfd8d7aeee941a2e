// Tick and scale logic: nice steps, linear and log ticks, labels (iterations, factors, minus signs), maps.
import Foundation
import Testing
@testable import Plotting

@Test func niceStepsAreOneTwoOrFiveTimesAPowerOfTen() {
    #expect(TickLocator.niceStep(span: 1, targetCount: 5) == 0.2)
    #expect(TickLocator.niceStep(span: 10, targetCount: 5) == 2)
    #expect(TickLocator.niceStep(span: 20_800, targetCount: 4) == 5000)
    #expect(TickLocator.niceStep(span: 0.003, targetCount: 3) == 0.001)
    for span in [0.0123, 0.7, 3.3, 47, 1234, 98_765] {
        let step = TickLocator.niceStep(span: span, targetCount: 5)
        let mantissa = step / pow(10, floor(log10(step) + 1e-9))
        #expect([1.0, 2, 5, 10].contains { abs($0 - mantissa) < 1e-9 }, "step \(step) for span \(span)")
        #expect(span / step <= 5 * 1.25 + 1e-9)
    }
    #expect(TickLocator.coarser(1) == 2 && TickLocator.coarser(2) == 5 && TickLocator.coarser(5) == 10)
    #expect(abs(TickLocator.coarser(0.05) - 0.1) < 1e-12)
}

@Test func linearTicksStayInsideTheLimitsWithStepDecimals() {
    let ticks = TickLocator.linear(lower: -0.03, upper: 1.02, step: 0.2, format: .automatic)
    #expect(ticks.ticks.map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    #expect(ticks.factor == nil)
    let negative = TickLocator.linear(lower: -1, upper: 1, step: 0.5, format: .automatic)
    #expect(negative.ticks.map(\.label) == ["\u{2212}1.0", "\u{2212}0.5", "0.0", "0.5", "1.0"])
    #expect(TickLocator.decimal(-0.0001, decimals: 2) == "0.00")   // never "-0.00"
}

@Test func iterationLabelsUseThousandsAndMillions() {
    let ticks = TickLocator.linear(lower: 0, upper: 20_000, step: 5000, format: .iterations)
    #expect(ticks.ticks.map(\.label) == ["0", "5k", "10k", "15k", "20k"])
    let fine = TickLocator.linear(lower: 0, upper: 5000, step: 2500, format: .iterations)
    #expect(fine.ticks.map(\.label) == ["0", "2.5k", "5k"])
    let big = TickLocator.linear(lower: 0, upper: 3_000_000, step: 1_500_000, format: .iterations)
    #expect(big.ticks.map(\.label) == ["0", "1.5M", "3M"])
    #expect(TickLocator.iterationLabel(500, step: 500) == "500")
    #expect(TickLocator.iterationLabel(12_500, step: 2500) == "12.5k")
    #expect(TickLocator.iterationLabel(-5000, step: 5000) == "\u{2212}5k")
}

@Test func tinyValuesShareAPowerOfTenFactor() {
    let ticks = TickLocator.linear(lower: 0, upper: 0.0003, step: 0.0001, format: .automatic)
    #expect(ticks.factor == "×10⁻⁴")
    #expect(ticks.ticks.map(\.label) == ["0", "1", "2", "3"])
}

@Test func logTicksUseDecadesWithMinorTicks() {
    let ticks = TickLocator.log(lower: 1e-3, upper: 1e3, targetCount: 8, format: .automatic)
    #expect(ticks.major.map(\.label) == ["10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹", "10²", "10³"])
    #expect(ticks.ticks.filter { !$0.isMajor }.count == 6 * 8)
    // Few ticks asked: every other decade is labelled.
    let sparse = TickLocator.log(lower: 1e-3, upper: 1e3, targetCount: 3, format: .automatic)
    #expect(sparse.major.count <= 4 && sparse.major.count >= 2)
}

@Test func shortLogRangesLabelOneTwoFive() {
    let ticks = TickLocator.log(lower: 0.9, upper: 11, targetCount: 5, format: .automatic)
    #expect(ticks.major.map(\.label) == ["1", "2", "5", "10"])
    #expect(ticks.ticks.allSatisfy { $0.value >= 0.9 && $0.value <= 11 })
    let narrow = TickLocator.log(lower: 2.1, upper: 2.9, targetCount: 5, format: .automatic)
    #expect(narrow.major.count >= 2)
    #expect(narrow.major.allSatisfy { $0.value >= 2.1 && $0.value <= 2.9 })
}

@Test func axisMapsPlaceValuesLinearlyAndLogarithmically() {
    let linear = AxisMap(scale: .linear, lower: 0, upper: 10, start: 100, end: 200)
    #expect(linear(5) == 150)
    #expect(abs(linear.value(atPosition: 120) - 2) < 1e-12)
    let log = AxisMap(scale: .log, lower: 1, upper: 100, start: 300, end: 100)   // y axis: up the page
    #expect(abs(log(10) - 200) < 1e-9)
    #expect(abs(log.value(atPosition: 100) - 100) < 1e-9)
    #expect(!Scale.log.accepts(0) && !Scale.log.accepts(-1) && Scale.log.accepts(1e-9))
    #expect(!Scale.linear.accepts(.nan) && !Scale.linear.accepts(.infinity))
}

@Test func colorMapsRunFromTheirPublishedEndpoints() {
    #expect(Colormap.viridis.table.count == 256 && Colormap.cividis.table.count == 256)
    #expect(Colormap.viridis.color(at: 0).hex == "#440154")
    #expect(Colormap.viridis.color(at: 1).hex == "#fde725")
    #expect(Colormap.cividis.color(at: 0).hex == "#00224e")
    #expect(Colormap.cividis.color(at: 1).hex == "#fee838")
    #expect(Colormap.viridis.color(at: -3) == Colormap.viridis.color(at: 0))   // clamped
    // Perceptually ordered: luminance rises from dark to light.
    func luminance(_ c: Color) -> Double { 0.2126 * c.red + 0.7152 * c.green + 0.0722 * c.blue }
    for map in [Colormap.viridis, .cividis] {
        let samples = (0...20).map { luminance(map.color(at: Double($0) / 20)) }
        #expect(zip(samples, samples.dropFirst()).allSatisfy { $0 < $1 }, "\(map.name) luminance not increasing")
    }
    #expect(Colormap.viridis.colors(count: 5).count == 5)
    #expect(Palette.okabeIto.count == 8 && Palette.categorical(8) == Palette.categorical(0))
    #expect(Palette.okabeIto[0].hex == "#0072b2")
}
