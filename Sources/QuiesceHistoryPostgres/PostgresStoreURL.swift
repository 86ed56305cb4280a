import Foundation
import QuiesceCoordinator

/// `--store postgresql://[user[:password]@]host[:port]/database[?sslmode=disable|prefer|require]`,
/// or with `?host=/run/postgresql` for a unix socket directory, as libpq reads them. Without a
/// password in the URL, `PGPASSWORD` gives it (a systemd `EnvironmentFile`, kept off the
/// command line, where `ps` shows it).
public struct PostgresStoreURL: Sendable, Equatable {
    public enum TLSMode: String, Sendable {
        case disable
        case prefer
        case require
    }

    public var user: String
    public var password: String?
    /// A host name or address, or a socket directory (starts with `/`).
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode

    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(HistoryError)
    {
        let usage = "give --store postgresql://USER@HOST:PORT/DATABASE (password in $PGPASSWORD)"
        guard text.hasPrefix("postgresql://") || text.hasPrefix("postgres://"),
            let components = URLComponents(string: text)
        else { throw HistoryError(message: "--store \(Self.redacted(text)) is not a postgresql:// URL; \(usage)") }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }
        ) { _, last in last }
        if let unknown = query.keys.first(where: { !["sslmode", "host"].contains($0) }) {
            throw HistoryError(
                message: "--store: unknown parameter `\(unknown)`; only sslmode (disable, prefer, require) and host")
        }
        guard let host = query["host"] ?? components.host.flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw HistoryError(message: "--store \(Self.redacted(text)) names no host; \(usage)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw HistoryError(message: "--store \(Self.redacted(text)) names no database; \(usage)")
        }
        guard let tls = TLSMode(rawValue: query["sslmode"] ?? "prefer") else {
            throw HistoryError(
                message: "--store: sslmode `\(query["sslmode"] ?? "")` is not one of disable, prefer, require")
        }
        self.host = host
        port = components.port ?? 5432
        self.database = database
        self.tls = tls
        // As libpq: the URL's user, else $PGUSER, else the account we run as.
        user = components.user ?? environment["PGUSER"] ?? NSUserName()
        password = components.password ?? environment["PGPASSWORD"]
    }

    /// The URL without its password: what messages and logs show.
    public var description: String {
        let place = host.hasPrefix("/") ? "/\(database)?host=\(host)" : "\(host):\(port)/\(database)"
        return "postgresql://\(user)@\(place)"
    }

    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }
}
