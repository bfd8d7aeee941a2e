// Data: module marker. See README.md "Layout" for what this module is for and what it may import.
/// Facts about the `Data` module.
public enum DataModule {
    /// The module's name, as used in diagnostics.
    public static let name = "Data"
}
