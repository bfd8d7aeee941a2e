import Testing
@testable import Contrastive

@Test func moduleNameIsStable() {
    #expect(ContrastiveModule.name == "Contrastive")
}
