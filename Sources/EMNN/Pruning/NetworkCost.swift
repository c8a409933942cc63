import EMVolume

extension UNet {
    /// The output shape of every convolution (`encoder.L.convI`, `upsample.L`, `decoder.L.convI`,
    /// `head`) for an input of `input`, without computing anything.
    public func layerOutputShapes(for input: TensorShape) throws -> [String: TensorShape] {
        _ = try outputShape(for: input)
        var result: [String: TensorShape] = [:]
        func block(_ side: String, level: Int, _ layers: [Layer], _ shape: TensorShape) throws -> TensorShape {
            var shape = shape
            for (i, convolution) in layers.compactMap({ $0 as? Convolution }).enumerated() {
                shape = try convolution.outputShape(for: shape)
                result["\(side).\(level).conv\(i)"] = shape
            }
            return shape
        }
        var shape = input
        var skips: [TensorShape] = []
        for level in 0..<configuration.depth {
            shape = try block("encoder", level: level, encoder[level], shape)
            if level < configuration.depth - 1 {
                skips.append(shape)
                shape = try pools[level].outputShape(for: shape)
            }
        }
        for level in (0..<(configuration.depth - 1)).reversed() {
            let up = try upsamplers[level].outputShape(for: shape)
            result["upsample.\(level)"] = up
            shape = try block("decoder", level: level, decoder[level],
                              TensorShape(batch: up.batch, channels: skips[level].channels + up.channels, spatial: up.spatial))
        }
        result["head"] = try head.outputShape(for: shape)
        return result
    }

    /// Floating-point operations of one forward pass over `input` (convolutions and transposed
    /// convolutions; multiply + add counted as 2): `dense` over every channel pair, `sparse` over
    /// the slabs the masks keep.
    public func convolutionFLOPs(for input: TensorShape) throws -> (dense: Double, sparse: Double) {
        let shapes = try layerOutputShapes(for: input)
        let graph = ConnectivityGraph(network: self)
        let kept = graph.keptSlabs()
        var dense = 0.0, sparse = 0.0
        for (index, layer) in graph.layers.enumerated() {
            guard let output = shapes[layer.name] else { continue }
            // A transposed convolution's kernel taps each write one output voxel per input voxel.
            let perSlab = 2 * Double(layer.weight.slabSize) * Double(output.batch * output.spatial.product)
                / (layer.transposed ? Double(layer.weight.slabSize) : 1)
            let slabs = graph.slabs.indices.filter { graph.slabs[$0].layer == index }
            dense += perSlab * Double(slabs.count)
            sparse += perSlab * Double(slabs.filter { kept[$0] }.count)
        }
        return (dense, sparse)
    }
}
