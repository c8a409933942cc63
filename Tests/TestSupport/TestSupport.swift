import Foundation

/// Paths, temporary directories and the Python interpreter used by the test suites.
public enum TestEnvironment {
    /// The repository root (where Package.swift is).
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// `../shared/data` beside the repository (or `EMFLOW_SHARED_DATA`), if present.
    public static let sharedData: URL? = {
        let candidate = ProcessInfo.processInfo.environment["EMFLOW_SHARED_DATA"].map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
        return FileManager.default.fileExists(atPath: candidate.path) ? candidate : nil
    }()

    /// True when ../shared/data is present; tests that need it are disabled otherwise, with
    /// the message `sharedDataMissing`.
    public static var hasSharedData: Bool { sharedData != nil }

    /// Why a test that needs ../shared/data did not run.
    public static let sharedDataMissing = "needs ../shared/data (the project's real EM volumes), which a user's clone does not have"

    /// A Python interpreter with h5py, zarr, numcodecs, tifffile, numpy and scikit-learn:
    /// `EMFLOW_PYTHON`, else `.venv-test/bin/python` in the repository (made by `make test`).
    public static let python: String? = {
        if let path = ProcessInfo.processInfo.environment["EMFLOW_PYTHON"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        let venv = repositoryRoot.appendingPathComponent(".venv-test/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()

    /// True when the Python clients are available.
    public static var hasPython: Bool { python != nil }

    /// Why an interoperability test did not run.
    public static let pythonMissing = "needs the Python clients: run `make test` (it creates .venv-test) or set EMFLOW_PYTHON"

    /// A fresh empty directory under the system's temporary directory.
    public static func temporaryDirectory(_ label: String = "test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("emflow-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The outcome of running a child process.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Errors from running helper programs in tests.
public struct ProcessFailure: Error, CustomStringConvertible {
    public var description: String
}

/// Runs `executable` with `arguments`, capturing its output.
@discardableResult
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                       currentDirectory: URL? = nil, input: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let out = Pipe(), err = Pipe(), inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe
    try process.run()
    if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try? inPipe.fileHandleForWriting.close()
    // Read both pipes concurrently so that a chatty child cannot block on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs a Python script with the test interpreter; throws with its stderr when it fails.
@discardableResult
public func runPython(_ script: String, _ arguments: [String] = []) throws -> String {
    guard let python = TestEnvironment.python else { throw ProcessFailure(description: TestEnvironment.pythonMissing) }
    let result = try runProcess(python, ["-c", script] + arguments)
    guard result.status == 0 else {
        throw ProcessFailure(description: "python exited \(result.status):\n\(result.stderr)")
    }
    return result.stdout
}

extension TestEnvironment {
    /// The `emflow` executable built beside the test bundle (`swift test` builds it).
    public static let emflowBinary: String = {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var url = bundleDirectory
        // The test binary may sit inside an .xctest bundle directory on some platforms.
        while url.path != "/" {
            let candidate = url.appendingPathComponent("emflow").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            url.deleteLastPathComponent()
        }
        return bundleDirectory.appendingPathComponent("emflow").path
    }()
}

/// Runs the `emflow` command line with `arguments`.
@discardableResult
public func runEmflow(_ arguments: [String], currentDirectory: URL? = nil) throws -> ProcessResult {
    try runProcess(TestEnvironment.emflowBinary, arguments, currentDirectory: currentDirectory)
}
