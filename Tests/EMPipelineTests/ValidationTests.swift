@testable import EMPipeline
import EMVolume
import Foundation
import Testing
import TestSupport

/// Validation of pipeline files against real stores: every problem with its line, nothing run.
@Suite("Pipeline validation")
struct ValidationTests {
    let directory: URL
    let input: String

    init() throws {
        directory = try TestEnvironment.temporaryDirectory("validate")
        input = directory.path + "/in.zarr/raw"
        try writeVolume(smoothField(Coordinate(8, 16, 16), seed: 1), to: input, chunks: Coordinate(4, 8, 8))
    }

    /// The diagnostics of loading `yaml`, or none when it is valid.
    func problems(_ yaml: String, overrides: [String] = []) throws -> [PipelineDiagnostic] {
        let path = try writePipeline(yaml, in: directory)
        do {
            _ = try PipelineLoader.load(file: path, overrides: try overrides.map(VariableOverride.parse))
            return []
        } catch let PipelineError.invalid(diagnostics) {
            return diagnostics
        }
    }

    var file: String { directory.path + "/pipeline.yaml" }

    @Test("a valid pipeline resolves variables, defaults, implicit readers and outputs")
    func valid() throws {
        let path = try writePipeline("""
        name: demo
        vars:
          input: \(input)
          threshold: 0.5
        execution:
          block_shape: [4, 8, 8]
        stages:
          mask:
            kind: threshold
            input: ${input}
            value: ${threshold}
          labels:
            kind: components
            input: mask
          save:
            kind: write
            input: labels
            output: \(directory.path)/out.zarr/labels
        """, in: directory)
        let pipeline = try PipelineLoader.load(file: path, overrides: [VariableOverride(name: "threshold", value: "0.25")])
        #expect(pipeline.name == "demo")
        #expect(pipeline.execution.blockShape == Coordinate(4, 8, 8) && pipeline.execution.workers == 2)
        #expect(pipeline.stages.map(\.name) == ["mask.input", "mask", "labels", "save"])
        #expect(pipeline.stage("mask")?.parameters(of: ThresholdStage.self)?.value == 0.25)
        #expect(pipeline.stage("mask")?.parameters(of: ThresholdStage.self)?.comparison == .greater)
        #expect(pipeline.stage("labels")?.output == VolumeDescriptor(shape: Coordinate(8, 16, 16), dataType: .uint64))
        #expect(pipeline.stage("save")?.output?.dataType == .uint64)
        #expect(pipeline.variables.first { $0.name == "threshold" } == ResolvedVariable(name: "threshold", value: "0.25", overridden: true))
    }

    @Test("malformed YAML: the line of the syntax error")
    func malformed() throws {
        let found = try problems("""
        stages:
          mask:
            kind: threshold
            value: [0.5, 1
            input: x
        """)
        #expect(found.count == 1)
        #expect(found.first?.location?.line == 5, "\(found)")
        #expect(found.first?.description.hasPrefix("\(file):5: malformed YAML") == true, "\(found)")
    }

