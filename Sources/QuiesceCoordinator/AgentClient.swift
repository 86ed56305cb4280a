import Foundation
import QuiesceAPI
import QuiesceHTTPClient
import QuiesceSystem
import Synchronization

/// Talks to the agents of an inventory: their addresses, tokens and TLS, over one `CurlClient`.
public struct AgentClient: Sendable {
    public let client: CurlClient
    public let requestTimeout: Duration
    /// Token files read once per client: a fleet shares a few, and a sweep calls each agent twice.
    private let tokens = TokenFiles()

    public init(client: CurlClient, requestTimeout: Duration) {
        self.client = client
        self.requestTimeout = requestTimeout
    }

    /// How many VMs a fleet command keeps busy at once: one transfer each.
    public var maxConcurrentVMs: Int { client.maxConcurrentTransfers }

    /// Why a call to an agent gave no usable answer.
    public enum CallError: Error, Sendable, CustomStringConvertible {
        case transport(TransportError)
        /// The agent answered with an error status and, usually, its error body.
        case refused(status: Int, body: APIErrorBody?)
        case unreadable(String)
        case noToken(String)
        /// The VM would get its token and files in plaintext over the network.
        case insecure(String)

        public var description: String {
            switch self {
            case .transport(let error):
                "\(error.kind.rawValue) (\(error.address)): \(error.message)"
                    + (error.kind == .tls ? Self.tlsAdvice(error.message).map { ": \($0)" } ?? "" : "")
            case .refused(401, _):
                "the agent refused the token (401): check the VM's tokenFile against its /etc/quiesce/agent.token"
            case .refused(let status, let body):
                "HTTP \(status)" + (body.map { " \($0.code): \($0.message)" } ?? "")
            case .unreadable(let what): what
            case .noToken(let what): what
            case .insecure(let what): what
            }
        }

        /// What a TLS failure means for the inventory and the VM, from OpenSSL's words.
        static func tlsAdvice(_ message: String) -> String? {
            let text = message.lowercased()
            if text.contains("expired") {
                return "a certificate has expired; `quiesce ca show` lists them, `quiesce ca issue` renews one "
                    + "(then `systemctl reload quiesce-agent` on the VM)"
            }
            if text.contains("unknown ca") || text.contains("bad certificate") {
                return "the agent does not trust the coordinator's certificate: its tls.clientCAFile must be the CA "
                    + "that issued the inventory's tls.certificateFile"
            }
            if text.contains("subject name") || text.contains("does not match") {
                return "the agent's certificate is not for the address in the inventory: issue one for it "
                    + "(`quiesce ca issue --vm NAME`)"
            }
            if text.contains("certificate required") {
                return "the agent wants the coordinator's certificate: set tls.certificateFile and tls.keyFile in the "
                    + "inventory (`quiesce ca issue --coordinator`)"
            }
            if text.contains("verify") || text.contains("issuer") || text.contains("self-signed")
                || text.contains("self signed")
            {
                return "the coordinator does not trust the agent's certificate: the inventory's tls.caFile must be "
                    + "the CA that issued it, for the VM's address"
            }
            return nil
        }

        /// True when nothing answered at all.
        public var isUnreachable: Bool { if case .transport = self { true } else { false } }

        /// True when the agent refused because a snapshot session holds it.
        public var isSessionUnderWay: Bool {
            if case .refused(409, let body) = self { body?.code == .frozen } else { false }
        }
    }

    /// GETs `path` from `vm` and decodes the JSON answer. `keepConnection` false closes the
    /// connection after it: the command has nothing more to ask this VM.
    public func get<T: Decodable & Sendable>(
        _ type: T.Type, _ path: String, from vm: FleetInventory.VM, keepConnection: Bool = true
    ) async -> Result<T, CallError> {
        Self.decode(T.self, path, await call("GET", path, on: vm, keepConnection: keepConnection))
    }

    /// PUTs a file to `vm` with its SHA-256 (and its signature) and decodes the JSON answer.
    public func put<T: Decodable & Sendable>(
        _ type: T.Type, _ path: String, on vm: FleetInventory.VM, body: [UInt8], sha256: String,
        signature: ContentSignature? = nil, keepConnection: Bool = true
    ) async -> Result<T, CallError> {
        var headers = [
            (name: "Content-Type", value: "application/octet-stream"),
            (name: AgentRoutes.contentSHA256Header, value: sha256),
        ]
        if let signature { headers.append((name: ContentSignature.header, value: signature.line)) }
        return Self.decode(
            T.self, path,
            await call("PUT", path, on: vm, body: body, headers: headers, keepConnection: keepConnection))
    }

    /// POSTs `body` as JSON to `vm` and decodes the JSON answer.
    public func post<T: Decodable & Sendable>(
        _ type: T.Type, _ path: String, on vm: FleetInventory.VM, json body: some Encodable, timeout: Duration? = nil
    ) async -> Result<T, CallError> {
        await send("POST", T.self, path, on: vm, json: body, timeout: timeout)
    }

    /// PUTs `body` as JSON to `vm` and decodes the JSON answer.
    public func put<T: Decodable & Sendable>(
        _ type: T.Type, _ path: String, on vm: FleetInventory.VM, json body: some Encodable, keepConnection: Bool = true
    ) async -> Result<T, CallError> {
        await send("PUT", T.self, path, on: vm, json: body, keepConnection: keepConnection)
    }

