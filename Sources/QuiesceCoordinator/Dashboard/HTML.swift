import Foundation
import QuiesceAPI

/// Building blocks of the pages: escaping, the shared layout, and how times, durations and
/// outcomes are written. Every page is plain HTML with one inline style sheet: no script, no
/// font or file from the network, so it works in any browser, offline and without JavaScript.
enum HTML {
    static func escape(_ text: String) -> String {
        // Most text has nothing to escape: a scan of its bytes is far cheaper than rebuilding it.
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 }) else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A path segment or query value inside a link.
    static func urlComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlUnreservedCharacters) ?? text
    }

    static func page(title: String, groups: [String], body: String) -> String {
        let navigation = groups.map { #"<a href="/groups/\#(urlComponent($0))">\#(escape($0))</a>"# }
            .joined(separator: " ")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>\(escape(title)) · Quiesce</title>
            <style>\(style)</style></head><body>
            <nav><a href="/" class="home">Quiesce</a> <span>groups:</span> \(navigation)</nav>
            <main>
            \(body)
            </main></body></html>

            """
    }

    /// An outcome word in its colour: green for what worked, red for what did not.
    static func badge(_ word: String) -> String {
        let tone =
            switch word {
            case "succeeded", "compliant", "pushed", "unchanged", "pruned", "passed", "applicationConsistent":
                "good"
            case "running", "skipped", "missed", "fileSystemConsistent", "notManaged", "calledOff": "warn"
            case "": "none"
            default: "bad"
            }
        return #"<span class="badge \#(tone)">\#(escape(word.isEmpty ? "-" : word))</span>"#
    }

    /// In UTC, to the second, however the viewer's and the coordinator's zones differ; the
    /// element's `datetime` has the microseconds. Not Foundation's formatter: the fleet page
    /// shows 1,000 times.
    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        let exact = QuiesceJSON.timestamp(date)
        let shown = exact.prefix(19).replacingOccurrences(of: "T", with: " ")
        return #"<time datetime="\#(exact)">\#(shown) UTC</time>"#
    }

    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "-" }
        return fixed(value, value < 10 ? 3 : 1) + " ms"
    }

    /// `value` with `places` (0 to 3) decimals, as `%.Nf` writes it but without Foundation's
    /// formatter, which a 1,000-member timeline would call 10,000 times.
    static func fixed(_ value: Double, _ places: Int) -> String {
        let scale = [1, 10, 100, 1000][min(max(places, 0), 3)]
        let scaled = (abs(value) * Double(scale)).rounded()
        guard value.isFinite, scaled < 1e15 else { return "\(value)" }
        let units = Int(scaled)
        var text = (value < 0 && units != 0 ? "-" : "") + String(units / scale)
        if scale > 1 {
            let fraction = String(units % scale)
            text += "." + String(repeating: "0", count: String(scale).count - 1 - fraction.count) + fraction
        }
        return text
    }

    static func runLink(_ id: Int64?) -> String {
        guard let id else { return "-" }
        return #"<a href="/runs/\#(id)">#\#(id)</a>"#
    }

    static func vmLink(_ name: String) -> String {
        #"<a href="/vms/\#(urlComponent(name))">\#(escape(name))</a>"#
    }

    static func groupLink(_ name: String) -> String {
        #"<a href="/groups/\#(urlComponent(name))">\#(escape(name))</a>"#
    }

    /// A table: `header` cells as given (already HTML), each row's cells as given.
    static func table(id: String, header: [String], rows: [[String]]) -> String {
        var html = #"<table id="\#(id)"><thead><tr>"#
        html += header.map { "<th>\($0)</th>" }.joined()
        html += "</tr></thead><tbody>\n"
        for row in rows {
            html += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        return html + "</tbody></table>"
    }

    static let style = """
        body{font-family:"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
        nav{background:#263238;color:#cfd8dc;padding:.6em 1.5em}nav a{color:#fff;margin-right:.8em}
        nav .home{font-weight:bold;margin-right:1.5em}main{padding:1em 1.5em}
        h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
        table{border-collapse:collapse;background:#fff}
        td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;font-size:.92em}
        th{background:#eceff1}time{white-space:nowrap}.badge{padding:0 .4em;border-radius:3px;white-space:nowrap}
        .good{background:#e8f5e9;color:#1b5e20}.warn{background:#fff8e1;color:#8d6e00}
        .bad{background:#ffebee;color:#b71c1c}.none{color:#888}
        .facts td:first-child{font-weight:bold}.counts span{margin-right:1.2em}
        pre{background:#fff;border:1px solid #ddd;padding:.6em;overflow:auto;max-height:30em}
        form{margin:.8em 0}form label{margin-right:1em}
        .legend span{margin-right:1em}
        .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
        """
}

extension CharacterSet {
    /// RFC 3986's unreserved characters: what a path segment or query value keeps unescaped.
    static let urlUnreservedCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
