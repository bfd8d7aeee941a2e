// Experiments: module marker. See README.md "Layout" for what this module is for and what it may import.
/// Facts about the `Experiments` module.
public enum ExperimentsModule {
    /// The module's name, as used in diagnostics.
    public static let name = "Experiments"
}
