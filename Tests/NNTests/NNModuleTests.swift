import Testing
@testable import NN

@Test func moduleNameIsStable() {
    #expect(NNModule.name == "NN")
}
