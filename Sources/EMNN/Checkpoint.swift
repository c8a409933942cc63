import EMStorage
import Foundation

/// The optimiser and loss settings and progress saved beside a model's weights.
public struct TrainingState: Codable, Equatable, Sendable {
    /// Optimiser steps taken.
    public var step: Int
    /// Optimiser settings.
    public var optimizer: AdamConfiguration
    /// Loss settings.
    public var loss: LossConfiguration
    /// Free-form values of the training loop (for example the best validation score).
    public var metadata: [String: String]
}

/// Checkpoint files: a directory with `config.json` (the architecture), `model.safetensors`
/// (weights under their parameter names, masks under `NAME.mask`) and, for training,
/// `training_state.json` plus `optimizer.safetensors` (Adam moments `NAME.adam_m`, `NAME.adam_v`).
public enum CheckpointFile {
    /// The architecture.
    public static let configuration = "config.json"
    /// Weights and masks.
    public static let model = "model.safetensors"
    /// Step, optimiser and loss settings.
    public static let trainingState = "training_state.json"
    /// Adam moments.
    public static let optimizer = "optimizer.safetensors"
    /// What a complete checkpoint holds: every file's size and fingerprint (written last).
    public static let manifest = "manifest.json"

    private struct Manifest: Codable {
        struct Entry: Codable {
            var bytes: Int
            var fingerprint: String
        }
        var format = "emflow-checkpoint-1"
        var files: [String: Entry]
    }

    /// Replaces the checkpoint `directory` as one unit: `write` fills a new staging directory
    /// beside it, a manifest of its files goes in last, and renames swap it into place. A
    /// process killed at any moment leaves the old checkpoint or the new one whole (the old one
    /// parked as `.emflow-old-NAME` between the two renames, which `recover` puts back), never
    /// the model of one step with the optimiser state of another.
    static func replace(_ directory: URL, write: (URL) throws -> Void) throws {
        try AtomicFile.replaceDirectory(directory) { staging in
            try write(staging)
            var entries: [String: Manifest.Entry] = [:]
            for file in try FileManager.default.contentsOfDirectory(atPath: staging.path) {
                let bytes = try Data(contentsOf: staging.appendingPathComponent(file))
                entries[file] = Manifest.Entry(bytes: bytes.count, fingerprint: Fingerprint.of(bytes: bytes))
            }
            try writeJSON(Manifest(files: entries), to: staging.appendingPathComponent(manifest))
        }
    }

    /// Puts back a checkpoint parked by a `replace` that was killed between its two renames.
    public static func recover(_ directory: URL) throws {
        try AtomicFile.recoverDirectory(directory)
    }

    /// Checks a checkpoint against its manifest (after `recover`): every listed file present
    /// with its size and fingerprint. Checkpoints without a manifest (written before it
    /// existed, or by hand) are taken as they are.
    ///
    /// - Throws: `NNError.checkpoint` naming the torn file.
    public static func verify(_ directory: URL) throws {
        try recover(directory)
        let url = directory.appendingPathComponent(manifest)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let listed = try readJSON(Manifest.self, from: url)
        for (file, entry) in listed.files.sorted(by: { $0.key < $1.key }) {
            let path = directory.appendingPathComponent(file)
            guard let bytes = FileManager.default.contents(atPath: path.path) else {
                throw NNError.checkpoint(path: path.path, message: "missing: the checkpoint is incomplete (its manifest lists \(file)); use another checkpoint or train again")
            }
            guard bytes.count == entry.bytes, Fingerprint.of(bytes: bytes) == entry.fingerprint else {
                throw NNError.checkpoint(path: path.path, message: "does not match the checkpoint's manifest (\(bytes.count) bytes, expected \(entry.bytes)): the checkpoint is torn or was changed; use another checkpoint or train again")
            }
        }
    }


