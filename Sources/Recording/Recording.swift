// Recording: module marker. See README.md "Layout" for what this module is for and what it may import.
/// Facts about the `Recording` module.
public enum RecordingModule {
    /// The module's name, as used in diagnostics.
    public static let name = "Recording"
}
