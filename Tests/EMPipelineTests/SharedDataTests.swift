@testable import EMPipeline
import EMStorage
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

/// The pipeline on the project's real EM data (../shared/data).
@Suite("Pipeline on real data", .enabled(if: TestEnvironment.hasSharedData, Comment(rawValue: TestEnvironment.sharedDataMissing)))
struct SharedDataTests {
    @Test("synapse objects of the VNC validation stack: blockwise labels equal a whole-volume labelling")
    func synapseObjects() throws {
        let directory = try TestEnvironment.temporaryDirectory("vnc")
        let source = TestEnvironment.sharedData!.appendingPathComponent("vnc-synapse/val.h5").path + ":volumes/labels/synapse"
        let output = directory.path + "/synapses.zarr/objects"
        let path = try writePipeline("""
        execution:
          block_shape: 8,96,160
        stages:
          synapses:
            kind: read
            input: \(source)
            roi: 0:20,64:448,0:512
          objects:
            kind: components
            input: synapses
            connectivity: 26
            data_type: uint32
          save:
            kind: write
            input: objects
            output: \(output)
        """, in: directory)
        let summary = try PipelineRunner(pipeline: try PipelineLoader.load(file: path), options: RunOptions(version: "test")).run()
        #expect(summary.succeeded, "\(summary)")

        let input = try Stores.open(try StoreAddress.parse(source))
        let roi = Box(begin: Coordinate(0, 64, 0), end: Coordinate(20, 448, 512))
        let mask = try input.read(roi, as: UInt8.self).moved(to: Box(shape: roi.shape))
        let reference = referenceComponents(mask.map { $0 != 0 ? UInt8(1) : 0 }, connectivity: 26)
        let written = try Stores.open(try StoreAddress.parse(output))
        #expect(try written.readAll(as: UInt32.self).map { UInt64($0) } == reference)
        #expect(reference.storage.max()! >= 5, "the region should hold several synapses")
        #expect(written.metadata.voxelSize == input.metadata.voxelSize)
        let origin = input.metadata.voxelSize.world(roi.offset, origin: input.metadata.origin)
        #expect(written.metadata.origin == origin)
    }
}

private extension Volume {
    func moved(to box: Box) -> Volume { Volume(box: box, storage: storage) }
}
