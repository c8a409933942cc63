/// The spelling of configuration keys. Files use snake_case (`patch_shape`), as pipeline files
/// do; the decoders use the Swift names (`patchShape`). camelCase in a file is the older
/// style of training configurations: still read, with a deprecation message.
public enum KeyStyle {
    /// `patchShape` -> `patch_shape` (a key already in snake_case is returned as it is).
    public static func snake(_ key: String) -> String {
        var result = ""
        for character in key {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// `patch_shape` -> `patchShape` (a key without `_` is returned as it is).
    public static func camel(_ key: String) -> String {
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        guard let first = parts.first, parts.count > 1 else { return key }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// True when `key` is written in the older camelCase style.
    public static func isCamelCase(_ key: String) -> Bool { snake(key) != key }
}
