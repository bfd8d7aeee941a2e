// Analysis: module marker. See README.md "Layout" for what this module is for and what it may import.
/// Facts about the `Analysis` module.
public enum AnalysisModule {
    /// The module's name, as used in diagnostics.
    public static let name = "Analysis"
}
