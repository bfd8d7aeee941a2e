// Plotting: module marker. See README.md "Layout" for what this module is for and what it may import.
/// Facts about the `Plotting` module.
public enum PlottingModule {
    /// The module's name, as used in diagnostics.
    public static let name = "Plotting"
}
