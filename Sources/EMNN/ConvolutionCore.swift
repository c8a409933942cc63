import CDNNL
import EMVolume

/// The oneDNN side of a convolution or transposed convolution for one input shape: forward and
/// backward-data primitives, each with weights packed into the layout it chose.
///
/// oneDNN picks different weight layouts for forward and backward-data, so each primitive gets
/// its own packed copy, refreshed when the parameter's version changes.
final class ConvolutionPlan {
    let forward: Primitive
    let inputLayout: TensorLayout
    let outputShape: TensorShape
    let outputLayout: TensorLayout
    private let forwardWeights: PackedWeights
    private var backwardData: (primitive: Primitive, gradientLayout: TensorLayout, inputGradientLayout: TensorLayout,
                               weights: PackedWeights)?
    private let core: ConvolutionCore

    init(core: ConvolutionCore, input: TensorShape, training: Bool) throws {
        self.core = core
        outputShape = try core.outputShape(for: input)
        let name = core.describe(input, "forward")
        var src = try memoryDescriptor(input.dims, tag: dnnl_format_tag_any)
        var weights = try memoryDescriptor(core.oneDNNWeightDims, tag: dnnl_format_tag_any)
        var bias = try memoryDescriptor([core.outputChannels], tag: dnnl_a)
        var dst = try memoryDescriptor(outputShape.dims, tag: dnnl_format_tag_any)
        let attributes = try reluAttributes(core.fusedReLU)
        defer { if let attributes { dnnl_primitive_attr_destroy(attributes) } }
        let prop = training ? dnnl_forward_training : dnnl_forward_inference
        forward = try core.withOperation { strides, low, high in
            switch core.kind {
            case .convolution:
                var desc = dnnl_convolution_desc_t()
                try dnnlCheck(dnnl_convolution_forward_desc_init(&desc, prop, dnnl_convolution_direct, &src, &weights, &bias, &dst,
                                                                 strides, low, high), name)
                return try Primitive(operation: &desc, attributes: attributes, context: core.context, name: name)
            case .transposed:
                var desc = dnnl_deconvolution_desc_t()
                try dnnlCheck(dnnl_deconvolution_forward_desc_init(&desc, prop, dnnl_deconvolution_direct, &src, &weights, &bias, &dst,
                                                                   strides, low, high), name)
                return try Primitive(operation: &desc, attributes: attributes, context: core.context, name: name)
            }
        }
        if StrideSizedTransposedConvolution.applies(to: core) {
            // Computed by sgemm + scatter on plain tensors; the primitive serves as backward-data's hint.
            (inputLayout, outputLayout) = (.plain, .plain)
        } else {
            inputLayout = try core.layout(of: forward.memoryDescriptor(dnnl_query_src_md), shape: input, role: "\(name) input")
            outputLayout = try core.layout(of: forward.memoryDescriptor(dnnl_query_dst_md), shape: outputShape, role: "\(name) output")
        }
        forwardWeights = PackedWeights(target: forward.memoryDescriptor(dnnl_query_weights_md))
    }

    /// Runs the forward primitive on `input` (already in `inputLayout`).
    func runForward(_ input: Tensor) throws -> Tensor {
        if StrideSizedTransposedConvolution.applies(to: core) {
            return StrideSizedTransposedConvolution.forward(core, input: input, outputShape: outputShape)
        }
        let weights = try forwardWeights.pointer(for: core)
        var output = Tensor(shape: outputShape, layout: outputLayout, zeroed: false)
        var bias = core.bias.value
        try bias.withUnsafeMutableBytes { biasBytes in
            try forward.execute(core.context, [
                (DNNL_ARG_SRC, try input.memoryDescriptor(), input.readPointer),
                (DNNL_ARG_WEIGHTS, forwardWeights.descriptor, weights),
                (DNNL_ARG_BIAS, try memoryDescriptor([core.outputChannels], tag: dnnl_a), biasBytes.baseAddress!),
                (DNNL_ARG_DST, try output.memoryDescriptor(), output.writePointer()),
            ])
        }
        return output
    }

