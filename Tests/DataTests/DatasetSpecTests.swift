// The dataset spec grammar: every kind and option parses, the canonical string round-trips, and every malformed
// spec is rejected with a message naming the problem.
import Foundation
import Testing
@testable import Data

@Test func everyKindParses() throws {
    #expect(try DatasetSpec(parsing: "fashion-mnist").source == .fashionMNIST(directory: DatasetSpec.fashionMNISTDirectory))
    #expect(try DatasetSpec(parsing: "fashion-mnist:/data/fm").source == .fashionMNIST(directory: "/data/fm"))
    #expect(try DatasetSpec(parsing: "mnist:/data/mnist").source == .mnist(directory: "/data/mnist"))
    #expect(try DatasetSpec(parsing: "cifar10:/c10").source == .cifar10(directory: "/c10"))
    #expect(try DatasetSpec(parsing: "cifar100:/c100").source == .cifar100(directory: "/c100"))
    #expect(try DatasetSpec(parsing: "folder:/pics").source == .folder(directory: "/pics", size: nil))
    #expect(try DatasetSpec(parsing: "folder:/pics?size=32").source == .folder(directory: "/pics", size: 32))
    #expect(try DatasetSpec(parsing: "synthetic").source == .synthetic(count: 2000, size: 28, channels: 1))
    #expect(try DatasetSpec(parsing: "synthetic:500?channels=3&size=32").source
        == .synthetic(count: 500, size: 32, channels: 3))
    let limited = try DatasetSpec(parsing: "fashion-mnist?limit=2000")
    #expect(limited.limit == 2000)
    #expect(try DatasetSpec(parsing: "folder:/pics?limit=7&size=16") == DatasetSpec(
        source: .folder(directory: "/pics", size: 16), limit: 7))
}

@Test func canonicalStringRoundTrips() throws {
    for text in ["fashion-mnist", "fashion-mnist:/x/y", "mnist:/m?limit=10", "cifar10:/c", "cifar100:/d?limit=3",
                 "folder:/p?size=32&limit=5", "synthetic:2000", "synthetic:64?size=32&channels=3&limit=20"] {
        let spec = try DatasetSpec(parsing: text)
        #expect(spec.description == text)
        #expect(try DatasetSpec(parsing: spec.description) == spec)
    }
    #expect(try DatasetSpec(parsing: "synthetic").description == "synthetic:2000")
}

@Test func specIsCodableAsItsString() throws {
    let spec = try DatasetSpec(parsing: "synthetic:100?channels=3&limit=50")
    let json = try JSONEncoder().encode([spec])
    #expect(String(decoding: json, as: UTF8.self) == #"["synthetic:100?channels=3&limit=50"]"#)
    #expect(try JSONDecoder().decode([DatasetSpec].self, from: json) == [spec])
    #expect(throws: DecodingError.self) {
        try JSONDecoder().decode([DatasetSpec].self, from: Foundation.Data(#"["mnist?limit=0"]"#.utf8))
    }
}

@Test func malformedSpecsAreRejectedWithTheProblem() {
    let cases: [(String, String)] = [
        ("", "empty"),
        ("imagenet:/x", "unknown dataset 'imagenet'"),
        ("mnist", "mnist needs a folder"),
        ("cifar10:", "cifar10 needs a folder"),
        ("folder", "folder needs a folder"),
        ("fashion-mnist:", "needs a folder"),
        ("fashion-mnist?limit=0", "limit must be a positive whole number, got '0'"),
        ("fashion-mnist?limit=-5", "limit must be a positive whole number, got '-5'"),
        ("fashion-mnist?limit=ten", "limit must be a positive whole number, got 'ten'"),
        ("synthetic?limit=", "limit must be a positive whole number, got ''"),
        ("mnist:/m?size=32", "unknown option 'size' for mnist"),
        ("folder:/p?colour=yes", "unknown option 'colour' for folder"),
        ("folder:/p?size=0", "size must be a positive whole number"),
        ("folder:/p?size=32&size=16", "option 'size' is given twice"),
        ("folder:/p?size", "option 'size' is not KEY=VALUE"),
        ("synthetic:0", "synthetic:N needs a whole number"),
        ("synthetic:many", "synthetic:N needs a whole number"),
        ("synthetic?channels=2", "channels must be 1 or 3"),
        ("synthetic?size=4", "size must be at least 8"),
    ]
    for (text, problem) in cases {
        let error = dataError { _ = try DatasetSpec(parsing: text) }
        guard case let .invalidSpec(spec, message)? = error else {
            Issue.record("'\(text)' was accepted or gave \(String(describing: error))")
            continue
        }
        #expect(spec == text)
        #expect(message.contains(problem), "'\(text)': \(message)")
        #expect("\(error!)".contains("'\(text)'"))
    }
}
