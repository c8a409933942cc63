import EMNN
import EMVolume
import Foundation
import TestSupport
import Testing

/// PyTorch, given emflow's initial weights and the same batches, trains the same network with
/// the same loss and optimiser; its losses step by step are the reference.
private let torchTraining = #"""
import json, struct, sys
import numpy as np, torch
import torch.nn.functional as F

directory, steps, shape_text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(2)
with open(f"{directory}/init/model.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
config = json.load(open(f"{directory}/init/config.json"))
training = json.load(open(f"{directory}/training.json"))
params = {}
for name, entry in header.items():
    if name == "__metadata__":
        continue
    begin, end = entry["data_offsets"]
    values = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"]).copy()
    params[name] = torch.nn.Parameter(torch.from_numpy(values).double())

def conv(x, name, relu):
    w, k = params[name + ".weight"], params[name + ".weight"].shape[2:]
    pad = [p for s in reversed(k) for p in ((s - 1) // 2, s // 2)]
    y = F.conv3d(F.pad(x, pad), w, params[name + ".bias"])
    return F.relu(y) if relu else y

def forward(x):
    depth, skips, groups = config["depth"], [], config.get("normalizationGroups")
    def level(x, prefix, l):
        for i in range(config["convolutionsPerLevel"]):
            name = f"{prefix}.{l}"
            if groups:
                y = conv(x, f"{name}.conv{i}", False)
                norm = f"{name}.norm{i}"
                x = F.relu(F.group_norm(y, groups, params[norm + ".weight"], params[norm + ".bias"], eps=1e-5))
            else:
                x = conv(x, f"{name}.conv{i}", True)
        return x
    for l in range(depth):
        x = level(x, "encoder", l)
        if l < depth - 1:
            skips.append(x)
            x = F.max_pool3d(x, config["poolingFactors"][l])
    for l in reversed(range(depth - 1)):
        f = config["poolingFactors"][l]
        u = F.conv_transpose3d(x, params[f"upsample.{l}.weight"], params[f"upsample.{l}.bias"], stride=f)
        x = level(torch.cat([skips[l], u], dim=1), "decoder", l)
    return conv(x, "head", False)

shape = [int(v) for v in shape_text.split(",")]
inputs = np.fromfile(f"{directory}/inputs.f32", dtype="<f4").reshape([steps] + shape)
targets = np.fromfile(f"{directory}/targets.f32", dtype="<f4").reshape([steps] + shape)
optimizer = torch.optim.Adam(params.values(), lr=training["learningRate"], betas=(0.9, 0.999), eps=1e-8)
pw = torch.tensor(training["positiveWeight"], dtype=torch.float64)
for step in range(steps):
    x, t = torch.from_numpy(inputs[step]).double(), torch.from_numpy(targets[step]).double()
    logits = forward(x)
    bce = F.binary_cross_entropy_with_logits(logits, t, pos_weight=pw)
    p = torch.sigmoid(logits)
    dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
    loss = bce + dice
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(float(loss))
"""#

@Suite("Training against PyTorch")
struct TorchTrainingTests {
    static let python = ProcessInfo.processInfo.environment["EMFLOW_TORCH_PYTHON"]
    static let missing: Comment = "needs PyTorch: set EMFLOW_TORCH_PYTHON to a python with torch (e.g. benchmarks' .venv-bench)"

    @Test("the VNC recipe's network (with and without group normalisation), loss and Adam give PyTorch's losses step by step on the same batches",
          .enabled(if: python != nil, missing), arguments: [nil, 4] as [Int?])
    func lossesMatchPyTorch(normalizationGroups: Int?) throws {
        let configuration = UNetConfiguration(depth: 3, baseWidth: 16, widthMultiplier: 2,
                                              kernelSizes: [Coordinate(1, 3, 3), Coordinate(3, 3, 3), Coordinate(3, 3, 3)],
                                              poolingFactors: [Coordinate(1, 2, 2), Coordinate(1, 2, 2)],
                                              normalizationGroups: normalizationGroups, seed: 1, initialization: .pytorch)
        let network = try UNet(configuration: configuration, threads: 2)
        let directory = try TestEnvironment.temporaryDirectory("torch-training")
        defer { try? FileManager.default.removeItem(at: directory) }
        try network.save(to: directory.appendingPathComponent("init"))
        let learningRate: Float = 1e-3, positiveWeight: Float = 5
        try Data(#"{"learningRate": \#(learningRate), "positiveWeight": \#(positiveWeight)}"#.utf8)
            .write(to: directory.appendingPathComponent("training.json"))
        let trainer = UNetTrainer(network: network, optimizer: AdamConfiguration(learningRate: learningRate),
                                  loss: LossConfiguration(positiveWeight: positiveWeight))
        let shape = TensorShape(batch: 2, channels: 1, spatial: Coordinate(8, 64, 64))
        let steps = 12
        var inputs: [Float] = [], targets: [Float] = [], losses: [Float] = []
        for step in 0..<steps {
            // Dark blobs are foreground: the target is the smoothed input's dark tail (about 10 %).
            let image = randomValues(shape.elementCount, seed: UInt64(100 + step), in: 0...1)
            var smoothed = image
            for i in 1..<(image.count - 1) { smoothed[i] = (image[i - 1] + image[i] + image[i + 1]) / 3 }
            let target = smoothed.map { $0 < 0.3 ? Float(1) : 0 }
            inputs += image
            targets += target
            losses.append(try trainer.step(input: Tensor(shape: shape, values: image), target: Tensor(shape: shape, values: target)).total)
        }
        try inputs.withUnsafeBytes { try Data($0).write(to: directory.appendingPathComponent("inputs.f32")) }
        try targets.withUnsafeBytes { try Data($0).write(to: directory.appendingPathComponent("targets.f32")) }
        let result = try runProcess(Self.python!, ["-c", torchTraining, directory.path, String(steps), "2,1,8,64,64"])
        try #require(result.status == 0, "PyTorch failed: \(result.stderr.suffix(2000))")
        let reference = result.stdout.split(separator: "\n").compactMap { Double($0) }
        try #require(reference.count == steps)
        print("losses emflow \(losses)\nlosses torch  \(reference)")
        for (step, (ours, theirs)) in zip(losses, reference).enumerated() {
            #expect(abs(Double(ours) - theirs) <= 1e-3 * max(1, abs(theirs)), "step \(step): emflow \(ours), PyTorch \(theirs)")
        }
        #expect(reference.last! < reference.first!, "the reference itself learns")
    }
}
