import Foundation

/// Runs scheduler commands (sbatch, scancel, scontrol) and child processes.
enum Command {
    /// The result of a command that ran to its end.
    struct Result {
        var status: Int32
        var output: String
    }

    /// The absolute path of `name` on PATH, nil when it is not there.
    static func find(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `program` (found on PATH) with `arguments` and returns its exit status and its
    /// standard output and error together.
    ///
    /// - Throws: `ClusterError.scheduler` when the program is not found or cannot start.
    static func run(_ program: String, _ arguments: [String]) throws -> Result {
        let line = ([program] + arguments).joined(separator: " ")
        guard let executable = find(program) else {
            throw ClusterError.scheduler(command: line, status: 127, output: "\(program) is not on PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ClusterError.scheduler(command: line, status: 126, output: "cannot start: \(error.localizedDescription)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Like `run`, but throws `ClusterError.scheduler` unless the exit status is 0.
    static func check(_ program: String, _ arguments: [String]) throws -> String {
        let result = try run(program, arguments)
        guard result.status == 0 else {
            throw ClusterError.scheduler(command: ([program] + arguments).joined(separator: " "), status: result.status, output: result.output)
        }
        return result.output
    }

    /// `text` quoted for a POSIX shell.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
