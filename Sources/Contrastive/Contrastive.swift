// Contrastive: module marker. See README.md "Layout" for what this module is for and what it may import.
/// Facts about the `Contrastive` module.
public enum ContrastiveModule {
    /// The module's name, as used in diagnostics.
    public static let name = "Contrastive"
}
