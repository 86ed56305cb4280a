import CCurl
import Foundation

/// One request in flight: its easy handle, its buffers, and who waits for it. Created by the
/// caller, then touched only by the loop thread.
final class Transfer: @unchecked Sendable {
    let request: HTTPClientRequest
    private let continuation: CheckedContinuation<Result<HTTPClientResponse, TransportError>, Never>
    private(set) var handle: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var uploadBody: UnsafeMutableRawBufferPointer?
    private var errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    var responseBody: [UInt8] = []
    /// Set when the answer outgrew `maxResponseBytes` and the transfer was cut off.
    var exceededLimit = false
    var responseHeaders: [String: String] = [:]

    init(
        request: HTTPClientRequest, continuation: CheckedContinuation<Result<HTTPClientResponse, TransportError>, Never>
    ) {
        self.request = request
        self.continuation = continuation
        errorBuffer.initialize(to: 0)
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
        curl_slist_free_all(headerList)
        uploadBody?.deallocate()
        errorBuffer.deallocate()
    }

    var address: String {
        guard let url = URL(string: request.url), let host = url.host else { return request.url }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    /// A configured easy handle, or nil (and the caller is answered) when libcurl refuses.
    func makeHandle(tls: ClientTLS) -> UnsafeMutableRawPointer? {
        guard let handle = curl_easy_init() else {
            finish(.failure(TransportError(kind: .other, address: address, message: "curl_easy_init failed")))
            return nil
        }
        self.handle = handle
        let context = Unmanaged.passUnretained(self).toOpaque()
        quiesce_curl_easy_setopt_string(handle, CURLOPT_URL, request.url)
        quiesce_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        quiesce_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        // Never through a proxy from http_proxy and friends: the bearer token would go to it.
        quiesce_curl_easy_setopt_string(handle, CURLOPT_PROXY, "")
        quiesce_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout / .milliseconds(1)))
        quiesce_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout / .milliseconds(1)))
        quiesce_curl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        // Every finished transfer prunes the multi handle's whole DNS cache, one entry per agent,
        // unless entries never expire: pruning made a 10,000-agent sweep quadratic (25 s against
        // 1.3 s for 1,000). Answers are kept for the client's life, one command.
        quiesce_curl_easy_setopt_long(handle, CURLOPT_DNS_CACHE_TIMEOUT, -1)
        quiesce_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        quiesce_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        quiesce_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, transferWrite)
        quiesce_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        quiesce_curl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, transferHeader)
        if !request.keepConnection { quiesce_curl_easy_setopt_long(handle, CURLOPT_FORBID_REUSE, 1) }
        if request.method == "HEAD" { quiesce_curl_easy_setopt_long(handle, CURLOPT_NOBODY, 1) }
        var headers = request.headers.map { "\($0.name): \($0.value)" }
        // The last request says so, as HTTP/1.1 does: the agent closes first, and the TIME_WAIT
        // that follows a close is held on its side, one per agent, not on the coordinator's,
        // 10,000 per fleet command.
        if !request.keepConnection { headers.append("Connection: close") }
        if let body = request.body {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(body.count, 1), alignment: 1)
            body.withUnsafeBytes { buffer.copyMemory(from: $0) }
            uploadBody = buffer
            quiesce_curl_easy_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            quiesce_curl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, buffer.baseAddress)
            // Without this libcurl asks for 100-continue and may wait a second for it.
            headers.append("Expect:")
        }
        for header in headers { headerList = curl_slist_append(headerList, header) }
        quiesce_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        let tls = request.tls ?? tls
        if let ca = tls.caFile { quiesce_curl_easy_setopt_string(handle, CURLOPT_CAINFO, ca) }
        if let certificate = tls.certificateFile {
            quiesce_curl_easy_setopt_string(handle, CURLOPT_SSLCERT, certificate)
        }
        if let key = tls.keyFile { quiesce_curl_easy_setopt_string(handle, CURLOPT_SSLKEY, key) }
        return handle
    }

    /// Answers the caller once the transfer is done.
    func complete(code: CURLcode) {
        if exceededLimit {
            let message = "the answer is longer than \(request.maxResponseBytes) bytes; an agent's never is"
            finish(.failure(TransportError(kind: .tooLarge, address: address, message: message)))
            return
        }
        guard code == CURLE_OK, let handle else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            finish(
                .failure(
                    TransportError(kind: Self.kind(of: code, message: message), address: address, message: message)))
            return
        }
        var status = 0
        var connects = 0
        var total = 0.0
        _ = quiesce_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        _ = quiesce_curl_easy_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        _ = quiesce_curl_easy_getinfo_double(handle, CURLINFO_TOTAL_TIME, &total)
        finish(
            .success(
                HTTPClientResponse(
                    status: status, headers: responseHeaders, body: responseBody, newConnections: connects,
                    totalSeconds: total)))
    }

    func finish(_ result: Result<HTTPClientResponse, TransportError>) {
        continuation.resume(returning: result)
    }

    static func kind(of code: CURLcode, message: String) -> TransportError.Kind {
        // The peer refusing our certificate shows as a broken read, with its TLS alert in the text.
        if message.contains("alert") && message.contains("SSL") { return .tls }
        return switch code {
        case CURLE_COULDNT_CONNECT: .refused
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .resolve
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_CRL_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            .tls
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE: .dropped
        default: .other
        }
    }
}

/// libcurl's write callback: the body arrives here, on the loop thread.
private func transferWrite(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    guard transfer.responseBody.count + length <= transfer.request.maxResponseBytes else {
        // Returning less than was given makes libcurl abort the transfer.
        transfer.exceededLimit = true
        return 0
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.responseBody.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

/// libcurl's header callback: one header line at a time, taken apart as bytes (a fleet
/// command reads tens of thousands of them).
private func transferHeader(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    data.withMemoryRebound(to: UInt8.self, capacity: length) { start in
        let line = UnsafeBufferPointer(start: start, count: length)
        if line.starts(with: "HTTP/".utf8) {
            transfer.responseHeaders = [:]  // a new response (after a 100 Continue, say)
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
            var value = line[(colon + 1)...]
            while let first = value.first, isSpace(first) { value = value.dropFirst() }
            while let last = value.last, isSpace(last) { value = value.dropLast() }
            let name = line[..<colon].map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
            transfer.responseHeaders[String(decoding: name, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
    }
    return length
}