    private func send<T: Decodable & Sendable>(
        _ method: String, _ type: T.Type, _ path: String, on vm: FleetInventory.VM, json body: some Encodable,
        timeout: Duration? = nil, keepConnection: Bool = true
    ) async -> Result<T, CallError> {
        let bytes: [UInt8]
        do {
            bytes = try QuiesceJSON.encode(body)
        } catch {
            return .failure(.unreadable("cannot encode the request to \(path): \(error)"))
        }
        let headers = [(name: "Content-Type", value: "application/json")]
        return Self.decode(
            T.self, path,
            await call(
                method, path, on: vm, body: bytes, headers: headers, timeout: timeout, keepConnection: keepConnection))
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ path: String, _ answer: Result<[UInt8], CallError>)
        -> Result<T, CallError>
    {
        answer.flatMap { body in
            do {
                return .success(try QuiesceJSON.decode(T.self, from: body))
            } catch {
                let start = String(decoding: body.prefix(60), as: UTF8.self)
                return .failure(
                    .unreadable(
                        "the agent's answer to \(path) is not what this coordinator understands "
                            + "(\(JSONValue.describe(error))); it began \"\(start)\""
                    ))
            }
        }
    }

    /// One request to `vm`; the body of a 2xx answer, or why there is none.
    public func call(
        _ method: String, _ path: String, on vm: FleetInventory.VM, body: [UInt8]? = nil,
        headers: [(name: String, value: String)] = [],
        timeout: Duration? = nil, keepConnection: Bool = true
    ) async -> Result<[UInt8], CallError> {
        guard vm.transportIsSafe else {
            return .failure(
                .insecure(
                    "\(vm.address) is not a loopback address and the inventory gives it no `tls`: its token and "
                        + "scripts would cross the network in plaintext. Add `tls` (or `defaults.tls`), or set "
                        + "`\"insecurePlaintext\": true` for it on a network you trust"))
        }
        if let keyFile = vm.tls?.keyFile, let problem = tokens.keyProblem(keyFile) {
            return .failure(.noToken(problem))
        }
        var authorization: [(name: String, value: String)] = []
        if let tokenFile = vm.tokenFile {
            switch tokens.token(in: tokenFile) {
            case .success(let found): authorization = [("Authorization", "Bearer \(found)")]
            case .failure(let error): return .failure(error)
            }
        }
        let scheme = vm.tls == nil ? "http" : "https"
        let request = HTTPClientRequest(
            method: method, url: "\(scheme)://\(vm.address)\(path)",
            headers: authorization + headers, body: body, timeout: timeout ?? requestTimeout,
            tls: vm.tls.map(ClientTLS.init), keepConnection: keepConnection)
        let response: HTTPClientResponse
        do {
            response = try await client.send(request)
        } catch {
            return .failure(.transport(error))
        }
        guard (200..<300).contains(response.status) else {
            return .failure(
                .refused(
                    status: response.status,
                    body: try? QuiesceJSON.decode(APIErrorBody.self, from: response.body)))
        }
        return .success(response.body)
    }
}

/// Token files, each read once, and key files, each checked once.
final class TokenFiles: Sendable {
    private let read = Mutex<[String: Result<String, AgentClient.CallError>]>([:])
    private let keys = Mutex<[String: String?]>([:])

    /// Why the coordinator's TLS key must not be used (others can read it), or nil.
    func keyProblem(_ path: String) -> String? {
        keys.withLock { keys in
            if let known = keys[path] { return known }
            let problem = Self.exposure(of: path, what: "the key file")
            keys[path] = problem
            return problem
        }
    }

    func token(in path: String) -> Result<String, AgentClient.CallError> {
        read.withLock { read in
            if let known = read[path] { return known }
            let result: Result<String, AgentClient.CallError>
            do {
                if let problem = Self.exposure(of: path, what: "the token file") {
                    throw TokenFileExposed(message: problem)
                }
                result = .success(try FileReader.text(path).trimmingWhitespace())
            } catch let error as TokenFileExposed {
                result = .failure(.noToken(error.message))
            } catch {
                result = .failure(.noToken("cannot read the token file \(path): \(error)"))
            }
            read[path] = result
            return result
        }
    }
}

extension ClientTLS {
    /// The inventory's TLS files for a VM (its own, or the defaults).
    public init(_ files: FleetInventory.TLSFiles?) {
        self.init(caFile: files?.caFile, certificateFile: files?.certificateFile, keyFile: files?.keyFile)
    }
}

extension TokenFiles {
    private struct TokenFileExposed: Error {
        var message: String
    }

    /// Why a secret file (`what`: the token file, the key file) is not private (owned by this
    /// user, no access for group or others), or nil when it is; a token or key others can read
    /// lets them command every VM.
    static func exposure(of path: String, what: String) -> String? {
        guard let facts = try? FileFacts.read(path: path) else { return nil }
        let file = facts.target
        if !file.isRegularFile { return "\(what) \(path) is not a regular file" }
        if file.ownerUid != CurrentProcess.effectiveUserID {
            return "\(what) \(path) is owned by uid \(file.ownerUid), not by this user "
                + "(uid \(CurrentProcess.effectiveUserID)): chown it"
        }
        if file.permissions & 0o077 != 0 {
            return "\(what) \(path) can be read by others (mode \(String(file.permissions, radix: 8))): "
                + "chmod 0600 \(path)"
        }
        return nil
    }
}
