/// "Did you mean ...?" for misspelt stages, keywords, fields and functions.
public enum Suggest {
    /// The candidate closest to `word`, if one is close enough to be what was meant.
    ///
    /// Compares case-insensitively by Damerau-Levenshtein distance (optimal string
    /// alignment: insertions, deletions, substitutions and swaps of neighbours each cost 1).
    /// A candidate qualifies when the distance is at most 1 for words up to 3 characters,
    /// 2 up to 6 and 3 beyond, and smaller than both lengths (so `x` never suggests `in`).
    /// Ties go to a candidate that starts with `word` (`an` -> `and`, not `in`), then to the
    /// one whose length is closest to `word`'s, then to the alphabetically first, so the
    /// answer does not depend on the order of `candidates`.
    /// A candidate equal to `word` up to case is returned (`Principal` -> `principal`).
    /// - Parameters:
    ///   - word: what the user wrote.
    ///   - candidates: the valid names (stage names, field names, function names ...).
    public static func nearest(_ word: String, in candidates: some Sequence<String>) -> String? {
        let w = Array(word.lowercased())
        guard !w.isEmpty else { return nil }
        let limit = w.count <= 3 ? 1 : w.count <= 6 ? 2 : 3
        var best: (Int, Int, Int, String)?
        for candidate in candidates {
            let c = Array(candidate.lowercased())
            let gap = abs(c.count - w.count)
            guard gap <= limit else { continue }
            let d = distance(w, c)
            guard d <= limit, d < w.count || d == 0, d < c.count else { continue }
            // A word the candidate starts with (a truncated keyword) beats other ties.
            let key = (d, c.starts(with: w) ? 0 : 1, gap, candidate)
            if let b = best, b <= key { continue }
            best = key
        }
        return best?.3
    }

    /// The Damerau-Levenshtein (optimal string alignment) distance between two strings,
    /// compared case-insensitively by character.
    public static func distance(_ a: String, _ b: String) -> Int {
        distance(Array(a.lowercased()), Array(b.lowercased()))
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let width = b.count + 1
        // Three rows: two back (for swaps), previous, current.
        var prev2 = [Int](repeating: 0, count: width)
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: width)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d = min(d, prev2[j - 2] + 1)
                }
                cur[j] = d
            }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[b.count]
    }
}
