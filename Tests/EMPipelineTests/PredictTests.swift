import EMEvaluation
@testable import EMPipeline
import EMNN
import EMStorage
import EMVolume
import Foundation
import Testing
import TestSupport

/// The predict stage over real Zarr stores with a small randomly initialised U-Net saved to a
/// checkpoint, against whole-volume predictions made directly with the same network.
@Suite("Predict stage")
struct PredictTests {
    static let shape = Coordinate(10, 36, 34)

    /// A small U-Net (pooling 1x2x2) with fresh weights, saved to `directory/name`.
    static func saveModel(in directory: URL, name: String = "model", seed: UInt64 = 3, padding: Padding = .same) throws -> (URL, UNet) {
        let configuration = UNetConfiguration(depth: 2, baseWidth: 4, widthMultiplier: 2,
                                              kernelSizes: [Coordinate(1, 3, 3), Coordinate(3, 3, 3)],
                                              poolingFactors: [Coordinate(1, 2, 2)], convolutionsPerLevel: 1,
                                              padding: padding, seed: seed)
        let network = try UNet(configuration: configuration, threads: 1)
        let url = directory.appendingPathComponent(name)
        try network.save(to: url)
        return (url, network)
    }

    /// A smooth uint8 image written to `directory/image.zarr/raw`; returns its address and the
    /// image as the network sees it (/ 255).
    static func saveImage(in directory: URL, seed: UInt64 = 4) throws -> (String, Volume<Float>) {
        let image = smoothField(shape, seed: seed).map { UInt8(($0 * 255).rounded()) }
        let address = directory.path + "/image.zarr/raw"
        try writeVolume(image, to: address, chunks: Coordinate(8, 16, 16))
        return (address, image.map { Float($0) / 255 })
    }

    /// The whole volume predicted in one pass, with the input mirrored along `axes` and the
    /// output mirrored back. With same padding the network sees the volume alone (zero-extended at
    /// the far faces to a multiple of its pooling), padding its features at the faces itself; with
    /// valid padding the volume is zero-padded generously (four pooling cells beyond the halo on
    /// each side, and up to a size the network accepts).
    static func wholeVolume(_ network: UNet, _ image: Volume<Float>, flip axes: [Bool] = [false, false, false]) throws -> Volume<Float> {
        let alignment = network.configuration.blockAlignment
        let box: Box
        switch network.configuration.padding {
        case .same:
            box = Box(offset: image.box.offset, shape: Coordinate.ceilDivide(image.shape, alignment) * alignment)
        case .valid:
            let extra = alignment * 4
            box = Box(offset: image.box.offset - network.halo - extra,
                      shape: try network.configuration.inputSize(forOutput: image.shape + extra * 2))
        }
        var padded = Volume<Float>(box: box)
        padded.paste(image)
        let mirrored = Volume<Float>(box: padded.box, storage: flippedStorage(padded, axes))
        let prediction = try network.predict(mirrored)[0]
        let back = Volume<Float>(box: prediction.box, storage: flippedStorage(prediction, axes))
        return back.cropped(to: image.box)
    }

    /// The voxels of `volume` mirrored along `axes`, written with plain subscripts.
    static func flippedStorage(_ volume: Volume<Float>, _ axes: [Bool]) -> [Float] {
        let s = volume.shape
        var result = [Float](repeating: 0, count: s.product)
        for z in 0..<s.z { for y in 0..<s.y { for x in 0..<s.x {
            result[volume.index(z, y, x)] = volume[axes[0] ? s.z - 1 - z : z, axes[1] ? s.y - 1 - y : y, axes[2] ? s.x - 1 - x : x]
        } } }
        return result
    }

    static func pipeline(image: String, model: URL, output: String, blockShape: Coordinate, extra: String = "", dataType: String = "float32") -> String {
        """
        name: predict-test
        execution:
          block_shape: \(blockShape)
          workers: 2
          queue_depth: 2
          retries: 0
        stages:
          prediction:
            kind: predict
            input: \(image)
            model: \(model.path)
            threads: 1
            data_type: \(dataType)
        \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
          save:
            kind: write
            input: prediction
            output: \(output)
        """
    }

    static func run(_ yaml: String, in directory: URL) throws -> RunSummary {
        let pipeline = try PipelineLoader.load(file: try writePipeline(yaml, in: directory))
        return try PipelineRunner(pipeline: pipeline, options: RunOptions(version: "test")).run()
    }

