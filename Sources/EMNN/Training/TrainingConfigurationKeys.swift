import Foundation

extension TrainingConfiguration {
    /// The keys each mapping of a configuration file may hold: `""` for the top level, then
    /// `network`, `optimizer`, `loss`, `augmentation`, `validation` and `pruning`. Derived from what the
    /// types encode, so it cannot drift from the decoders.
    public static let sectionKeys: [String: Set<String>] = {
        func keys<T: Encodable>(_ value: T) -> Set<String> {
            guard let data = try? JSONEncoder().encode(value),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
            return Set(object.keys)
        }
        var network = UNetConfiguration(normalizationGroups: 1)
        network.layerWidths = [:]
        network.inputNormalization = InputNormalization(mean: 0, standardDeviation: 1)
        return [
            "": TrainingConfiguration.keys,
            "network": keys(network),
            "optimizer": keys(AdamConfiguration(gradientClipNorm: 1, averageDecay: 0.99, schedule: .cosine)),
            "loss": keys(LossConfiguration()),
            "augmentation": keys(AugmentationConfiguration()),
            "validation": keys(ValidationSettings(raw: "", label: "", region: "", every: 1, blockShape: [])),
            "pruning": PruningConfiguration.keys,
        ]
    }()
}
