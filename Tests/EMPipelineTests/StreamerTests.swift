@testable import EMPipeline
import EMVolume
import Foundation
import Testing

/// The block streamer's memory bound and retries, with stages written for the test.
@Suite("Block streamer")
struct StreamerTests {
    /// A source whose blocks hold 1000 + the x of their first voxel; counts blocks in flight.
    final class CountingSource: BlockTransform, @unchecked Sendable {
        private let lock = NSLock()
        private(set) var inFlight = 0
        private(set) var maximum = 0
        private var failuresLeft: [Int: Int]

        init(failures: [Int: Int] = [:]) {
            failuresLeft = failures
        }

        func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume {
            lock.lock()
            defer { lock.unlock() }
            if let left = failuresLeft[box.offset.x], left > 0 {
                failuresLeft[box.offset.x] = left - 1
                throw PipelineError.execution("injected failure at x=\(box.offset.x)")
            }
            inFlight += 1
            maximum = max(maximum, inFlight)
            return AnyVolume(Volume<UInt16>(box: box, repeating: UInt16(box.offset.x + 1000)))
        }

        func consumed() {
            lock.lock()
            inFlight -= 1
            lock.unlock()
        }
    }

    /// Adds one to every voxel, with context of `halo` voxels.
    final class Increment: BlockTransform {
        let halo: Coordinate

        init(halo: Coordinate) {
            self.halo = halo
        }

        func inputBox(for box: Box, input: String) -> Box { box.grown(by: halo) }

        func compute(_ box: Box, inputs: [String: AnyVolume]) throws -> AnyVolume {
            guard case let .uint16(volume) = inputs["input"]!, volume.box == box.grown(by: halo) else {
                throw PipelineError.execution("input does not cover the box and its halo")
            }
            return AnyVolume(volume.cropped(to: box).map { $0 + 1 })
        }
    }

    func stage(_ name: String, inputs: [String: String] = [:]) -> PipelineStage {
        // The stages' implementations are given here: the kind is never described or asked to make one.
        PipelineStage(name: name, configured: Unconfigured(stageKind: ReadStage()), values: [:], locations: [:], location: SourceLocation(file: "test", line: 0),
                      inputs: inputs, isImplicit: false, output: nil)
    }

    @Test("blocks in flight stay within (stages + 1) x (queue depth + workers) + 1 however many blocks there are")
    func memoryBound() throws {
        let source = CountingSource()
        let graph = StageGraph(nodes: [
            .init(stage: stage("source"), implementation: source),
            .init(stage: stage("plus", inputs: ["input": "source"]), implementation: Increment(halo: Coordinate(0, 0, 2))),
        ])
        let grid = try BlockGrid(region: Box(shape: Coordinate(1, 1, 400)), blockShape: Coordinate(1, 1, 2))
        let (workers, depth) = (2, 2)
        let received = LockedArray()
        BlockStreamer(graph: graph, workers: workers, queueDepth: depth, retries: 0).run(
            blocks: grid.blocks, targets: ["plus"], request: { ["plus": $0.writeBox] },
            consume: { block, volumes in
                usleep(300)
                guard case let .uint16(volume) = volumes["plus"]!, volume.box == block.writeBox else { throw PipelineError.execution("bad box") }
                received.append(Int(volume.storage[0]))
                source.consumed()
            },
            finished: { #expect($0.failure == nil) })
        // Block k reads from x = 2k - 2 (its halo), whose value is 2k - 2 + 1000, plus one.
        #expect(received.values.sorted() == (0..<200).map { 2 * $0 + 999 })
        let bound = (2 + 1) * (depth + workers) + 1
        #expect(source.maximum <= bound, "at most \(bound) blocks alive, saw \(source.maximum)")
        #expect(source.maximum >= depth, "the slow consumer should have let the queues fill")
    }

    @Test("a failing block is retried; after the retries it is reported and the others go on")
    func retries() throws {
        let source = CountingSource(failures: [4: 2, 8: 5])
        let graph = StageGraph(nodes: [.init(stage: stage("source"), implementation: source)])
        let grid = try BlockGrid(region: Box(shape: Coordinate(1, 1, 12)), blockShape: Coordinate(1, 1, 4))
        let outcomes = LockedOutcomes()
        BlockStreamer(graph: graph, workers: 1, queueDepth: 1, retries: 3).run(
            blocks: grid.blocks, targets: ["source"], request: { ["source": $0.writeBox] },
            consume: { _, _ in source.consumed() }, finished: { outcomes.append($0) })
        let byBlock = Dictionary(uniqueKeysWithValues: outcomes.values.map { ($0.block.id, $0) })
        #expect(byBlock[0]?.failure == nil && byBlock[0]?.attempts == 1)
        #expect(byBlock[1]?.failure == nil && byBlock[1]?.attempts == 3)
        #expect(byBlock[2]?.attempts == 4)
        #expect(byBlock[2]?.failure == "stage 'source': injected failure at x=8")
    }
}

final class LockedOutcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [BlockStreamer.Outcome] = []

    func append(_ outcome: BlockStreamer.Outcome) {
        lock.lock()
        storage.append(outcome)
        lock.unlock()
    }

    var values: [BlockStreamer.Outcome] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
