/// Aligned columns for human output; the first row is the header. Colour codes in a cell take
/// no room, so coloured and plain tables line up alike.
public enum TextTable {
    public static func render(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in
            rows.map { column < $0.count ? TerminalStyle.visibleWidth($0[column]) : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1
                    ? cell : cell + String(repeating: " ", count: widths[column] - TerminalStyle.visibleWidth(cell))
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
