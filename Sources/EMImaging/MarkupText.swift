/// Text placed inside HTML or SVG markup (elements and attribute values).
public enum MarkupText {
    /// `text` with the five characters markup gives meaning to (`& < > " '`) escaped.
    public static func escaped(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