    /// Runs backward-data: the gradient of the input from the gradient of the output.
    func runBackwardData(_ outputGradient: Tensor, inputShape: TensorShape) throws -> Tensor {
        let plan = try backwardDataPlan(inputShape: inputShape)
        let gradient = outputGradient.converted(to: plan.gradientLayout)
        let weights = try plan.weights.pointer(for: core)
        var result = Tensor(shape: inputShape, layout: plan.inputGradientLayout, zeroed: false)
        try plan.primitive.execute(core.context, [
            (DNNL_ARG_DIFF_DST, try gradient.memoryDescriptor(), gradient.readPointer),
            (DNNL_ARG_WEIGHTS, plan.weights.descriptor, weights),
            (DNNL_ARG_DIFF_SRC, try result.memoryDescriptor(), result.writePointer()),
        ])
        return result
    }

    /// The implementation of the backward-data primitive (created if needed).
    func backwardDataImplementation(inputShape: TensorShape) throws -> String {
        try backwardDataPlan(inputShape: inputShape).primitive.implementation
    }

    private func backwardDataPlan(inputShape: TensorShape)
        throws -> (primitive: Primitive, gradientLayout: TensorLayout, inputGradientLayout: TensorLayout, weights: PackedWeights) {
        if let backwardData { return backwardData }
        let name = core.describe(inputShape, "backward-data")
        var diffSrc = try memoryDescriptor(inputShape.dims, tag: dnnl_format_tag_any)
        var weights = try memoryDescriptor(core.oneDNNWeightDims, tag: dnnl_format_tag_any)
        var diffDst = try memoryDescriptor(outputShape.dims, tag: dnnl_format_tag_any)
        let primitive = try core.withOperation { strides, low, high in
            switch core.kind {
            case .convolution:
                var desc = dnnl_convolution_desc_t()
                try dnnlCheck(dnnl_convolution_backward_data_desc_init(&desc, dnnl_convolution_direct, &diffSrc, &weights, &diffDst,
                                                                       strides, low, high), name)
                return try Primitive(operation: &desc, context: core.context, hint: forward, name: name)
            case .transposed:
                var desc = dnnl_deconvolution_desc_t()
                try dnnlCheck(dnnl_deconvolution_backward_data_desc_init(&desc, dnnl_deconvolution_direct, &diffSrc, &weights, &diffDst,
                                                                         strides, low, high), name)
                return try Primitive(operation: &desc, context: core.context, hint: forward, name: name)
            }
        }
        let plan = (primitive: primitive,
                    gradientLayout: try core.layout(of: primitive.memoryDescriptor(dnnl_query_diff_dst_md), shape: outputShape,
                                                    role: "\(name) output gradient"),
                    inputGradientLayout: try core.layout(of: primitive.memoryDescriptor(dnnl_query_diff_src_md), shape: inputShape,
                                                         role: "\(name) input gradient"),
                    weights: PackedWeights(target: primitive.memoryDescriptor(dnnl_query_weights_md)))
        backwardData = plan
        return plan
    }
}

/// Weights reordered from PyTorch order into the layout one primitive chose, cached per version.
final class PackedWeights {
    let descriptor: dnnl_memory_desc_t
    private let buffer: TensorStorage
    private var version: Int?

    init(target: dnnl_memory_desc_t) {
        descriptor = target
        buffer = TensorStorage(count: (byteSize(target) + 3) / 4)
    }

    /// The packed weights of `core`, re-packed when its weight parameter changed.
    func pointer(for core: ConvolutionCore) throws -> UnsafeMutableRawPointer {
        let destination = UnsafeMutableRawPointer(buffer.pointer)
        if version == core.weight.version { return destination }
        var effective = core.weight.effectiveValue
        let source = try core.userWeightDescriptor()
        let reorder = try Primitive(reorderFrom: source, to: descriptor, context: core.context)
        try effective.withUnsafeMutableBytes { bytes in
            try reorder.execute(core.context, [(DNNL_ARG_FROM, source, bytes.baseAddress!), (DNNL_ARG_TO, descriptor, destination)])
        }
        version = core.weight.version
        return destination
    }
}

/// What convolutions and transposed convolutions share: parameters, geometry, primitive plans
/// per input shape, and the backward pass (data through oneDNN, weights through im2col + sgemm).
final class ConvolutionCore {
    enum Kind { case convolution, transposed }

