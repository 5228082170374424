/// Minimal parsing of printf/scanf format strings, for the checks that depend on conversions.
enum FormatString {
    /// The first scanf conversion that stores a `long double` (`%Lf`, `%10Le`, `%*Lg` is
    /// harmless because nothing is stored), spelled as written; nil if there is none.
    static func longDoubleScanConversion(in format: String) -> String? {
        let chars = Array(format)
        var i = 0
        while i < chars.count {
            guard chars[i] == "%" else { i += 1; continue }
            let start = i
            i += 1
            if i < chars.count, chars[i] == "%" { i += 1; continue }
            var suppressed = false
            // Positional argument (`%2$Lf`).
            var j = i
            while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
            if j < chars.count, j > i, chars[j] == "$" { i = j + 1 }
            if i < chars.count, chars[i] == "*" { suppressed = true; i += 1 }
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
            if i < chars.count, chars[i] == "m" { i += 1 }
            var length = ""
            while i < chars.count, "hlLqjzt".contains(chars[i]) { length.append(chars[i]); i += 1 }
            guard i < chars.count else { break }
            let conversion = chars[i]
            i += 1
            if conversion == "[" {
                // Skip the scan set; `]` right after `[` or `[^` is part of the set.
                if i < chars.count, chars[i] == "^" { i += 1 }
                if i < chars.count, chars[i] == "]" { i += 1 }
                while i < chars.count, chars[i] != "]" { i += 1 }
                i += 1
                continue
            }
            if !suppressed, length.contains("L"), "aAeEfFgG".contains(conversion) {
                return String(chars[start..<i])
            }
        }
        return nil
    }
}
