import EMStorage
import EMStores
import EMVolume
import Foundation

// The run plan: which stages run blockwise, their graph, the connected parts and their block
// layouts, and the fingerprints that decide what a resumed run may skip.

extension PipelineRunner {
    // MARK: Plan

    /// The stages, their fingerprints and the parts of the pipeline with their block layouts.
    struct Plan {
        let graph: StageGraph
        let fingerprints: [String: String]
        let workRoot: String
        let parts: [Part]

        /// The fingerprint of `node`'s configuration in `part`'s block layout.
        func fingerprint(of node: StageGraph.Node, in part: Part) -> String {
            Fingerprint.of(fingerprints[node.name]! + "|" + part.layout)
        }
    }

    /// A connected part of the pipeline: its stages and their common block layout.
    struct Part {
        let nodes: [StageGraph.Node]
        let grid: BlockGrid
        var layout: String { "layout|\(grid.region)|\(grid.blockShape)|\(grid.fit.rawValue)" }
    }

    /// The plan of the blockwise stages (nil when there are none), their fingerprints built on
    /// those of the steps before them (`known`).
    func makePlan(known: [String: String]) throws -> Plan? {
        let blockStages = stages(.blocks)
        guard !blockStages.isEmpty else { return nil }
        let graph = try buildGraph(blockStages)
        var fingerprints = known
        for node in graph.nodes {
            fingerprints[node.name] = fingerprint(of: node.stage, contentHash: node.implementation.contentHash, known: fingerprints)
        }
        let sinks = graph.nodes.filter { $0.implementation is BlockSink }
        guard let first = sinks.first?.implementation as? BlockSink else { return nil }
        let workRoot = pipeline.execution.workDirectory ?? first.sidecarPath("work")
        var parts: [Part] = []
        var handled = Set<String>()
        for sink in sinks where !handled.contains(sink.name) {
            let component = graph.connectedComponent(of: sink.name)
            handled.formUnion(component)
            let nodes = graph.nodes.filter { component.contains($0.name) }
            guard let shape = nodes.compactMap(\.stage.output).first?.shape else { continue }
            let execution = pipeline.execution
            parts.append(Part(nodes: nodes, grid: try BlockGrid(region: Box(shape: shape), blockShape: execution.blockShape, fit: execution.edgeFit)))
        }
        return Plan(graph: graph, fingerprints: fingerprints, workRoot: workRoot, parts: parts)
    }

    // MARK: Set-up

    func buildGraph(_ stages: [PipelineStage]) throws -> StageGraph {
        var nodes: [StageGraph.Node] = []
        for stage in stages {
            var inputs: [String: VolumeDescriptor] = [:]
            for (parameter, upstream) in stage.inputs { inputs[parameter] = pipeline.stage(upstream)?.output }
            let implementation = try stage.configured.makeImplementation(for: stage, in: StageContext(pipeline: pipeline, inputs: inputs))
            nodes.append(StageGraph.Node(stage: stage, implementation: implementation))
        }
        return StageGraph(nodes: nodes)
    }

    /// A fingerprint of everything a stage's output depends on: kind, parameters, the state of
    /// the stored volumes it reads (`Stores.contentState`), the fingerprints of its inputs and
    /// references (`known`), its model's hash and its output's shape and type.
    func fingerprint(of stage: PipelineStage, contentHash: String?, known: [String: String]) -> String {
        var text = "emflow-stage-1|kind=\(stage.kind.name)"
        let outputs = Set(stage.outputStores.map(\.parameter))
        for (key, value) in stage.values.sorted(by: { $0.key < $1.key }) where stage.dependencies[key] == nil {
            text += "|\(key)=\(value)"
            // A stored input rewritten at the same address (another seed) is another input.
            if case let .store(address) = value, !outputs.contains(key) { text += "|\(key)#state=\(Stores.contentState(of: address))" }
        }
        for (key, upstream) in stage.inputs.sorted(by: { $0.key < $1.key }) { text += "|\(key)<\(known[upstream]!)" }
        for (key, referenced) in stage.references.sorted(by: { $0.key < $1.key }) { text += "|\(key)@\(known[referenced] ?? referenced)" }
        if let contentHash { text += "|content=\(contentHash)" }
        if let output = stage.output { text += "|output=\(output.shape) \(output.dataType) \(output.voxelSize) \(output.origin)" }
        return Fingerprint.of(text)
    }


    /// The fingerprints of the steps before the blocks, as a run would compute them.
    func stepFingerprints() -> [String: String] {
        var fingerprints: [String: String] = [:]
        for stage in stages(.beforeBlocks) { fingerprints[stage.name] = fingerprint(of: stage, contentHash: nil, known: fingerprints) }
        return fingerprints
    }
}
