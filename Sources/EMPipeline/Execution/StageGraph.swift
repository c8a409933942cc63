import EMVolume

/// The stages of one run with their implementations, inputs before the stages that use them.
final class StageGraph {
    /// One stage and what runs it.
    struct Node {
        let stage: PipelineStage
        let implementation: StageImplementation
        var name: String { stage.name }
    }

    /// Every stage, in the pipeline's order (inputs first).
    let nodes: [Node]
    private let index: [String: Int]

    init(nodes: [Node]) {
        self.nodes = nodes
        self.index = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.name, $0) })
    }

    /// The node of stage `name`.
    func node(_ name: String) -> Node { nodes[index[name]!] }

    /// Position of stage `name` in `nodes`.
    func position(of name: String) -> Int { index[name]! }

    /// The stages whose outputs must be computed while streaming to deliver `targets`:
    /// the targets and, transitively, the inputs of those that stream their inputs.
    func streamingClosure(of targets: Set<String>) -> [Node] {
        var needed = targets
        for node in nodes.reversed() where needed.contains(node.name) && node.implementation.streamsInputs {
            needed.formUnion(node.stage.inputs.values)
        }
        return nodes.filter { needed.contains($0.name) }
    }

    /// `names` and every stage they read from, transitively.
    func upstream(of names: Set<String>) -> Set<String> {
        var needed = names
        for node in nodes.reversed() where needed.contains(node.name) { needed.formUnion(node.stage.inputs.values) }
        return needed
    }

    /// The stages connected to `name` through inputs in either direction.
    func connectedComponent(of name: String) -> Set<String> {
        var component: Set<String> = [name]
        var changed = true
        while changed {
            changed = false
            for node in nodes {
                let touching = component.contains(node.name) || node.stage.inputs.values.contains(where: component.contains)
                guard touching else { continue }
                let before = component.count
                component.insert(node.name)
                component.formUnion(node.stage.inputs.values)
                if component.count != before { changed = true }
            }
        }
        return component
    }
}
