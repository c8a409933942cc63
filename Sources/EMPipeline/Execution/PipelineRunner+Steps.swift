import EMStorage
import Foundation

// Step stages: whole-volume stages (train, evaluate, ...) that run before or after the
// blocks, each skipped when its done marker holds the same fingerprint.

extension PipelineRunner {
    // MARK: Steps (whole-volume stages before and after the blocks)

    struct StepMarker: Codable {
        var fingerprint: String
        var complete: Bool
    }

    /// Runs a step unless its marker shows the same configuration finished; records it as a
    /// one-block pass named after its kind.
    func runStep(_ stage: PipelineStage, fingerprint: String, state: RunState) throws {
        let made = try stage.configured.makeImplementation(for: stage, in: StageContext(pipeline: pipeline, inputs: [:]))
        guard let step = made as? StageStep else { preconditionFailure("stage kind '\(stage.kind.name)' runs outside the blocks but is no StageStep") }
        // What the step reads (a training's data) belongs to its configuration too.
        let fingerprint = step.contentHash.map { Fingerprint.of(fingerprint + "|content=" + $0) } ?? fingerprint
        let markerPath = step.outputDirectory + "/.emflow-step-" + stage.name + ".json"
        let marker = FileManager.default.contents(atPath: markerPath).flatMap { try? JSONDecoder().decode(StepMarker.self, from: $0) }
        let sameConfiguration = step.reusesFinishedResult && marker?.fingerprint == fingerprint
        if sameConfiguration && marker?.complete == true {
            state.endPass(state.beginPass(stage: stage.name, pass: stage.kind.name, total: 0, skipped: 1))
            return
        }
        let recorder = state.beginPass(stage: stage.name, pass: stage.kind.name, total: 1, skipped: 0)
        let provenance = step.outputDirectory + "/.emflow-" + Provenance.name
        do {
            try JSONFiles.write(StepMarker(fingerprint: fingerprint, complete: false), to: markerPath)
            try step.run(resume: sameConfiguration)
            try JSONFiles.write(StepMarker(fingerprint: fingerprint, complete: true), to: markerPath)
            try Provenance.write(pipeline: pipeline, stage: stage.name, fingerprint: fingerprint, contentHashes: [:],
                                 version: options.version, complete: true, to: provenance)
            recorder.addDone(1)
        } catch {
            recorder.failStep("\(error)")
        }
        state.endPass(recorder)
    }
}
