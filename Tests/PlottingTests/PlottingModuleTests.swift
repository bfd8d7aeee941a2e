import Testing
@testable import Plotting

@Test func moduleNameIsStable() {
    #expect(PlottingModule.name == "Plotting")
}
