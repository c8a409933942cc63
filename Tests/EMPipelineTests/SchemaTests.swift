@testable import EMPipeline
import EMStorage
import EMVolume
import Testing

@Suite("Parameter types and schemas")
struct SchemaTests {
    @Test("values parse by type; wrong values say what was expected")
    func parsing() throws {
        #expect(try ParameterType.shape.parse(.scalar("64,256,256")).get() == .coordinate(Coordinate(64, 256, 256)))
        #expect(try ParameterType.shape.parse(.list(["8", "16", "32"])).get() == .coordinate(Coordinate(8, 16, 32)))
        #expect(try ParameterType.shape.parse(.scalar("5")).get() == .coordinate(Coordinate(5, 5, 5)))
        #expect(try ParameterType.anyNumber.parse(.scalar("0.25")).get() == .number(0.25))
        #expect(try ParameterType.boolean.parse(.scalar("yes")).get() == .boolean(true))
        #expect(try ParameterType.region.parse(.scalar("0:4,2:6,1:3")).get() == .region(Box(begin: Coordinate(0, 2, 1), end: Coordinate(4, 6, 3))))

        let shape = ParameterType.shape.parse(.scalar("abc"))
        #expect(shape == .failure(ParameterParseError(message: "expected z,y,x integers (positive), got 'abc'")))
        let negative = ParameterType.shape.parse(.list(["1", "0", "2"]))
        #expect(negative == .failure(ParameterParseError(message: "expected z,y,x integers (positive), got '[1, 0, 2]'")))
        let integer = ParameterType.integer(minimum: 1, maximum: 8).parse(.scalar("9"))
        #expect(integer == .failure(ParameterParseError(message: "expected an integer from 1 to 8, got '9'")))
        let choice = ParameterType.choice(["minmax", "percentile"]).parse(.scalar("percentil"))
        #expect(choice == .failure(ParameterParseError(message: "expected one of minmax, percentile, got 'percentil' (did you mean 'percentile'?)")))
        let volume = ParameterType.volume.parse(.scalar("maks"), stageNames: ["mask", "raw"])
        #expect(volume == .failure(ParameterParseError(message: "'maks' is neither a stage of this pipeline nor a store address (did you mean stage 'mask'?)")))
        let stored = ParameterType.storedVolume.parse(.scalar("sav"), stageNames: ["save", "mask"])
        guard case let .failure(storedProblem) = stored else { Issue.record("'sav' parsed as \(stored)"); return }
        #expect(storedProblem.message.hasPrefix("'sav' is neither a stage of this pipeline nor a store address (did you mean stage 'save'?): "), "\(storedProblem)")
        let checkpoint = ParameterType.checkpoint.parse(.scalar("trian"), stageNames: ["train", "predict"])
        #expect(checkpoint == .failure(ParameterParseError(message: "'trian' is neither a stage of this pipeline nor a checkpoint directory (did you mean stage 'train'?)")))
        #expect(try ParameterType.checkpoint.parse(.scalar("train"), stageNames: ["train"]).get() == .stage("train"))
        #expect(try ParameterType.checkpoint.parse(.scalar("runs/a/best"), stageNames: ["train"]).get() == .text("runs/a/best"))
        #expect(try ParameterType.volume.parse(.scalar("mask"), stageNames: ["mask"]).get() == .stage("mask"))
        #expect(try ParameterType.volume.parse(.scalar("a.h5:raw"), stageNames: ["mask"]).get() == .store(.init(format: .hdf5, path: "a.h5", key: "raw")))
    }

    @Test("edit distance and suggestions")
    func suggestions() {
        #expect(Suggestions.editDistance("kitten", "sitting") == 3)
        #expect(Suggestions.editDistance("", "abc") == 3)
        #expect(Suggestions.editDistance("maks", "mask") == 1)
        #expect(Suggestions.closest(to: "treshold", among: StageSchema.all.map(\.kind)) == "threshold")
        #expect(Suggestions.closest(to: "zzzz", among: StageSchema.all.map(\.kind)) == nil)
    }

    @Test("every stage kind documents every parameter; defaults have their parameter's type")
    func introspection() {
        // Every kind once, by a name a pipeline file can write; the first wave's kinds are all there
        // (a new kind needs no change here: its schema is checked by the loop below).
        let names = StageSchema.all.map(\.kind)
        #expect(Set(names).count == names.count && names.allSatisfy { $0.allSatisfy { $0.isLowercase || $0 == "_" } })
        #expect(Set(names).isSuperset(of: ["read", "normalize", "threshold", "smooth", "mask", "components", "predict", "write", "detect", "evaluate", "train"]))
        for schema in StageSchema.all + [StageSchema(kind: "execution", summary: "", parameters: ExecutionSettings.schema)] {
            #expect(!schema.summary.isEmpty || schema.kind == "execution")
            for parameter in schema.parameters {
                #expect(!parameter.doc.isEmpty, "\(schema.kind).\(parameter.name) has no doc")
                #expect(!(parameter.required && parameter.defaultValue != nil), "\(schema.kind).\(parameter.name) is required and has a default")
                if let value = parameter.defaultValue {
                    let reparsed = parameter.type.parse(.scalar(value.description))
                    #expect(reparsed == .success(value) || (try? reparsed.get()).map { "\($0)" } == value.description,
                            "\(schema.kind).\(parameter.name): default \(value) is not a valid \(parameter.type)")
                }
            }
        }
    }
}
