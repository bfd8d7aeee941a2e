// require: programmer-error checks at the engine's public entry points that survive -Ounchecked.
// Deliberately not here: checks of user input (those throw, in the modules that read the input).

/// Stops the program with a message. Unlike `precondition`, this survives `-Ounchecked`; used for
/// programmer errors (shape mismatches) at the public entry points of the engine, never for user input.
@usableFromInline
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
