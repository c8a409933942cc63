import Foundation
import Testing
import EMVolume
import TestSupport

/// A small seeded generator (SplitMix64) so that random test data is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Raw little-endian binary files shared with the Python reference scripts.
enum RawFile {
    static func write<T>(_ values: [T], to url: URL) throws {
        try values.withUnsafeBytes { try Data($0).write(to: url) }
    }

    static func readDoubles(_ url: URL) throws -> [Double] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    }
}

/// Random scores with many ties (rounded to `levels` values) and labels correlated with them.
func randomScoresWithTies(count: Int, levels: Int, seed: UInt64) -> (scores: [Float], labels: [Bool]) {
    var rng = SeededGenerator(seed: seed)
    var scores: [Float] = [], labels: [Bool] = []
    for _ in 0..<count {
        let positive = Double.random(in: 0..<1, using: &rng) < 0.3
        let raw = min(1, max(0, Double.random(in: 0..<1, using: &rng) * 0.7 + (positive ? 0.3 : 0)))
        scores.append(Float((raw * Double(levels)).rounded() / Double(levels)))
        labels.append(positive)
    }
    return (scores, labels)
}

extension Trait where Self == ConditionTrait {
    /// Runs a test only when the Python reference clients are available.
    static var needsPython: Self { .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)) }
}

/// Headless Chromium (`EMFLOW_CHROMIUM`, else `chromium` or `chromium-browser` on the PATH).
enum Chromium {
    static let path: String? = {
        if let path = ProcessInfo.processInfo.environment["EMFLOW_CHROMIUM"], FileManager.default.isExecutableFile(atPath: path) { return path }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
        }
        return nil
    }()

    static let missing = "needs headless Chromium (Debian package chromium, installed by `make test`) or EMFLOW_CHROMIUM"
}

extension Trait where Self == ConditionTrait {
    /// Runs a test only when headless Chromium is available.
    static var needsChromium: Self { .enabled(if: Chromium.path != nil, Comment(rawValue: Chromium.missing)) }
}

/// Removes a test's output directory, unless `EMFLOW_KEEP_TEST_OUTPUT` is set (then its path
/// is printed for a person to look at).
func removeOrKeep(_ directory: URL) {
    if ProcessInfo.processInfo.environment["EMFLOW_KEEP_TEST_OUTPUT"] != nil {
        print("kept test output: \(directory.path)")
    } else {
        try? FileManager.default.removeItem(at: directory)
    }
}
