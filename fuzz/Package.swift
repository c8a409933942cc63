// swift-tools-version:6.0
// Coverage-guided fuzzing of the parsers emflow owns (libFuzzer, from the Swift toolchain).
// Built and run by benchmarks/run-fuzz.sh, never by `make test`: the harness has no main of
// its own (libFuzzer provides it), so it only links with -sanitize=fuzzer.
import PackageDescription

let package = Package(
    name: "emflow-fuzz",
    dependencies: [.package(name: "emflow", path: "..")],
    targets: [
        .executableTarget(name: "EMFuzz", dependencies: [.product(name: "EMFlow", package: "emflow")],
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v5]
)