    let kind: Kind
    let inputChannels: Int
    let outputChannels: Int
    let kernel: Coordinate
    let stride: Coordinate
    let paddingLow: Coordinate
    let paddingHigh: Coordinate
    let fusedReLU: Bool
    let weight: Parameter
    let bias: Parameter
    let context: ComputeContext
    private var plans: [PlanKey: ConvolutionPlan] = [:]
    let weightGradients = WeightGradientEngine()
    private var savedInput: Tensor?
    private var savedOutput: Tensor?
    private var savedPlan: ConvolutionPlan?

    private struct PlanKey: Hashable {
        let shape: TensorShape
        let training: Bool
    }

    init(kind: Kind, name: String, inputChannels: Int, outputChannels: Int, kernel: Coordinate, stride: Coordinate,
         paddingLow: Coordinate, paddingHigh: Coordinate, fusedReLU: Bool, context: ComputeContext, seed: UInt64,
         initialization: WeightInitialization) throws {
        guard inputChannels > 0, outputChannels > 0 else {
            throw NNError.invalidConfiguration("\(name): channel counts must be positive (got \(inputChannels) -> \(outputChannels))")
        }
        guard Coordinate.all(kernel, .zero, >), Coordinate.all(stride, .zero, >) else {
            throw NNError.invalidConfiguration("\(name): kernel \(kernel) and stride \(stride) must be positive on every axis")
        }
        self.kind = kind
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernel = kernel
        self.stride = stride
        self.paddingLow = paddingLow
        self.paddingHigh = paddingHigh
        self.fusedReLU = fusedReLU
        self.context = context
        let taps = kernel.product
        let fanIn = (kind == .convolution ? inputChannels : outputChannels) * taps
        let shape = kind == .convolution ? [outputChannels, inputChannels] : [inputChannels, outputChannels]
        var random = SeededGenerator(seed: seed)
        let (weightLimit, biasLimit) = initialization.limits(fanIn: fanIn)
        weight = Parameter(name: "\(name).weight", shape: shape + kernel.components,
                           value: (0..<(inputChannels * outputChannels * taps)).map { _ in Float.random(in: -weightLimit...weightLimit, using: &random) })
        bias = Parameter(name: "\(name).bias", shape: [outputChannels],
                         value: (0..<outputChannels).map { _ in biasLimit > 0 ? Float.random(in: -biasLimit...biasLimit, using: &random) : 0 })
    }

    /// oneDNN's logical weight dimensions: `[out, in, kz, ky, kx]` for both kinds.
    var oneDNNWeightDims: [Int] { [outputChannels, inputChannels] + kernel.components }

    /// The descriptor of `weight.value` (PyTorch order) in oneDNN's logical dimensions.
    func userWeightDescriptor() throws -> dnnl_memory_desc_t {
        try memoryDescriptor(oneDNNWeightDims, tag: kind == .convolution ? dnnl_oidhw : dnnl_iodhw)
    }

    /// "convolution 16->32 3x3x3 forward on 1x16x64x64x64" for messages.
    func describe(_ input: TensorShape, _ pass: String) -> String {
        let what = kind == .convolution ? "convolution" : "transposed convolution"
        return "\(what) \(inputChannels)->\(outputChannels) kernel \(kernel) stride \(stride) \(pass) on \(input)"
    }

    /// Output shape for an input of `shape`.
    func outputShape(for shape: TensorShape) throws -> TensorShape {
        guard shape.channels == inputChannels else {
            throw NNError.shapeMismatch("\(describe(shape, "forward")): input has \(shape.channels) channels, expected \(inputChannels)")
        }
        var spatial = Coordinate.zero
        for axis in 0..<3 {
            let n = shape.spatial[axis], k = kernel[axis], s = stride[axis]
            let padded = paddingLow[axis] + paddingHigh[axis]
            switch kind {
            case .convolution:
                guard n + padded >= k else {
                    throw NNError.shapeMismatch("\(describe(shape, "forward")): axis \(axis) has \(n) voxels, the kernel needs at least \(k - padded)")
                }
                spatial[axis] = (n + padded - k) / s + 1
            case .transposed:
                spatial[axis] = (n - 1) * s + k - padded
            }
        }
        return TensorShape(batch: shape.batch, channels: outputChannels, spatial: spatial)
    }

    /// The tensor layout oneDNN chose, or an error naming the unexpected format.
    func layout(of md: dnnl_memory_desc_t, shape: TensorShape, role: String) throws -> TensorLayout {
        guard let layout = TensorLayout.matching(md, shape: shape) else {
            throw NNError.library(operation: role, status: "oneDNN chose a memory format this engine does not support")
        }
        return layout
    }