    /// The content hash of a checkpoint's network: its configuration and weights, byte for
    /// byte (training state and optimizer moments do not change predictions). Streams the
    /// files, so weights of any size hash in bounded memory.
    ///
    /// - Throws: `StorageError.io` naming a file that cannot be read.
    public static func contentHash(_ directory: URL) throws -> String {
        let parts = try [configuration, model].map { name in
            let file = try Fingerprint.ofFile(directory.appendingPathComponent(name).path)
            return "\(name):\(file.bytes):\(file.fingerprint)"
        }
        return Fingerprint.of(parts.joined(separator: "|"))
    }

    /// The network configuration of the checkpoint in `directory`, validated, after checking
    /// that the directory holds the weights too: what a stage that predicts with it needs to
    /// know before any weight is read.
    ///
    /// - Throws: `NNError.checkpoint` naming the directory or file: not a checkpoint
    ///   directory, no weights, an unreadable or invalid configuration.
    public static func configuration(of directory: URL) throws -> UNetConfiguration {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory)
        guard exists, isDirectory.boolValue else {
            throw NNError.checkpoint(path: directory.path, message: (exists ? "not a checkpoint directory" : "no such checkpoint directory")
                + " (a checkpoint directory holds \(configuration) and \(model), e.g. OUTPUT/best of `emflow train`)")
        }
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(model).path) else {
            throw NNError.checkpoint(path: directory.path, message: "holds no \(model): not a complete checkpoint directory")
        }
        let network = try readJSON(UNetConfiguration.self, from: directory.appendingPathComponent(configuration))
        try network.validate()
        return network
    }

    static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONFiles.encoder()
        do {
            try encoder.encode(value).write(to: url, options: .atomic)
        } catch {
            throw NNError.checkpoint(path: url.path, message: "cannot write: \(error)")
        }
    }

    static func readJSON<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        guard FileManager.default.fileExists(atPath: url.path) else {
            let directory = url.deletingLastPathComponent().path
            throw NNError.checkpoint(path: url.path, message: FileManager.default.fileExists(atPath: directory)
                ? "no such file; a checkpoint directory holds config.json and model.safetensors (e.g. OUTPUT/best of `emflow train`)"
                : "no such checkpoint directory \(directory)")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(contentsOf: url))
        } catch {
            throw NNError.checkpoint(path: url.path, message: "cannot read \(T.self): \(error)")
        }
    }
}

extension UNet {
    /// Writes `config.json` and `model.safetensors` as the checkpoint `directory`, replacing
    /// what was there as one unit (`CheckpointFile.replace`).
    public func save(to directory: URL) throws {
        try CheckpointFile.replace(directory) { try writeFiles(into: $0) }
    }

    /// Writes `config.json` and `model.safetensors` into the existing `directory`.
    func writeFiles(into directory: URL) throws {
        try CheckpointFile.writeJSON(configuration, to: directory.appendingPathComponent(CheckpointFile.configuration))
        var tensors: [NamedTensor] = []
        for parameter in parameters {
            tensors.append(NamedTensor(name: parameter.name, shape: parameter.shape, values: parameter.value))
            if let mask = parameter.mask {
                tensors.append(NamedTensor(name: "\(parameter.name).mask", shape: Array(parameter.shape.prefix(2)), values: mask))
            }
        }
        // Sorted keys: identical weights give identical bytes (and model hash).
        let json = try JSONFiles.text(configuration)
        try SafeTensors.write(tensors, metadata: ["format": "emflow-unet", "config": json],
                              to: directory.appendingPathComponent(CheckpointFile.model))
    }

    /// Rebuilds a network from a checkpoint directory written by `save(to:)`.
    public convenience init(checkpoint directory: URL, threads: Int? = nil) throws {
        try CheckpointFile.verify(directory)
        let configuration = try CheckpointFile.configuration(of: directory)
        try self.init(configuration: configuration, threads: threads)
        try loadWeights(from: directory.appendingPathComponent(CheckpointFile.model))
    }