    static func maxDifference(_ a: Volume<Float>, _ b: Volume<Float>) -> Float {
        zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
    }

    @Test("crop stitching equals one whole-volume prediction", arguments: [
        (Coordinate(5, 18, 17), Padding.same), (Coordinate(4, 13, 11), Padding.same), (Coordinate(3, 20, 15), Padding.valid),
    ])
    func cropEqualsWholeVolume(blockShape: Coordinate, padding: Padding) throws {
        let directory = try TestEnvironment.temporaryDirectory("predict-crop")
        let (model, network) = try Self.saveModel(in: directory, padding: padding)
        let (image, pixels) = try Self.saveImage(in: directory)
        let output = directory.path + "/out.zarr/pred"
        let summary = try Self.run(Self.pipeline(image: image, model: model, output: output, blockShape: blockShape), in: directory)
        #expect(summary.succeeded, "\(summary)")
        let predicted = try readVolume(output, as: Float.self)
        let reference = try Self.wholeVolume(network, pixels)
        #expect(Self.maxDifference(predicted, reference) < 1e-5)
        let spread = reference.storage.max()! - reference.storage.min()!
        #expect(spread > 1e-3, "the reference prediction should vary over the volume")
    }

    @Test("uint8 output is the probability x 255, rounded")
    func quantized() throws {
        let directory = try TestEnvironment.temporaryDirectory("predict-uint8")
        let (model, network) = try Self.saveModel(in: directory)
        let (image, pixels) = try Self.saveImage(in: directory)
        let output = directory.path + "/out.zarr/pred"
        let summary = try Self.run(Self.pipeline(image: image, model: model, output: output, blockShape: Coordinate(5, 18, 17), dataType: "uint8"),
                                   in: directory)
        #expect(summary.succeeded, "\(summary)")
        let predicted = try readVolume(output, as: UInt8.self)
        let reference = try Self.wholeVolume(network, pixels)
        let worst = zip(predicted.storage, reference.storage).map { abs(Float($0) - $1 * 255) }.max()!
        #expect(worst <= 0.5 + 1e-3)
    }

    @Test("blended tiles leave no seams at block borders and match the whole volume", arguments: ["gaussian", "linear"])
    func blendingHasNoSeams(profile: String) throws {
        let directory = try TestEnvironment.temporaryDirectory("predict-blend")
        let (model, network) = try Self.saveModel(in: directory)
        let (image, pixels) = try Self.saveImage(in: directory)
        let extra = "stitching: \(profile)\ntile: 6,16,16\noverlap: 2,6,6"
        var results: [Volume<Float>] = []
        let blockShapes = [Coordinate(5, 18, 17), Coordinate(4, 13, 11)]
        for (n, blockShape) in blockShapes.enumerated() {
            let output = directory.path + "/out\(n).zarr/pred"
            let summary = try Self.run(Self.pipeline(image: image, model: model, output: output, blockShape: blockShape, extra: extra), in: directory)
            #expect(summary.succeeded, "\(summary)")
            results.append(try readVolume(output, as: Float.self))
        }
        // The same tiles are blended whatever the block shape.
        #expect(Self.maxDifference(results[0], results[1]) < 1e-6)
        // Every tile is predicted with its full halo, so the blend reproduces the whole volume.
        #expect(Self.maxDifference(results[0], try Self.wholeVolume(network, pixels)) < 1e-5)
        // No seams: neighbours across a block border differ no more than neighbours inside blocks.
        let blockShape = blockShapes[1]
        let field = results[1]
        var across: Float = 0, inside: Float = 0
        for z in 0..<Self.shape.z { for y in 0..<Self.shape.y { for x in 0..<Self.shape.x {
            let p = Coordinate(z, y, x)
            for axis in 0..<3 where p[axis] + 1 < Self.shape[axis] {
                var q = p
                q[axis] += 1
                let difference = abs(field[q.z, q.y, q.x] - field[z, y, x])
                if q[axis] % blockShape[axis] == 0 { across = max(across, difference) } else { inside = max(inside, difference) }
            }
        } } }
        #expect(across <= inside, "largest step across block borders \(across), inside blocks \(inside)")
    }

