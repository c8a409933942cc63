import EMStorage
import Foundation

/// A glob naming one TIFF file per z-section, e.g. `slices/*.tif` or `slices/z*.tiff`.
/// Wildcards (`*`, `?`, `[...]`) may appear in the file name only; hidden files (names
/// starting with `.`, such as temporary files) never match. Matches sort naturally: digit runs
/// compare as numbers, so `z2.tif` comes before `z10.tif`.
///
/// New slices are named by replacing the single `*` with the zero-padded z index, at least 4
/// digits wide (more when the volume has 10000 or more sections): `slices/*.tif` gives
/// `slices/0000.tif, slices/0001.tif, ...`, `slices/z*.tiff` gives `slices/z0000.tiff, ...`.
struct SlicePattern {
    /// The pattern as given.
    let pattern: String
    /// The directory holding the slices.
    let directory: String
    /// The wildcard file name.
    let namePattern: String

    /// True when `path` contains a wildcard, so it names a directory of slices rather than one file.
    static func isPattern(_ path: String) -> Bool {
        path.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// Splits a pattern into directory and file-name wildcard.
    ///
    /// - Throws: `StorageError.badAddress` when a wildcard appears in the directory part.
    init(_ pattern: String) throws {
        let (directory, name) = splitPath(pattern)
        guard !Self.isPattern(directory) else {
            throw StorageError.badAddress(address: pattern, expected: "wildcards only in the file name, e.g. slices/*.tif")
        }
        self.pattern = pattern
        self.directory = directory
        self.namePattern = name
    }

    /// The matching files, naturally sorted, as paths under `directory`.
    ///
    /// - Throws: `StorageError.missing` when the directory does not exist or nothing matches.
    func matchingFiles() throws -> [String] {
        let matches = try matchingNames()
        guard !matches.isEmpty else {
            throw StorageError.missing(path: pattern, what: "TIFF slices matching the pattern (no file in \(directory) matches \(namePattern))")
        }
        return matches.map(path(ofFile:))
    }

    /// The matching file names (possibly none), naturally sorted.
    func matchingNames() throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StorageError.missing(path: pattern, what: "directory \(directory) of TIFF slices")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return names.filter { fnmatch(namePattern, $0, FNM_PERIOD) == 0 }.sorted(by: naturallyPrecedes)
    }

    /// The path of a file in the slice directory.
    func path(ofFile name: String) -> String { directory + "/" + name }

    /// The file names of a new volume of `count` sections: the `*` replaced by zero-padded indices.
    ///
    /// - Throws: `StorageError.badAddress` unless the file name has exactly one `*` and no
    ///   other wildcard.
    func newFileNames(count: Int) throws -> [String] {
        let parts = namePattern.split(separator: "*", omittingEmptySubsequences: false)
        guard parts.count == 2, !Self.isPattern(parts.joined()) else {
            throw StorageError.badAddress(address: pattern, expected: "one '*' in the file name to number new slices, e.g. slices/*.tif or slices/z*.tif")
        }
        let width = max(4, String(max(count - 1, 0)).count)
        return (0..<count).map { z in
            let digits = String(z)
            return parts[0] + String(repeating: "0", count: width - digits.count) + digits + parts[1]
        }
    }
}

/// Natural order: runs of digits compare by numeric value (`z2` < `z10`), everything else by
/// character; names equal under that rule fall back to plain comparison.
func naturallyPrecedes(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var i = 0, j = 0
    func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    while i < x.count, j < y.count {
        if isDigit(x[i]), isDigit(y[j]) {
            let startX = i, startY = j
            while i < x.count, isDigit(x[i]) { i += 1 }
            while j < y.count, isDigit(y[j]) { j += 1 }
            let digitsX = x[startX..<i].drop(while: { $0 == 48 }), digitsY = y[startY..<j].drop(while: { $0 == 48 })
            if digitsX.count != digitsY.count { return digitsX.count < digitsY.count }
            if !digitsX.elementsEqual(digitsY) { return digitsX.lexicographicallyPrecedes(digitsY) }
        } else {
            if x[i] != y[j] { return x[i] < y[j] }
            i += 1
            j += 1
        }
    }
    if (x.count - i) != (y.count - j) { return (x.count - i) < (y.count - j) }
    return a < b
}