    @Test("every problem of a file at once, in line order, with suggestions")
    func collectsAll() throws {
        let found = try problems("""
        vars:
          threshold: 0.5
        execution:
          block_shape: abc
          wokers: 2
        stages:
          mask:
            kind: threshold
            input: \(input)
            value: high
          blur:
            kind: treshold
            input: mask
          labels:
            kind: components
            input: mask
            connectivty: 6
          save:
            kind: write
            input: labels
            output: \(directory.path)/out.zarr/labels
            level: ${treshold}
        """).map(\.description)
        #expect(found == [
            "\(file):4: 'execution.block_shape': expected z,y,x integers (positive), got 'abc'",
            "\(file):5: 'execution.wokers': unknown key (did you mean 'workers'?)",
            "\(file):10: stage 'mask': parameter 'value': expected a number, got 'high'",
            "\(file):12: stage 'blur': parameter 'kind': unknown stage kind 'treshold' (did you mean 'threshold'?)",
            "\(file):17: stage 'labels': parameter 'connectivty': unknown parameter (did you mean 'connectivity'?)",
            "\(file):22: stage 'save': parameter 'level': undefined variable 'treshold' (did you mean 'threshold'?)",
        ])
    }

    @Test("missing input, missing required parameter, stage names that do not exist")
    func missing() throws {
        let found = try problems("""
        stages:
          mask:
            kind: threshold
            input: \(directory.path)/absent.zarr/raw
            value: 0.5
          labels:
            kind: components
            input: maks
          save:
            kind: write
            input: labels
        """).map(\.description)
        #expect(found.count == 3, "\(found)")
        #expect(found[0].hasPrefix("\(file):4: stage 'mask': parameter 'input': missing input: cannot open '\(directory.path)/absent.zarr/raw'"), "\(found[0])")
        #expect(found[1] == "\(file):8: stage 'labels': parameter 'input': 'maks' is neither a stage of this pipeline nor a store address (did you mean stage 'mask'?)")
        #expect(found[2] == "\(file):9: stage 'save': missing required parameter 'output': the address of a volume to write (file.h5:dataset, dir.zarr/array, stack.tif)")
    }

    @Test("incompatible shapes: two inputs, chunks and blocks, a region outside the volume")
    func shapes() throws {
        let other = directory.path + "/other.zarr/raw"
        try writeVolume(Volume<UInt8>(shape: Coordinate(8, 16, 12)), to: other, chunks: Coordinate(8, 8, 8))
        let found = try problems("""
        execution:
          block_shape: 4,8,8
        stages:
          masked:
            kind: mask
            input: \(input)
            mask: \(other)
          cropped:
            kind: read
            input: \(input)
            roi: 0:4,0:8,10:20
          save:
            kind: write
            input: \(input)
            output: \(directory.path)/out.zarr/copy
            chunks: 4,8,3
        """).map(\.description)
        #expect(found == [
            "\(file):7: stage 'masked': parameter 'mask': incompatible shapes: the input is 8,16,16, the mask is 8,16,12 (z,y,x voxels)",
            "\(file):11: stage 'cropped': parameter 'roi': roi [0:4, 0:8, 10:20] is not inside the volume '\(input)' of shape 8,16,16",
            "\(file):16: stage 'save': parameter 'chunks': block_shape 4,8,8 is not a multiple of chunks 4,8,3: blocks would not be chunk-aligned",
        ])
    }

    @Test("cycles between stages are named")
    func cycles() throws {
        let found = try problems("""
        stages:
          a:
            kind: threshold
            input: b
            value: 1
          b:
            kind: threshold
            input: a
            value: 1
          save:
            kind: write
            input: b
            output: \(directory.path)/out.zarr/x
        """).map(\.description)
        #expect(found == ["\(file):8: stage 'b': parameter 'input': the stages form a cycle: a -> b -> a"])
    }

    @Test("variables: required, unknown overrides, cycles")
    func variables() throws {
        let yaml = """
        vars:
          input: ~
          output: ${base}/out.zarr/x
          base: ${output}
        stages:
          save:
            kind: write
            input: ${input}
            output: ${output}
        """
        let found = try problems(yaml, overrides: ["inptu=x"]).map(\.description)
        #expect(found.contains("--set inptu=x: unknown variable 'inptu' (did you mean 'input'?)"), "\(found)")
        #expect(found.contains("\(file):2: 'vars.input': variable 'input' has no default: give it a value with --set input=VALUE"), "\(found)")
        #expect(found.contains { $0.hasPrefix("\(file):3: 'vars.output': variables refer to each other in a cycle") }, "\(found)")
    }

    @Test("outputs: an existing volume emflow did not write, a sink used as an input, a store written twice")
    func outputs() throws {
        let found = try problems("""
        stages:
          save:
            kind: write
            input: \(input)
            output: \(input)
          again:
            kind: write
            input: save
            output: \(directory.path)/out.zarr/x
          twice:
            kind: write
            input: \(input)
            output: \(directory.path)/out.zarr/x
        """).map(\.description)
        #expect(found == [
            "\(file):5: stage 'save': parameter 'output': '\(input)' already exists and was not written by emflow: set overwrite: true to replace it",
            "\(file):8: stage 'again': parameter 'input': stage 'save' stores its input and has no output to use here (use the stage it writes instead)",
        ], "\(found)")
        let twice = try problems("""
        stages:
          one:
            kind: write
            input: \(input)
            output: \(directory.path)/out.zarr/x
          two:
            kind: write
            input: \(input)
            output: \(directory.path)/out.zarr/x
        """).map(\.description)
        #expect(twice == ["\(file):9: stage 'two': parameter 'output': '\(directory.path)/out.zarr/x' is also written by stage 'one'"])
    }

    @Test("the pipelines shipped in pipelines/ validate")
    func shipped() throws {
        let pipelines = TestEnvironment.repositoryRoot.appendingPathComponent("pipelines")
        let convert = try PipelineLoader.load(file: pipelines.appendingPathComponent("convert.yaml").path,
                                              overrides: [.init(name: "input", value: input), .init(name: "output", value: directory.path + "/c.zarr/raw"),
                                                          .init(name: "chunks", value: "4,8,8")])
        #expect(convert.stages.count == 2)
        let components = try PipelineLoader.load(file: pipelines.appendingPathComponent("threshold-components.yaml").path,
                                                 overrides: [.init(name: "input", value: input), .init(name: "output", value: directory.path + "/o.zarr")])
        #expect(components.stages.map(\.kind.name).sorted() == ["components", "read", "threshold", "write", "write"])
    }
}
