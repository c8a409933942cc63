import CDNNL
import EMVolume

/// Max-pooling with kernel = stride = `factor` (e.g. 1x2x2 or 2x2x2) through oneDNN, keeping
/// the arg-max workspace for the backward pass. Sizes must be divisible by the factor.
public final class MaxPooling: Layer {
    /// Pooling factor per axis.
    public let factor: Coordinate
    let context: ComputeContext
    private var plans: [PlanKey: Plan] = [:]
    private var saved: (plan: Plan, input: TensorShape, workspace: TensorStorage)?

    private struct PlanKey: Hashable {
        let shape: TensorShape
        let layout: TensorLayout
        let training: Bool
    }

    private struct Plan {
        let forward: Primitive
        let output: TensorShape
        let outputLayout: TensorLayout
        let inputLayout: TensorLayout
        let workspace: dnnl_memory_desc_t?
        var backward: Primitive?
    }

    /// Creates a pooling layer.
    public init(factor: Coordinate, context: ComputeContext) throws {
        guard Coordinate.all(factor, .zero, >) else {
            throw NNError.invalidConfiguration("pooling factor \(factor) must be positive on every axis")
        }
        self.factor = factor
        self.context = context
    }

    /// Pooling has no parameters.
    public var parameters: [Parameter] { [] }

    /// The output shape for an input of `shape` (see `Layer`).
    public func outputShape(for shape: TensorShape) throws -> TensorShape {
        for axis in 0..<3 where shape.spatial[axis] % factor[axis] != 0 || shape.spatial[axis] == 0 {
            throw NNError.shapeMismatch("max-pooling \(factor) needs sizes divisible by the factor; axis \(axis) of \(shape) is \(shape.spatial[axis])")
        }
        return TensorShape(batch: shape.batch, channels: shape.channels, spatial: Coordinate.floorDivide(shape.spatial, factor))
    }

    private func describe(_ shape: TensorShape, _ pass: String) -> String { "max-pooling \(factor) \(pass) on \(shape)" }

    private func plan(for input: Tensor, training: Bool) throws -> Plan {
        let key = PlanKey(shape: input.shape, layout: input.layout, training: training)
        if let plan = plans[key] { return plan }
        let output = try outputShape(for: input.shape)
        let name = describe(input.shape, "forward")
        var src = try input.memoryDescriptor()
        var dst = try memoryDescriptor(output.dims, tag: dnnl_format_tag_any)
        let f = dnnlDims(factor.components), zero = dnnlDims([0, 0, 0])
        var desc = dnnl_pooling_v2_desc_t()
        try dnnlCheck(dnnl_pooling_v2_forward_desc_init(&desc, training ? dnnl_forward_training : dnnl_forward_inference,
                                                        dnnl_pooling_max, &src, &dst, f, f, zero, zero, zero), name)
        let forward = try Primitive(operation: &desc, context: context, name: name)
        guard let outputLayout = TensorLayout.matching(forward.memoryDescriptor(dnnl_query_dst_md), shape: output) else {
            throw NNError.library(operation: name, status: "oneDNN chose an unsupported output format")
        }
        let plan = Plan(forward: forward, output: output, outputLayout: outputLayout, inputLayout: input.layout,
                        workspace: training ? forward.memoryDescriptor(dnnl_query_workspace_md) : nil, backward: nil)
        plans[key] = plan
        return plan
    }

    /// Computes the output; with `training`, keeps what `backward` needs (see `Layer`).
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        let plan = try plan(for: input, training: training)
        var output = Tensor(shape: plan.output, layout: plan.outputLayout, zeroed: false)
        var arguments = [(DNNL_ARG_SRC, try input.memoryDescriptor(), input.readPointer),
                         (DNNL_ARG_DST, try output.memoryDescriptor(), output.writePointer())]
        var workspace: TensorStorage?
        if let md = plan.workspace {
            let storage = TensorStorage(count: (byteSize(md) + 3) / 4)
            arguments.append((DNNL_ARG_WORKSPACE, md, UnsafeMutableRawPointer(storage.pointer)))
            workspace = storage
        }
        try plan.forward.execute(context, arguments)
        saved = workspace.map { (plan, input.shape, $0) }
        return output
    }

    /// Accumulates parameter gradients and returns the input gradient (see `Layer`).
    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        guard let (plan, inputShape, workspace) = saved else {
            throw NNError.shapeMismatch("\(describe(outputGradient.shape, "backward")): called without a training forward pass")
        }
        _ = try expectGradient(outputGradient, matches: plan.output, layer: describe(inputShape, "backward"))
        let key = PlanKey(shape: inputShape, layout: plan.inputLayout, training: true)
        let backward = try plans[key]?.backward ?? makeBackward(plan, inputShape: inputShape)
        plans[key]?.backward = backward
        let gradient = outputGradient.converted(to: plan.outputLayout)
        var result = Tensor(shape: inputShape, layout: plan.inputLayout, zeroed: false)
        try backward.execute(context, [
            (DNNL_ARG_DIFF_DST, try gradient.memoryDescriptor(), gradient.readPointer),
            (DNNL_ARG_WORKSPACE, plan.workspace!, UnsafeMutableRawPointer(workspace.pointer)),
            (DNNL_ARG_DIFF_SRC, try result.memoryDescriptor(), result.writePointer()),
        ])
        return result
    }

    private func makeBackward(_ plan: Plan, inputShape: TensorShape) throws -> Primitive {
        let name = describe(inputShape, "backward")
        var diffSrc = try memoryDescriptor(inputShape.dims, tag: plan.inputLayout.tag)
        var diffDst = try memoryDescriptor(plan.output.dims, tag: plan.outputLayout.tag)
        let f = dnnlDims(factor.components), zero = dnnlDims([0, 0, 0])
        var desc = dnnl_pooling_v2_desc_t()
        try dnnlCheck(dnnl_pooling_v2_backward_desc_init(&desc, dnnl_pooling_max, &diffSrc, &diffDst, f, f, zero, zero, zero), name)
        return try Primitive(operation: &desc, context: context, hint: plan.forward, name: name)
    }
}
