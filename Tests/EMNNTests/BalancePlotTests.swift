@testable import EMNN
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite("Balance plot")
struct BalancePlotTests {
    @Test("one dot per unit, a line per beta, round axis ranges, a standalone SVG document")
    func plot() throws {
        let svg = BalancePlot.svg(title: "bb-both", fanOut: [3, 10, 41], logOdds: [-0.4, 1.2, 2.9], beta: 0.07, fittedBeta: 0.06)
        #expect(svg.hasPrefix("<?xml") && svg.contains("xmlns=\"http://www.w3.org/2000/svg\"") && svg.contains("<style>"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3 + 1)  // three units and the scatter's legend dot
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.contains("solved beta = 0.07") && svg.contains("fitted beta = 0.06"))
        _ = try XMLDocument(xmlString: svg)
        for (low, high) in [(0.0, 41.8), (-0.4, 2.96), (0, 0.73), (-7.2, 5.0)] {
            let range = BalancePlot.niceRange(low, high)
            let step = (range.upperBound - range.lowerBound) / 5
            #expect(range.lowerBound <= low && range.upperBound >= high)
            #expect(abs((range.lowerBound / step).rounded() - range.lowerBound / step) < 1e-9)
            if range.upperBound - range.lowerBound >= 2 { #expect(step >= 1 && step == step.rounded()) }
        }
        #expect(BalancePlot.niceRange(0, 41.8) == 0...50)
    }
}
