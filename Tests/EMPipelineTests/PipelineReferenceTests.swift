import EMPipeline
import Foundation
import Testing

/// The generated pipeline reference covers every key the loader accepts.
@Suite("Pipeline reference")
struct PipelineReferenceTests {
    let reference = PipelineReference.markdown()

    @Test("every top-level key, execution key, stage kind and parameter has its row")
    func coversTheSchemas() {
        for key in PipelineLoader.topLevelKeys {
            #expect(reference.contains("\n| `\(key)` | "), "top-level key \(key) is missing")
        }
        for parameter in ExecutionSettings.schema {
            #expect(reference.contains("\n| `\(parameter.name)` | \(escaped(parameter.type.description)) | "),
                    "execution key \(parameter.name) is missing")
        }
        for schema in StageSchema.all {
            guard let range = reference.range(of: "\n### `\(schema.kind)`\n") else {
                Issue.record("stage kind \(schema.kind) has no section")
                continue
            }
            // The kind's parameters are listed in its own section (before the next heading).
            let end = reference.range(of: "\n### ", range: range.upperBound..<reference.endIndex)?.lowerBound ?? reference.endIndex
            let section = reference[range.upperBound..<end]
            #expect(section.contains(schema.summary))
            for parameter in schema.parameters {
                let presence = parameter.required ? "required" : parameter.defaultValue.map { "`\($0)`" } ?? "none"
                #expect(section.contains("\n| `\(parameter.name)` | \(escaped(parameter.type.description)) | \(presence) | "),
                        "\(schema.kind).\(parameter.name) is missing or lacks its type or '\(presence)'")
            }
        }
    }

    @Test("the reference is the same on every call, every table row has four cells, headings follow the level asked")
    func deterministicAndWellFormed() {
        #expect(PipelineReference.markdown() == reference)
        let rows = reference.split(separator: "\n").filter { $0.hasPrefix("| ") }
        #expect(rows.count > StageSchema.all.reduce(0) { $0 + $1.parameters.count })
        for row in rows {
            // Unescaped cell separators: 5 for a 4-column row, 3 for the 2-column key table.
            let separators = row.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count
            #expect(separators == 5 || separators == 3, "malformed row: \(row)")
        }
        #expect(PipelineReference.markdown(headingLevel: 4).contains("\n#### `threshold`\n"))
    }

    private func escaped(_ cell: String) -> String { cell.replacingOccurrences(of: "|", with: "\\|") }
}
