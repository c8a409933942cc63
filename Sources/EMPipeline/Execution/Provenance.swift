import EMStorage
import Foundation

/// The provenance file written beside every output: the resolved pipeline, the emflow version,
/// the stage's fingerprint and model hash, and whether the output is complete.
enum Provenance {
    /// The file name given to `Stores.sidecarPath`.
    static let name = "provenance.json"

    /// Writes the provenance of `stage`'s output to `path` (atomically).
    static func write(pipeline: Pipeline, stage: String, fingerprint: String, contentHashes: [String: String],
                      version: String, complete: Bool, to path: String) throws {
        var object: [String: Any] = [
            "emflow_version": version,
            "stage": stage,
            "fingerprint": fingerprint,
            "complete": complete,
            "written": ISO8601DateFormatter().string(from: Date()),
            "pipeline": resolved(pipeline),
        ]
        if !contentHashes.isEmpty { object["model_hashes"] = contentHashes }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: path)
    }

    /// The pipeline with every variable substituted and every default filled in, as JSON objects.
    static func resolved(_ pipeline: Pipeline) -> [String: Any] {
        let variables = Dictionary(uniqueKeysWithValues: pipeline.variables.map { ($0.name, $0.value) })
        let stages: [[String: Any]] = pipeline.stages.map { stage in
            var object: [String: Any] = [
                "name": stage.name,
                "kind": stage.kind.name,
                "parameters": stage.values.mapValues(\.jsonObject),
            ]
            if !stage.inputs.isEmpty { object["inputs"] = stage.inputs }
            if stage.isImplicit { object["implicit"] = true }
            if let output = stage.output {
                object["output"] = ["shape": output.shape.components, "data_type": output.dataType.rawValue]
            }
            return object
        }
        return [
            "name": pipeline.name,
            "file": pipeline.file,
            "description": pipeline.summary,
            "vars": variables,
            "execution": pipeline.execution.values.mapValues(\.jsonObject),
            "stages": stages,
        ]
    }
}

extension Pipeline {
    /// The pipeline with every variable substituted and every default filled in, as JSON
    /// objects (what provenance files record).
    public var resolvedObject: [String: Any] { Provenance.resolved(self) }
}
