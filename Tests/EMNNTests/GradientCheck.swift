import EMNN
import EMVolume
import Testing

/// Finite-difference checks of backward passes.
///
/// The scalar checked is `L = sum(output * r)` for a fixed random `r`, so `dL/doutput = r`, and
/// the analytic gradient is compared with the central difference `(L(+h) - L(-h)) / 2h` within
/// `absolute + relative * |difference|`. For piecewise-linear layers (ReLU, max-pooling) a
/// sample whose forward and backward one-sided differences disagree straddles a kink and is
/// skipped; at least as many samples must be compared as skipped.
struct GradientChecker {
    var epsilon: Float = 1e-2
    var absolute: Float = 2e-3
    var relative: Float = 1e-2
    var samples = 10
    var piecewiseLinear = false

    /// Result of one check: the number of samples compared and the worst error seen.
    struct Outcome {
        var compared = 0
        var skipped = 0
        var worst: Float = 0
        var failures: [String] = []
    }

    /// `sum(f() * r)` in Double.
    static func weightedSum(_ output: Tensor, _ r: [Float]) -> Double {
        zip(output.toArray(), r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Compares `analytic[i]` with central differences of `evaluate` when `perturb(i, delta)` is applied.
    func compare(indices: [Int], analytic: (Int) -> Float, perturb: (Int, Float) throws -> Void,
                 evaluate: () throws -> Double, label: String) rethrows -> Outcome {
        var outcome = Outcome()
        for i in indices {
            let centre = try evaluate()
            try perturb(i, epsilon)
            let plus = try evaluate()
            try perturb(i, -2 * epsilon)
            let minus = try evaluate()
            try perturb(i, epsilon)
            let h = Double(epsilon)
            let expected = Float((plus - minus) / (2 * h))
            if piecewiseLinear && abs((plus - centre) / h - (centre - minus) / h) > Double(absolute + relative * abs(expected)) {
                outcome.skipped += 1
                continue
            }
            let a = analytic(i)
            let error = abs(a - expected)
            outcome.worst = max(outcome.worst, error)
            outcome.compared += 1
            if error > absolute + relative * abs(expected) {
                outcome.failures.append("\(label)[\(i)]: analytic \(a), finite difference \(expected)")
            }
        }
        return outcome
    }

    /// Checks the input gradient and every parameter gradient of `layer` at `input`.
    func check(_ layer: Layer, input: Tensor, seed: UInt64 = 1) throws {
        for parameter in layer.parameters { parameter.zeroGradient() }
        let output = try layer.forward(input, training: true)
        let r = randomValues(output.shape.elementCount, seed: seed &+ 99)
        let inputGradient = try layer.backward(Tensor(shape: output.shape, values: r)).toArray()
        var values = input.toArray()
        var generator = SeededGenerator(seed: seed)
        func pick(_ count: Int) -> [Int] { (0..<min(samples, count)).map { _ in Int.random(in: 0..<count, using: &generator) } }
        var outcomes: [Outcome] = []
        outcomes.append(try compare(
            indices: pick(values.count), analytic: { inputGradient[$0] },
            perturb: { i, h in values[i] += h },
            evaluate: { Self.weightedSum(try layer.forward(Tensor(shape: input.shape, values: values).converted(to: input.layout),
                                                           training: false), r) },
            label: "input"))
        for parameter in layer.parameters {
            let gradient = parameter.gradient
            outcomes.append(try compare(
                indices: pick(parameter.value.count), analytic: { gradient[$0] },
                perturb: { i, h in parameter.value[i] += h },
                evaluate: { Self.weightedSum(try layer.forward(input, training: false), r) },
                label: parameter.name))
        }
        for outcome in outcomes {
            #expect(outcome.failures.isEmpty, "\(outcome.failures)")
            #expect(outcome.compared >= outcome.skipped, "too many kinks: \(outcome.skipped) skipped, \(outcome.compared) compared")
        }
    }
}
