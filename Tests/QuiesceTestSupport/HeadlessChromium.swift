import Foundation

/// Debian's `chromium`, headless, loading pages as a browser does: `dom` is the document as the
/// browser built it (after its HTML parser has repaired whatever it had to), `screenshot` a PNG.
/// Each call is a browser of its own, with its own profile under the test's directory.
public struct HeadlessChromium: Sendable {
    public let directory: TemporaryDirectory

    public static var program: String? { ExecutableSearch.find("chromium") }

    /// Enabled where chromium is installed, and always in CI (which installs it): a dashboard
    /// test that skips in CI would hide a broken page.
    public static var enabled: Bool { program != nil || Privilege.isCI }
    public static let missingReason = "needs Debian's chromium (apt-get install chromium), as CI installs"

    public init(directory: TemporaryDirectory) { self.directory = directory }

    public func dom(_ url: String) async throws -> DOM {
        DOM(html: try await run(["--dump-dom", url]))
    }

    public func screenshot(_ url: String, to path: String, width: Int = 1280, height: Int = 900) async throws {
        try await run(["--screenshot=\(path)", "--window-size=\(width),\(height)", "--hide-scrollbars", url])
    }

    /// Standard error goes to a file beside the profile: chromium complains there of the missing
    /// system bus on every start, and the DOM comes on standard output alone.
    @discardableResult
    private func run(_ arguments: [String]) async throws -> String {
        let program = Self.program ?? "chromium"
        let profile = directory.url("chromium-\(UUID().uuidString)")
        let command =
            [
                program, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(profile)",
            ] + arguments
        let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }
        let errors = directory.url("chromium-errors.txt")
        return try await onBlockingThread {
            try Shell.run(["/bin/sh", "-c", quoted.joined(separator: " ") + " 2>>'\(errors)'"])
        }
    }
}

/// Finds a program on PATH.
enum ExecutableSearch {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }
}

/// A browser's serialized document, read the way a test needs: an element by id, its text,
/// its table rows.
public struct DOM: Sendable, CustomStringConvertible {
    public let html: String
    public var description: String { html }

    /// The element with `id`, from its opening tag to the tag that closes it.
    public func element(_ id: String) -> String? {
        guard let attribute = html.range(of: #"id="\#(id)""#),
            let open = html[..<attribute.lowerBound].lastIndex(of: "<")
        else { return nil }
        let name = String(html[html.index(after: open)...].prefix { $0.isLetter || $0.isNumber })
        var depth = 0
        var cursor = open
        while let tag = html[cursor...].firstIndex(of: "<") {
            let rest = html[html.index(after: tag)...]
            let closing = rest.hasPrefix("/")
            let tagName = (closing ? rest.dropFirst() : rest).prefix { $0.isLetter || $0.isNumber }
            cursor = html.index(after: tag)
            guard tagName == name else { continue }
            depth += closing ? -1 : 1
            if depth == 0 {
                let close = html[cursor...].firstIndex(of: ">") ?? html.index(before: html.endIndex)
                return String(html[open...close])
            }
        }
        return nil
    }

    /// The element's text: its tags dropped, entities of the four escaped characters decoded,
    /// runs of white space made one space.
    public func text(_ id: String) -> String? {
        element(id).map(Self.text(of:))
    }

    /// The text of each row of table `id`'s body, its cells joined by " | ".
    public func rows(_ id: String) -> [String] {
        guard let table = element(id), let body = table.range(of: "<tbody>") else { return [] }
        return table[body.upperBound...].components(separatedBy: "<tr>").dropFirst().map { row in
            row.components(separatedBy: "<td>").dropFirst().map(Self.text(of:)).joined(separator: " | ")
        }
    }

    static func text(of fragment: some StringProtocol) -> String {
        let withoutTags = String(fragment).replacing(/<[^>]*>/, with: " ")
        let decoded = withoutTags.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(
            of: "&gt;", with: ">"
        )
        .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
        return decoded.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