    /// Replaces every weight (and mask) with those of a safetensors file; names and shapes must match.
    public func loadWeights(from url: URL) throws {
        let (tensors, _) = try SafeTensors.read(from: url)
        var byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for parameter in parameters {
            guard let tensor = byName.removeValue(forKey: parameter.name) else {
                throw NNError.checkpoint(path: url.path, message: "missing tensor '\(parameter.name)' of shape \(parameter.shape)")
            }
            guard tensor.shape == parameter.shape else {
                throw NNError.checkpoint(path: url.path, message: "tensor '\(parameter.name)' has shape \(tensor.shape), the network needs \(parameter.shape)")
            }
            parameter.value = tensor.values
            let mask = byName.removeValue(forKey: "\(parameter.name).mask")
            do {
                try parameter.setMask(mask?.values)
            } catch {
                throw NNError.checkpoint(path: url.path, message: "mask of '\(parameter.name)': \(error)")
            }
        }
        if !byName.isEmpty {
            throw NNError.checkpoint(path: url.path, message: "tensors not in this network: \(byName.keys.sorted().joined(separator: ", "))")
        }
    }
}

extension UNetTrainer {
    /// Writes the network and the training state (step, settings, Adam moments) into `directory`.
    ///
    /// With weight averaging, `model.safetensors` holds the averaged weights (the ones to predict
    /// with) and the optimiser file the training weights (`NAME.training`) to resume from.
    public func save(to directory: URL, metadata: [String: String] = [:]) throws {
        try CheckpointFile.replace(directory) { try writeFiles(into: $0, metadata: metadata) }
    }

    private func writeFiles(into directory: URL, metadata: [String: String]) throws {
        try withAveragedWeights { try network.writeFiles(into: directory) }
        var tensors: [NamedTensor] = []
        for parameter in network.parameters {
            guard let (m, v) = optimizer.moments[parameter.name] else { continue }
            tensors.append(NamedTensor(name: "\(parameter.name).adam_m", shape: parameter.shape, values: m))
            tensors.append(NamedTensor(name: "\(parameter.name).adam_v", shape: parameter.shape, values: v))
            if optimizer.averages[parameter.name] != nil {
                tensors.append(NamedTensor(name: "\(parameter.name).training", shape: parameter.shape, values: parameter.value))
            }
        }
        try SafeTensors.write(tensors, metadata: ["step": String(optimizer.step)],
                              to: directory.appendingPathComponent(CheckpointFile.optimizer))
        let state = TrainingState(step: optimizer.step, optimizer: optimizer.configuration, loss: loss, metadata: metadata)
        try CheckpointFile.writeJSON(state, to: directory.appendingPathComponent(CheckpointFile.trainingState))
    }

    /// Restores a trainer (network weights, optimiser moments and step, loss settings) from `directory`.
    public convenience init(checkpoint directory: URL, threads: Int? = nil) throws {
        let network = try UNet(checkpoint: directory, threads: threads)
        let stateURL = directory.appendingPathComponent(CheckpointFile.trainingState)
        let state = try CheckpointFile.readJSON(TrainingState.self, from: stateURL)
        let momentsURL = directory.appendingPathComponent(CheckpointFile.optimizer)
        let tensors = Dictionary(try SafeTensors.read(from: momentsURL).tensors.map { ($0.name, $0.values) },
                                 uniquingKeysWith: { a, _ in a })
        var moments: [String: (first: [Float], second: [Float])] = [:]
        var averages: [String: [Float]] = [:]
        for parameter in network.parameters {
            if let training = tensors["\(parameter.name).training"] {
                guard training.count == parameter.value.count else {
                    throw NNError.checkpoint(path: momentsURL.path, message: "training weights of '\(parameter.name)' are mis-sized")
                }
                averages[parameter.name] = parameter.value
                parameter.value = training
            }
            switch (tensors["\(parameter.name).adam_m"], tensors["\(parameter.name).adam_v"]) {
            case let (m?, v?) where m.count == parameter.value.count && v.count == parameter.value.count:
                moments[parameter.name] = (m, v)
            case (nil, nil) where state.step == 0:
                continue
            default:
                throw NNError.checkpoint(path: momentsURL.path, message: "Adam moments of '\(parameter.name)' are missing or mis-sized")
            }
        }
        self.init(network: network, optimizer: Adam(configuration: state.optimizer, step: state.step, moments: moments, averages: averages),
                  loss: state.loss)
    }
}