    @Test("test-time augmentation averages the predictions of the mirrored inputs")
    func flipAugmentation() throws {
        let directory = try TestEnvironment.temporaryDirectory("predict-flips")
        let (model, network) = try Self.saveModel(in: directory)
        let (image, pixels) = try Self.saveImage(in: directory)
        let output = directory.path + "/out.zarr/pred"
        let summary = try Self.run(Self.pipeline(image: image, model: model, output: output, blockShape: Coordinate(5, 18, 17), extra: "flips: xyz"),
                                   in: directory)
        #expect(summary.succeeded, "\(summary)")
        var mean = Volume<Float>(box: Box(shape: Self.shape))
        var plain: Volume<Float>?
        for z in [false, true] { for y in [false, true] { for x in [false, true] {
            let prediction = try Self.wholeVolume(network, pixels, flip: [z, y, x])
            if plain == nil { plain = prediction }
            for i in 0..<mean.storage.count { mean.storage[i] += prediction.storage[i] / 8 }
        } } }
        let predicted = try readVolume(output, as: Float.self)
        #expect(Self.maxDifference(predicted, mean) < 1e-5)
        #expect(Self.maxDifference(plain!, mean) > 1e-4, "the flips should change the prediction of a random network")
    }

    @Test("a changed model file redoes every block; the same model skips them")
    func modelChangeRedoesBlocks() throws {
        let directory = try TestEnvironment.temporaryDirectory("predict-model")
        let (model, _) = try Self.saveModel(in: directory, seed: 3)
        let (image, pixels) = try Self.saveImage(in: directory)
        let output = directory.path + "/out.zarr/pred"
        let blockShape = Coordinate(5, 18, 17)
        let blocks = try BlockGrid(region: Box(shape: Self.shape), blockShape: blockShape).count
        let yaml = Self.pipeline(image: image, model: model, output: output, blockShape: blockShape)
        #expect(try Self.run(yaml, in: directory).pass("save", "write")?.done == blocks)
        let again = try Self.run(yaml, in: directory).pass("save", "write")
        #expect(again.map { ($0.done, $0.skipped) } ?? (-1, -1) == (0, blocks))

        let (_, retrained) = try Self.saveModel(in: directory, seed: 11)
        let redone = try Self.run(yaml, in: directory).pass("save", "write")
        #expect(redone.map { ($0.done, $0.skipped) } ?? (-1, -1) == (blocks, 0))
        #expect(Self.maxDifference(try readVolume(output, as: Float.self), try Self.wholeVolume(retrained, pixels)) < 1e-5)
    }