    /// Calls `body` with oneDNN's stride and padding arrays.
    func withOperation<R>(_ body: (UnsafePointer<dnnl_dim_t>, UnsafePointer<dnnl_dim_t>, UnsafePointer<dnnl_dim_t>) throws -> R) throws -> R {
        let s = dnnlDims(stride.components), low = dnnlDims(paddingLow.components), high = dnnlDims(paddingHigh.components)
        return try s.withUnsafeBufferPointer { sp in
            try low.withUnsafeBufferPointer { lp in
                try high.withUnsafeBufferPointer { hp in try body(sp.baseAddress!, lp.baseAddress!, hp.baseAddress!) }
            }
        }
    }

    private func plan(for shape: TensorShape, training: Bool) throws -> ConvolutionPlan {
        let key = PlanKey(shape: shape, training: training)
        if let plan = plans[key] { return plan }
        let plan = try ConvolutionPlan(core: self, input: shape, training: training)
        plans[key] = plan
        return plan
    }

    /// The implementations oneDNN chose for the forward and backward-data passes on `shape`
    /// (e.g. `jit:avx2`).
    func implementations(for shape: TensorShape) throws -> (forward: String, backwardData: String) {
        let plan = try plan(for: shape, training: true)
        return (plan.forward.implementation, try plan.backwardDataImplementation(inputShape: shape))
    }

    func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        let plan = try plan(for: input.shape, training: training)
        let x = input.converted(to: plan.inputLayout)
        let y = try plan.runForward(x)
        savedInput = training ? x : nil
        savedOutput = training && fusedReLU ? y : nil
        savedPlan = training ? plan : nil
        return y
    }

    /// Accumulates weight and bias gradients (unless `parameters` is false); returns the input
    /// gradient when `inputGradient`.
    func backward(_ outputGradient: Tensor, parameters: Bool = true, inputGradient: Bool) throws -> Tensor? {
        guard let input = savedInput, let plan = savedPlan else {
            throw NNError.shapeMismatch("\(describe(outputGradient.shape, "backward")): backward called without a training forward pass")
        }
        _ = try expectGradient(outputGradient, matches: plan.outputShape, layer: describe(input.shape, "backward"))
        var gradient = outputGradient
        if fusedReLU, let output = savedOutput {
            gradient = gradient.converted(to: output.layout)
            reluBackward(&gradient, output: output)
        }
        if parameters { accumulateParameterGradients(input: input, gradient: gradient) }
        return inputGradient ? try plan.runBackwardData(gradient, inputShape: input.shape) : nil
    }

    /// Weight gradient by im2col + sgemm (masked), bias gradient by channel sums.
    private func accumulateParameterGradients(input: Tensor, gradient: Tensor) {
        let threads = context.threadCount ?? ThreadSettings.defaultThreads
        weight.gradient.withUnsafeMutableBufferPointer { g in
            switch kind {
            case .convolution:
                weightGradients.accumulate(input: input, outputGradient: gradient, kernel: kernel, stride: stride,
                                           paddingLow: paddingLow, into: g.baseAddress!, threads: threads)
            case .transposed:
                // The weight gradient of y = W^T x is that of a convolution of the output gradient
                // (as input) producing x (as output): the same im2col with the roles swapped.
                weightGradients.accumulate(input: gradient, outputGradient: input, kernel: kernel,
                                           stride: stride, paddingLow: paddingLow, into: g.baseAddress!, threads: threads)
            }
        }
        weight.maskGradient()
        let sums = channelSums(gradient) { g, _ in (g, 0) }.first
        for (i, sum) in sums.enumerated() { bias.gradient[i % gradient.shape.channels] += Float(sum) }
    }
}

/// Zeroes the gradient where a ReLU output was not positive (both tensors in the same layout).
func reluBackward(_ gradient: inout Tensor, output: Tensor) {
    precondition(gradient.layout == output.layout && gradient.storageCount == output.storageCount)
    let y = output.storage.pointer
    gradient.withUnsafeMutableBufferPointer { g in
        // Unconditional loads and a select, so the loop vectorises without branches.
        for i in 0..<g.count {
            let value = g[i]
            g[i] = y[i] > 0 ? value : 0
        }
    }
}
