extension StringProtocol {
    /// The text with terminal control characters shown as `\u{1b}` rather than obeyed: what an
    /// agent reports (a script's output, a message, a version) cannot move the cursor, recolour
    /// or retitle the operator's terminal. Newlines and tabs stay.
    public var printable: String {
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A:
                out.append(scalar)
            case 0..<0x20, 0x7F, 0x80..<0xA0:
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }
}
