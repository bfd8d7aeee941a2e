import Testing
@testable import scorescope

@Test func versionIsSemantic() {
    #expect(scorescopeVersion.split(separator: ".").count == 3)
}
