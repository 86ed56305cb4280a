import Foundation
import NIOSSL
import QuiesceAPI
import QuiesceHTTPServer
import QuiesceSystem

/// Who may read `quiesce serve`'s pages and `/metrics`. On loopback with nothing set: the
/// machine's own users, as for the CLI. Beyond loopback TLS is required, with a token or a
/// client certificate (`--client-ca`: mutual TLS), or both. The token is taken as
/// `Authorization: Bearer <token>` (Prometheus, curl) or as the password of HTTP Basic, which a
/// browser asks for itself: the pages need no script to log in.
struct ServeCredentials: ServerCredentials {
    let tls: NIOSSLContext?
    private let token: [UInt8]?
    private let certificateIsCredential: Bool

    /// Nothing set: only a loopback listener may use these.
    var isOpen: Bool { token == nil && !certificateIsCredential }
    var challenge: String { #"Basic realm="quiesce serve", charset="UTF-8""# }

    /// With no token, everyone the handshake let in (everyone, when there is no client CA).
    func accepts(authorization: String?) -> Bool {
        guard let token else { return true }
        guard let authorization else { return false }
        if authorization.hasPrefix("Bearer ") {
            return ConstantTime.equal(authorization.utf8.dropFirst(7), token)
        }
        guard authorization.hasPrefix("Basic "), let pair = Data(base64Encoded: String(authorization.dropFirst(6))),
            let colon = pair.firstIndex(of: UInt8(ascii: ":"))
        else { return false }
        // The user name is not checked: the token is the secret.
        return ConstantTime.equal(pair[pair.index(after: colon)...], token)
    }

    struct Options {
        var listen: ListenAddress
        var tokenFile: String?
        var certificateFile: String?
        var keyFile: String?
        var clientCAFile: String?
    }

    /// The credentials `options` name; throws naming what is missing or unusable and how to fix it.
    static func load(_ options: Options) throws(UnusableInput) -> ServeCredentials {
        func refuse(_ why: String) -> UnusableInput { UnusableInput(description: "quiesce serve: \(why)") }
        guard (options.certificateFile == nil) == (options.keyFile == nil) else {
            throw refuse("--tls-cert and --tls-key go together: give both, or neither for plaintext on loopback")
        }
        if options.clientCAFile != nil && options.certificateFile == nil {
            throw refuse("--client-ca needs TLS: give --tls-cert and --tls-key as well")
        }
        if !options.listen.isLoopback {
            guard options.certificateFile != nil else {
                throw refuse(
                    "--listen \(options.listen.host) is beyond loopback: give --tls-cert and --tls-key, and "
                        + "--token-file or --client-ca, so that the fleet's state is read only by whom you choose")
            }
            guard options.tokenFile != nil || options.clientCAFile != nil else {
                throw refuse(
                    "--listen \(options.listen.host) is beyond loopback: give --token-file (a token for curl, "
                        + "Prometheus and browsers) or --client-ca (mutual TLS), or both")
            }
        }
        let token = try options.tokenFile.map { file throws(UnusableInput) in try readToken(file) }
        var tls: NIOSSLContext?
        if let certificateFile = options.certificateFile, let keyFile = options.keyFile {
            do {
                tls = try ServerTLS.context(
                    chain: try NIOSSLCertificate.fromPEMFile(certificateFile), keyFile: keyFile,
                    clientCAFile: options.clientCAFile)
            } catch {
                throw refuse(
                    "cannot set up TLS from --tls-cert \(certificateFile) and --tls-key \(keyFile)"
                        + (options.clientCAFile.map { " and --client-ca \($0)" } ?? "") + ": \(error)")
            }
        }
        return ServeCredentials(tls: tls, token: token, certificateIsCredential: options.clientCAFile != nil)
    }

    /// One word of at least 16 characters, in a regular file nobody but its owner may read.
    private static func readToken(_ path: String) throws(UnusableInput) -> [UInt8] {
        let create = "create it with `openssl rand -hex 32 > \(path); chmod 0600 \(path)`"
        let text: String
        do {
            let facts = try FileFacts.read(path: path)
            guard facts.target.isRegularFile, facts.target.permissions & 0o077 == 0 else {
                throw UnusableInput(
                    description: "quiesce serve: --token-file \(path) must be a regular file only its owner may "
                        + "read (mode 0600 or 0400): \(String(facts.target.permissions, radix: 8)) now")
            }
            text = String(decoding: try FileReader.read(path, limit: 4096), as: UTF8.self).trimmingWhitespace()
        } catch let error as UnusableInput {
            throw error
        } catch {
            throw UnusableInput(description: "quiesce serve: cannot read --token-file \(path): \(error); \(create)")
        }
        guard text.count >= 16, !text.contains(where: \.isWhitespace) else {
            throw UnusableInput(
                description: "quiesce serve: the token in \(path) must be one word of at least 16 characters; \(create)"
            )
        }
        return Array(text.utf8)
    }
}
