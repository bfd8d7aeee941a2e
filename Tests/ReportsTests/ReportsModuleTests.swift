import Testing
@testable import Reports

@Test func moduleNameIsStable() {
    #expect(ReportsModule.name == "Reports")
}
