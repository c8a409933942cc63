/// "Did you mean ...?" suggestions for misspelt names.
public enum Suggestions {
    /// The edit distance between two strings, ignoring case: insertions, deletions,
    /// substitutions and swaps of adjacent letters each count one (optimal string alignment).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let s = Array(a.lowercased()), t = Array(b.lowercased())
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: t.count + 1), count: s.count + 1)
        for i in 0...s.count { table[i][0] = i }
        for j in 0...t.count { table[0][j] = j }
        for i in 1...s.count {
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[s.count][t.count]
    }

    /// The candidate closest to `word`, if it is close enough to be a plausible misspelling
    /// (at most a third of the word's letters differ, at least one allowed).
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = max(1, word.count / 3)
        let scored = candidates.map { (candidate: $0, distance: editDistance(word, $0)) }
            .filter { $0.distance <= limit }
        return scored.min { ($0.distance, $0.candidate) < ($1.distance, $1.candidate) }?.candidate
    }

    /// ` (did you mean 'x'?)` for the closest candidate, or "" when none is close.
    public static func didYouMean(_ word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// ` (did you mean 'x'?)`, or a list of the valid names when none is close.
    public static func hint(for word: String, among candidates: [String]) -> String {
        let suggestion = didYouMean(word, among: candidates)
        if !suggestion.isEmpty || candidates.isEmpty { return suggestion }
        return " (expected one of: \(candidates.joined(separator: ", ")))"
    }
}
