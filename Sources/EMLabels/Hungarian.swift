/// A cost for the assignment problem: a totally ordered group (costs add and subtract, and
/// the order is compatible with addition), with a value larger than any real total.
public protocol AssignmentCost: Comparable, Sendable {
    /// The neutral cost.
    static var zero: Self { get }
    /// Larger than every sum of costs that can occur (a sentinel; never added to).
    static var unreachable: Self { get }
    /// The sum of two costs.
    static func + (a: Self, b: Self) -> Self
    /// The difference of two costs.
    static func - (a: Self, b: Self) -> Self
}

extension Double: AssignmentCost {
    public static var unreachable: Double { .infinity }
}

extension Int64: AssignmentCost {
    public static var unreachable: Int64 { .max }
}

/// The Hungarian method in its shortest-augmenting-path form (Jonker-Volgenant style, with
/// row and column potentials): O(n^2 m) for an n x m cost matrix.
public enum Hungarian {
    /// A minimum-cost assignment of every row to a distinct column (`rows <= columns`), or of
    /// every column to a distinct row when there are more rows than columns.
    ///
    /// - Parameter cost: `cost(row, column)` for `row < rows`, `column < columns`.
    /// - Returns: for each row, its column, or nil for rows left without one (only when
    ///   `rows > columns`).
    public static func solve<C: AssignmentCost>(rows: Int, columns: Int, cost: (Int, Int) -> C) -> [Int?] {
        if rows == 0 { return [] }
        if columns == 0 { return [Int?](repeating: nil, count: rows) }
        if rows > columns {
            let columnToRow = solve(rows: columns, columns: rows) { cost($1, $0) }
            var result = [Int?](repeating: nil, count: rows)
            for (column, row) in columnToRow.enumerated() { result[row!] = column }
            return result
        }
        // Potentials u (rows) and v (columns); rowOfColumn[j] is the row assigned to column j
        // (index 0 is a virtual column used as the start of each augmenting path; rows and
        // columns are 1-based inside the loop).
        let n = rows, m = columns
        var u = [C](repeating: .zero, count: n + 1)
        var v = [C](repeating: .zero, count: m + 1)
        var rowOfColumn = [Int](repeating: 0, count: m + 1)
        var previousColumn = [Int](repeating: 0, count: m + 1)
        var reduced = [C](repeating: .unreachable, count: m + 1)
        var used = [Bool](repeating: false, count: m + 1)
        for row in 1...n {
            rowOfColumn[0] = row
            var column = 0
            for j in 0...m { reduced[j] = .unreachable; used[j] = false }
            // Dijkstra over columns on reduced costs until a free column is reached.
            repeat {
                used[column] = true
                let i = rowOfColumn[column]
                var delta = C.unreachable
                var next = 0
                for j in 1...m where !used[j] {
                    let candidate = cost(i - 1, j - 1) - u[i] - v[j]
                    if candidate < reduced[j] {
                        reduced[j] = candidate
                        previousColumn[j] = column
                    }
                    if reduced[j] < delta {
                        delta = reduced[j]
                        next = j
                    }
                }
                for j in 0...m {
                    if used[j] {
                        u[rowOfColumn[j]] = u[rowOfColumn[j]] + delta
                        v[j] = v[j] - delta
                    } else {
                        reduced[j] = reduced[j] - delta
                    }
                }
                column = next
            } while rowOfColumn[column] != 0
            // Flip the augmenting path.
            repeat {
                let before = previousColumn[column]
                rowOfColumn[column] = rowOfColumn[before]
                column = before
            } while column != 0
        }
        var result = [Int?](repeating: nil, count: n)
        for j in 1...m where rowOfColumn[j] != 0 { result[rowOfColumn[j] - 1] = j - 1 }
        return result
    }
}
