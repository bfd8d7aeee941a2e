import Testing
@testable import Data

@Test func moduleNameIsStable() {
    #expect(DataModule.name == "Data")
}
