import Testing
@testable import Recording

@Test func moduleNameIsStable() {
    #expect(RecordingModule.name == "Recording")
}
