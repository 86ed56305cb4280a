import CCurl
import Foundation
import Synchronization

/// An HTTP client for talking to many agents at once: one libcurl multi handle driven by its own
/// thread (`curl_multi_poll`), exposed as async calls. Connections stay in the multi handle's
/// cache, so a group's later phases reuse the connections its first phase opened.
///
///     let client = CurlClient(maxConcurrentTransfers: 256)
///     let response = try await client.send(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:7710/v1/health"))
public final class CurlClient: Sendable {
    private let loop: CurlLoop
    /// Transfers in flight at once; a fleet command keeps as many VMs busy.
    public let maxConcurrentTransfers: Int

    /// - Parameters:
    ///   - maxConcurrentTransfers: transfers in flight at once; the rest wait their turn.
    ///   - tls: how agents' certificates are checked and the coordinator's own certificate.
    public init(maxConcurrentTransfers: Int = 256, tls: ClientTLS = ClientTLS()) {
        CurlGlobal.initialize()
        self.maxConcurrentTransfers = max(1, maxConcurrentTransfers)
        loop = CurlLoop(maxConcurrentTransfers: maxConcurrentTransfers, tls: tls)
        let loop = loop
        let thread = Thread { loop.run() }
        thread.name = "quiesce-curl"
        thread.start()
    }

    deinit { loop.stop() }

    /// Sends one request; an HTTP error status is an answer, not a thrown error.
    public func send(_ request: HTTPClientRequest) async throws(TransportError) -> HTTPClientResponse {
        let result = await withCheckedContinuation { continuation in
            loop.submit(Transfer(request: request, continuation: continuation))
        }
        return try result.get()
    }
}

/// `curl_global_init` once per process, before any handle.
enum CurlGlobal {
    private static let done: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()
    static func initialize() { _ = done }
}
