import Foundation
import EMStorage

/// Writes and reads evaluation reports.
public enum ReportWriter {
    /// File names inside a report directory.
    public static let jsonName = "report.json", markdownName = "report.md", htmlName = "report.html", overlayDirectory = "overlays"

    /// Writes `report.json`, `report.md` (with overlay PNGs in `overlays/`) and the
    /// self-contained `report.html` into `directory` (created if needed), as one unit.
    ///
    /// The files are written into a staging directory beside `directory` first. A directory
    /// that holds nothing but an earlier report is then swapped for it by two renames (a kill
    /// in between leaves the old report parked as `.emflow-old-NAME`, put back by the next
    /// write); into a directory that holds other files too, the old `report.json` is removed
    /// first and the new one moved in last, so that a `report.json` is always beside the
    /// report.md, report.html and overlays of the same evaluation.
    ///
    /// - Returns: the URL of `report.html`.
    /// - Throws: `EvaluationError.report` or `StorageError` when a file cannot be written.
    @discardableResult
    public static func write(_ report: EvaluationReport, to directory: URL) throws -> URL {
        let manager = FileManager.default
        try AtomicFile.recoverDirectory(directory)
        let artefacts: Set<String> = [jsonName, markdownName, htmlName, overlayDirectory]
        let existing = (try? manager.contentsOfDirectory(atPath: directory.path)) ?? []
        if existing.allSatisfy(artefacts.contains) {
            try AtomicFile.replaceDirectory(directory) { try writeFiles(report, to: $0) }
        } else {
            let staging = directory.deletingLastPathComponent()
                .appendingPathComponent(AtomicFile.temporaryPrefix + directory.lastPathComponent + "-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            defer { try? manager.removeItem(at: staging) }
            try writeFiles(report, to: staging)
            try? manager.removeItem(at: directory.appendingPathComponent(jsonName))
            for file in [overlayDirectory, markdownName, htmlName, jsonName] {
                let target = directory.appendingPathComponent(file)
                try? manager.removeItem(at: target)
                try AtomicFile.move(staging.appendingPathComponent(file), to: target)
            }
        }
        return directory.appendingPathComponent(htmlName)
    }

    private static func writeFiles(_ report: EvaluationReport, to directory: URL) throws {
        try AtomicFile.write(try json(report), to: directory.appendingPathComponent(jsonName).path)
        var overlayFiles: [String: Data] = [:]
        let markdown = MarkdownReport.render(report) { run, volume, overlay in
            let name = "\(overlayDirectory)/\(fileSafe(run.name))-\(fileSafe(volume.name))-z\(overlay.z).png"
            overlayFiles[name] = overlay.png
            return name
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(overlayDirectory), withIntermediateDirectories: true)
        for (name, png) in overlayFiles { try AtomicFile.write(png, to: directory.appendingPathComponent(name).path) }
        try AtomicFile.write(markdown, to: directory.appendingPathComponent(markdownName).path)
        try AtomicFile.write(HTMLReport.render(report), to: directory.appendingPathComponent(htmlName).path)
    }


    /// The report as pretty-printed JSON (infinite distances as the strings "inf"/"-inf").
    public static func json(_ report: EvaluationReport) throws -> Data {
        let encoder = JSONFiles.encoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(report)
    }

    /// The report as Markdown (overlays not linked).
    public static func markdown(_ report: EvaluationReport) -> String {
        MarkdownReport.render(report) { _, _, _ in nil }
    }

    /// The report as one self-contained HTML page.
    public static func html(_ report: EvaluationReport) -> String {
        HTMLReport.render(report)
    }

    /// Reads a report from a `report.json` file or a directory holding one.
    ///
    /// - Throws: `EvaluationError.report` naming the file when it is missing or not a report.
    public static func read(from url: URL) throws -> EvaluationReport {
        var isDirectory: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? url.appendingPathComponent(jsonName) : url
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw EvaluationError.report(path: file.path, reason: "no report found (expected a report.json written by emflow evaluate)")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try decoder.decode(EvaluationReport.self, from: data)
        } catch let error as DecodingError {
            throw EvaluationError.report(path: file.path, reason: "not an emflow evaluation report: \(describe(error))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, context):
            return "missing key '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "\(path.isEmpty ? "" : "at '\(path)': ")\(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func fileSafe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(60))
    }
}
