import Testing
@testable import Analysis

@Test func moduleNameIsStable() {
    #expect(AnalysisModule.name == "Analysis")
}
