import Testing
@testable import Experiments

@Test func moduleNameIsStable() {
    #expect(ExperimentsModule.name == "Experiments")
}