    @Test("a missing model or a wrong channel is reported on its line")
    func validation() throws {
        let directory = try TestEnvironment.temporaryDirectory("predict-validate")
        let (model, _) = try Self.saveModel(in: directory)
        let (image, _) = try Self.saveImage(in: directory)
        let missing = Self.pipeline(image: image, model: directory.appendingPathComponent("nowhere"), output: directory.path + "/o.zarr/p",
                                    blockShape: Coordinate(5, 18, 17))
        #expect {
            try PipelineLoader.load(yaml: missing, file: "p.yaml")
        } throws: { error in
            "\(error)".contains("p.yaml:11") && "\(error)".contains("no such checkpoint directory")
        }
        let channel = Self.pipeline(image: image, model: model, output: directory.path + "/o.zarr/p", blockShape: Coordinate(5, 18, 17), extra: "channel: 1")
        #expect {
            try PipelineLoader.load(yaml: channel, file: "p.yaml")
        } throws: { error in
            "\(error)".contains("p.yaml:14") && "\(error)".contains("1 output channel")
        }
    }

    @Test("pipelines/synapses.yaml and membranes.yaml validate; synapses.yaml labels the thresholded prediction")
    func shippedPipelines() throws {
        let directory = try TestEnvironment.temporaryDirectory("predict-shipped")
        let (model, network) = try Self.saveModel(in: directory)
        let (image, pixels) = try Self.saveImage(in: directory)
        let pipelines = TestEnvironment.repositoryRoot.appendingPathComponent("pipelines")
        let membranes = try PipelineLoader.load(file: pipelines.appendingPathComponent("membranes.yaml").path,
                                                overrides: [.init(name: "input", value: image), .init(name: "model", value: model.path),
                                                            .init(name: "tile", value: "4,16,16"), .init(name: "overlap", value: "2,4,4")])
        #expect(membranes.stage("save")?.parameters(of: WriteStage.self)?.output.description == "volume-membranes.zarr/membranes")
        #expect(membranes.stage("probabilities")?.output?.dataType == .uint8)

        let reference = try Self.wholeVolume(network, pixels)
        // A threshold near the median that no voxel lies within 1e-5 of.
        let sorted = reference.storage.sorted()
        let cut = (sorted.count / 2..<sorted.count - 1).first { sorted[$0 + 1] - sorted[$0] > 2e-5 }!
        let threshold = Double(sorted[cut] + sorted[cut + 1]) / 2
        let output = directory.path + "/syn.zarr"
        // The truth is the thresholded whole-volume prediction, so the evaluation must be perfect.
        let truth = directory.path + "/truth.zarr/synapses"
        try writeVolume(thresholded(reference, above: Float(threshold)), to: truth, chunks: Coordinate(8, 16, 16))
        let synapses = try PipelineLoader.load(file: pipelines.appendingPathComponent("synapses.yaml").path,
                                               overrides: [.init(name: "input", value: image), .init(name: "model", value: model.path),
                                                           .init(name: "truth", value: truth),
                                                           .init(name: "output", value: output), .init(name: "block_shape", value: "5,18,17"),
                                                           .init(name: "detections", value: directory.path + "/syn.csv"),
                                                           .init(name: "report", value: directory.path + "/report"),
                                                           .init(name: "minimum_size", value: "1"),
                                                           .init(name: "threshold", value: "\(threshold)")])
        #expect(Array(synapses.stages.suffix(2).map(\.kind.name)) == ["detect", "evaluate"])
        let summary = try PipelineRunner(pipeline: synapses, options: RunOptions(version: "test")).run()
        #expect(summary.succeeded, "\(summary)")
        #expect(Self.maxDifference(try readVolume(output + "/probabilities", as: Float.self), reference) < 1e-5)
        let expected = referenceComponents(thresholded(reference, above: Float(threshold)), connectivity: 26)
        #expect(try readVolume(output + "/labels", as: UInt64.self) == expected)
        #expect(expected.storage.max()! > 1, "the test prediction should hold several objects")
        let rows = try String(contentsOfFile: directory.path + "/syn.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == Int(expected.storage.max()!) + 1)
        let evaluation = try #require(try ReportWriter.read(from: URL(fileURLWithPath: directory.path + "/report/report.json")).runs.first?.volumes.first)
        #expect(evaluation.voxel.f1 == 1 && evaluation.objects?.f1 == 1)
    }

    @Test("the halo covers the uneven reach of a pooled receptive field, where half of it falls short")
    func haloCoversUnevenReach() throws {
        let directory = try TestEnvironment.temporaryDirectory("predict-context")
        let (_, network) = try Self.saveModel(in: directory)
        let configuration = network.configuration
        // y, x: receptive field 10; an output voxel at an even position reaches 5 voxels back.
        #expect(configuration.receptiveField == Coordinate(3, 10, 10))
        #expect(configuration.halo == Coordinate(1, 6, 6))
        let (_, pixels) = try Self.saveImage(in: directory)
        let whole = try Self.wholeVolume(network, pixels)
        var padded = Volume<Float>(box: pixels.box.grown(by: Coordinate(2, 12, 12)))
        padded.paste(pixels)
        let region = Box(offset: Coordinate(2, 10, 10), shape: Coordinate(3, 8, 8))
        // The probabilities of the block read with `context` around `region`, over `region`.
        func predicted(context: Coordinate) throws -> Volume<Float> {
            let block = padded.cropped(to: region.grown(by: context))
            var logits = try network.forward(Tensor(volume: block), training: false).volume()
            logits.box = block.box
            return logits.cropped(to: region).map { 1 / (1 + exp(-$0)) }
        }
        #expect(Self.maxDifference(try predicted(context: configuration.halo), whole.cropped(to: region)) < 1e-5)
        // Half the receptive field, rounded up to the pooling grid, is one voxel short here.
        let alignment = configuration.blockAlignment
        let halfField = Coordinate.ceilDivide(Coordinate.floorDivide(configuration.receptiveField - Coordinate(repeating: 1),
                                                                     Coordinate(repeating: 2)), alignment) * alignment
        #expect(halfField == Coordinate(1, 4, 4))
        #expect(Self.maxDifference(try predicted(context: halfField), whole.cropped(to: region)) > 1e-4)
    }
}
