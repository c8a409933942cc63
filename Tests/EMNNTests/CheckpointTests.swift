import EMNN
import EMVolume
import Foundation
import TestSupport
import Testing

/// An independent numpy implementation of the U-Net forward pass, reading the checkpoint with
/// plain numpy (8-byte header length, JSON header, raw little-endian float32 data).
private let numpyForward = #"""
import json, struct, sys
import numpy as np

directory, input_path, shape_text, logits_path = sys.argv[1:5]
with open(f"{directory}/model.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
weights = {}
for name, entry in header.items():
    if name == "__metadata__":
        continue
    assert entry["dtype"] == "F32"
    begin, end = entry["data_offsets"]
    weights[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"]).astype(np.float64)
config = json.load(open(f"{directory}/config.json"))
assert json.loads(header["__metadata__"]["config"]) == config

def W(name):
    w = weights[name + ".weight"]
    mask = weights.get(name + ".weight.mask")
    return w if mask is None else w * mask[:, :, None, None, None]

def conv(x, name):
    w, b = W(name), weights[name + ".bias"]
    k = w.shape[2:]
    if config["padding"] == "same":
        x = np.pad(x, [(0, 0)] + [((s - 1) // 2, s // 2) for s in k])
    out = [x.shape[i + 1] - k[i] + 1 for i in range(3)]
    y = np.zeros((w.shape[0], *out))
    for dz in range(k[0]):
        for dy in range(k[1]):
            for dx in range(k[2]):
                y += np.einsum("oi,izyx->ozyx", w[:, :, dz, dy, dx], x[:, dz:dz + out[0], dy:dy + out[1], dx:dx + out[2]])
    return y + b[:, None, None, None]

def norm(x, name, groups):
    c = x.shape[0]
    g = x.reshape(groups, -1)
    g = (g - g.mean(axis=1, keepdims=True)) / np.sqrt(g.var(axis=1, keepdims=True) + 1e-5)
    return g.reshape(x.shape) * weights[name + ".weight"][:, None, None, None] + weights[name + ".bias"][:, None, None, None]

def level(x, prefix, l):
    for i in range(config["convolutionsPerLevel"]):
        x = conv(x, f"{prefix}.{l}.conv{i}")
        if config.get("normalizationGroups"):
            x = norm(x, f"{prefix}.{l}.norm{i}", config["normalizationGroups"])
        x = np.maximum(x, 0)
    return x

def pool(x, f):
    c, z, y, w = x.shape
    return x.reshape(c, z // f[0], f[0], y // f[1], f[1], w // f[2], f[2]).max(axis=(2, 4, 6))

def up(x, name, f):
    w, b = W(name), weights[name + ".bias"]
    c, z, y, x_ = x.shape
    y_ = np.einsum("iokjl,izyx->ozkyjxl", w, x).reshape(w.shape[1], z * f[0], y * f[1], x_ * f[2])
    return y_ + b[:, None, None, None]

def crop(x, target):
    o = [(x.shape[i + 1] - target[i]) // 2 for i in range(3)]
    return x[:, o[0]:o[0] + target[0], o[1]:o[1] + target[1], o[2]:o[2] + target[2]]

shape = [int(v) for v in shape_text.split(",")]
image = np.fromfile(input_path, dtype="<f4").astype(np.float64).reshape(shape)
depth = config["depth"]
outputs = []
for n in range(shape[0]):
    x, skips = image[n], []
    for l in range(depth):
        x = level(x, "encoder", l)
        if l < depth - 1:
            skips.append(x)
            x = pool(x, config["poolingFactors"][l])
    for l in reversed(range(depth - 1)):
        u = up(x, f"upsample.{l}", config["poolingFactors"][l])
        x = level(np.concatenate([crop(skips[l], u.shape[1:]), u]), "decoder", l)
    outputs.append(conv(x, "head"))
expected = np.stack(outputs)
actual = np.fromfile(logits_path, dtype="<f4").reshape(expected.shape)
print(float(np.abs(actual - expected).max()), float(np.abs(expected).max()))
"""#

@Suite("Checkpoints")
struct CheckpointTests {
    static let configurations = [
        UNetConfiguration(depth: 3, baseWidth: 4, widthMultiplier: 2,
                          kernelSizes: [Coordinate(1, 3, 3), Coordinate(3, 3, 3), Coordinate(3, 3, 3)],
                          poolingFactors: [Coordinate(1, 2, 2), Coordinate(2, 2, 2)], normalizationGroups: 2, seed: 1),
        UNetConfiguration(outputChannels: 2, depth: 2, baseWidth: 5, widthMultiplier: 1.5,
                          kernelSizes: [Coordinate(3, 3, 3), Coordinate(1, 3, 3)], poolingFactors: [Coordinate(1, 2, 2)],
                          padding: .valid, seed: 2),
    ]

    /// A network trained for a few steps (so biases and moments are not trivial) with one masked layer.
    func trainedNetwork(_ configuration: UNetConfiguration, input: Tensor) throws -> UNetTrainer {
        let net = try UNet(configuration: configuration)
        let weight = net.maskableParameters[1]
        try weight.setMask((0..<(weight.shape[0] * weight.shape[1])).map { Float($0 % 3 == 0 ? 0 : 1) })
        let trainer = UNetTrainer(network: net, optimizer: AdamConfiguration(learningRate: 1e-2, weightDecay: 1e-3))
        let output = try net.outputShape(for: input.shape)
        let target = try Tensor(shape: output, values: randomValues(output.elementCount, seed: 2).map { $0 > 0.5 ? 1 : 0 })
        for _ in 0..<3 { _ = try trainer.step(input: input, target: target) }
        return trainer
    }

    func input(for configuration: UNetConfiguration) throws -> Tensor {
        let spatial = configuration.padding == .same ? Coordinate(4, 12, 12) : Coordinate(9, 22, 22)
        let shape = TensorShape(batch: 2, channels: 1, spatial: spatial)
        return try Tensor(shape: shape, values: randomValues(shape.elementCount, seed: 9))
    }

    @Test("numpy reading safetensors by hand recomputes the forward pass to 1e-4",
          .enabled(if: TestEnvironment.hasPython, Comment(rawValue: TestEnvironment.pythonMissing)), arguments: configurations)
    func numpyAgrees(_ configuration: UNetConfiguration) throws {
        let input = try input(for: configuration)
        let trainer = try trainedNetwork(configuration, input: input)
        let directory = try TestEnvironment.temporaryDirectory("nn-checkpoint")
        defer { try? FileManager.default.removeItem(at: directory) }
        try trainer.network.save(to: directory)
        let logits = try trainer.network.forward(input, training: false)
        let inputURL = directory.appendingPathComponent("input.f32"), logitsURL = directory.appendingPathComponent("logits.f32")
        try input.toArray().withUnsafeBytes { try Data($0).write(to: inputURL) }
        try logits.toArray().withUnsafeBytes { try Data($0).write(to: logitsURL) }
        let s = input.shape
        let shape = [s.batch, s.channels, s.spatial.z, s.spatial.y, s.spatial.x].map(String.init).joined(separator: ",")
        let words = try runPython(numpyForward, [directory.path, inputURL.path, shape, logitsURL.path])
            .split(whereSeparator: { $0 == " " || $0 == "\n" })
        let difference = try #require(Double(String(words[0])))
        let magnitude = try #require(Double(String(words[1])))
        #expect(difference < 1e-4, "max |swift - numpy| = \(difference) (logits up to \(magnitude))")
        #expect(magnitude > 1e-2)
    }

    @Test("save and load restore predictions, masks and the optimiser; training resumes identically")
    func roundTrip() throws {
        let configuration = Self.configurations[0]
        let input = try input(for: configuration)
        let trainer = try trainedNetwork(configuration, input: input)
        let directory = try TestEnvironment.temporaryDirectory("nn-checkpoint")
        defer { try? FileManager.default.removeItem(at: directory) }
        try trainer.save(to: directory, metadata: ["best_f1": "0.5"])
        let restored = try UNetTrainer(checkpoint: directory)
        #expect(restored.network.configuration == configuration)
        #expect(restored.optimizer.step == 3)
        #expect(restored.loss == trainer.loss)
        for (a, b) in zip(trainer.network.parameters, restored.network.parameters) {
            #expect(a.name == b.name && a.value == b.value && a.mask == b.mask)
        }
        let target = try Tensor(shape: try trainer.network.outputShape(for: input.shape),
                                values: randomValues(input.shape.elementCount, seed: 4).map { $0 > 0 ? 1 : 0 })
        let original = try trainer.step(input: input, target: target)
        let resumed = try restored.step(input: input, target: target)
        #expect(original == resumed)
        #expect(trainer.network.parameters.map(\.value) == restored.network.parameters.map(\.value))
        let state = try JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: directory.appendingPathComponent("training_state.json")))
        #expect(state.metadata["best_f1"] == "0.5")
    }

    @Test("damaged or mismatched checkpoints are refused with the file and the reason")
    func refusals() throws {
        let directory = try TestEnvironment.temporaryDirectory("nn-checkpoint")
        defer { try? FileManager.default.removeItem(at: directory) }
        let net = try UNet(configuration: Self.configurations[1])
        try net.save(to: directory)
        let model = directory.appendingPathComponent("model.safetensors")
        let other = try UNet(configuration: Self.configurations[0])
        #expect { try other.loadWeights(from: model) } throws: { "\($0)".contains("tensor 'encoder.0.conv0.weight' has shape [5, 1, 3, 3, 3], the network needs [4, 1, 1, 3, 3]") }
        // Without the manifest, the safetensors reader itself must name what is wrong.
        try FileManager.default.removeItem(at: directory.appendingPathComponent(CheckpointFile.manifest))
        var bytes = try Data(contentsOf: model)
        bytes[7] = 0xFF
        try bytes.write(to: model)
        #expect { try UNet(checkpoint: directory) } throws: { "\($0)".contains("model.safetensors") && "\($0)".contains("header length") }
        bytes[7] = 0
        bytes[9] = UInt8(ascii: "!")
        try bytes.write(to: model)
        #expect { try UNet(checkpoint: directory) } throws: { "\($0)".contains("not a JSON object") }
        try SafeTensors.write([NamedTensor(name: "a", shape: [2], values: [1, 2])], to: model)
        #expect { try net.loadWeights(from: model) } throws: { "\($0)".contains("missing tensor") }
        let read = try SafeTensors.read(from: model)
        #expect(read.tensors == [NamedTensor(name: "a", shape: [2], values: [1, 2])])
    }

    @Test("a checkpoint is replaced as one unit: a torn one is refused, a parked one put back")
    func tornCheckpoints() throws {
        let parent = try TestEnvironment.temporaryDirectory("nn-torn")
        defer { try? FileManager.default.removeItem(at: parent) }
        let directory = parent.appendingPathComponent("last")
        let configuration = Self.configurations[0]
        let trainer = try trainedNetwork(configuration, input: try input(for: configuration))
        try trainer.save(to: directory)
        let manifest = try String(contentsOf: directory.appendingPathComponent(CheckpointFile.manifest), encoding: .utf8)
        for file in [CheckpointFile.model, CheckpointFile.optimizer, CheckpointFile.trainingState, CheckpointFile.configuration] {
            #expect(manifest.contains(file), "the manifest lists \(file)")
        }
        // Saving again leaves no staging or parked directories beside it.
        try trainer.save(to: directory)
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["last"])

        // The model of another step beside this step's optimiser state: refused, naming the file.
        let model = directory.appendingPathComponent(CheckpointFile.model)
        let saved = try Data(contentsOf: model)
        let sample = try input(for: configuration)
        let outputShape = try trainer.network.outputShape(for: sample.shape)
        _ = try trainer.step(input: sample, target: try Tensor(shape: outputShape, values: [Float](repeating: 1, count: outputShape.elementCount)))
        let other = parent.appendingPathComponent("other")
        try trainer.network.save(to: other)
        try Data(contentsOf: other.appendingPathComponent(CheckpointFile.model)).write(to: model)
        try FileManager.default.removeItem(at: other)
        #expect { try UNetTrainer(checkpoint: directory) } throws: { "\($0)".contains("model.safetensors") && "\($0)".contains("torn") }
        try saved.write(to: model)
        #expect(throws: Never.self) { try UNetTrainer(checkpoint: directory) }

        // Killed between the two renames of a save: the old checkpoint is parked, and put back.
        let parked = parent.appendingPathComponent(".emflow-old-last")
        try FileManager.default.moveItem(at: directory, to: parked)
        let restored = try UNetTrainer(checkpoint: directory)
        #expect(restored.optimizer.step == trainer.optimizer.step - 1)
        #expect(FileManager.default.fileExists(atPath: directory.path) && !FileManager.default.fileExists(atPath: parked.path))
    }
}
