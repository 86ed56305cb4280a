/// Lays compact JSON out as Foundation's `JSONEncoder` does with `.prettyPrinted`: two spaces a
/// level, ` : ` between a key and its value, and an empty object or array still gets its blank
/// line. One pass over the bytes, strings copied whole: a command's `--json` output is its
/// report as the history keeps it, laid out, and at 10,000 VMs encoding the report a second time
/// was a tenth of a second.
enum JSONIndenter {
    /// `compact` as `QuiesceJSON.encode` writes it (no space between tokens), laid out.
    static func indent(_ compact: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(compact.count + compact.count / 2)
        compact.withUnsafeBufferPointer { bytes in
            var depth = 0
            var index = 0
            func newline() {
                out.append(UInt8(ascii: "\n"))
                out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
            }
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    let end = endOfString(bytes, openingAt: index)
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    out.append(byte)
                    if index + 1 < bytes.count, bytes[index + 1] == byte + 2 {  // `}` and `]` follow theirs by 2
                        out.append(UInt8(ascii: "\n"))
                        newline()
                        out.append(byte + 2)
                        index += 2
                        continue
                    }
                    depth += 1
                    newline()
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    newline()
                    out.append(byte)
                case UInt8(ascii: ","):
                    out.append(byte)
                    newline()
                case UInt8(ascii: ":"):
                    out.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")])
                default:
                    out.append(byte)
                }
                index += 1
            }
        }
        return out
    }

    /// The index just past the closing quote of the string whose opening quote is at `start`.
    private static func endOfString(_ bytes: UnsafeBufferPointer<UInt8>, openingAt start: Int) -> Int {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return bytes.count
    }
}
