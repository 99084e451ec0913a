import CCurl
import Foundation
import Synchronization

/// One attempt of one request on one easy handle, run to completion on a
/// dedicated thread (libcurl's easy interface blocks).
///
/// `onHead` is called once, on that thread, when the final response head
/// has arrived; it answers whether the body should flow to `body` (true) or
/// be discarded because the attempt will be retried (false).
final class CurlTransfer: @unchecked Sendable {
    // The mutable state below is touched only by the transfer thread, except
    // `cancelled`, which is atomic.
    private let handle: EasyHandle
    private let request: ClientRequest
    private let settings: HTTPClient.Configuration
    private let source: (any RequestBodySource)?
    let body: ResponseBodyBuffer
    private let onHead: (ClientResponseHead, ResponseBodyBuffer) -> Bool
    private let cancelled = Atomic<Bool>(false)

    private var status = 0
    private var headers = HTTPHeaders()
    private var headDelivered = false
    private var discardingBody = false
    private var sourceError: (any Error)?
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    enum Outcome {
        /// The head went to `onHead`, which took the body; the body ended
        /// with this result, which the caller passes to `body.finish` once
        /// the handle is back in its pool (so a follow-up request reuses it).
        case delivered(Result<Void, any Error>)
        /// `onHead` declined this status (to retry).
        case declined(status: Int)
        case failed(HTTPClientError)
    }

    init(
        handle: EasyHandle, request: ClientRequest, settings: HTTPClient.Configuration,
        source: (any RequestBodySource)?, onHead: @escaping (ClientResponseHead, ResponseBodyBuffer) -> Bool
    ) {
        self.handle = handle
        self.request = request
        self.settings = settings
        self.source = source
        self.body = ResponseBodyBuffer(limit: settings.responseBufferBytes)
        self.onHead = onHead
    }

    func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Blocks until the exchange is over.
    func run() -> Outcome {
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer {
            curl_slist_free_all(headerList)
            source?.close()
        }
        configure(headerList: &headerList)
        let code = curl_easy_perform(handle.raw)
        let failure = code == CURLE_OK ? nil : error(for: code)
        if headDelivered {
            return .delivered(failure.map { .failure($0) } ?? .success(()))
        }
        if let failure { return .failed(failure) }
        if discardingBody { return .declined(status: status) }
        // A response without a completed header block cannot happen with
        // HTTP; treat it as a broken connection.
        return .failed(.connectionFailed(url: request.urlForLogs, reason: "no response head"))
    }

    private func configure(headerList: inout UnsafeMutablePointer<curl_slist>?) {
        curl_easy_reset(handle.raw)
        handle.set(CURLOPT_URL, request.url)
        handle.set(CURLOPT_PROTOCOLS_STR, "http,https")
        handle.set(CURLOPT_NOSIGNAL, 1)
        handle.set(CURLOPT_FOLLOWLOCATION, 0)
        // Paths go out as given: S3 keys and registry paths may hold "." or "..".
        handle.set(CURLOPT_PATH_AS_IS, 1)
        handle.set(CURLOPT_TCP_KEEPALIVE, 1)
        handle.set(CURLOPT_SSL_VERIFYPEER, 1)
        handle.set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundle = settings.caBundlePath { handle.set(CURLOPT_CAINFO, caBundle) }
        handle.set(CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeout.milliseconds)
        if let timeout = request.timeout ?? settings.defaultTimeout {
            handle.set(CURLOPT_TIMEOUT_MS, timeout.milliseconds)
        }
        // A transfer that moves no byte for this long is dead.
        handle.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        handle.set(CURLOPT_LOW_SPEED_TIME, max(1, settings.idleTimeout.milliseconds / 1000))
        handle.set(CURLOPT_BUFFERSIZE, 256 * 1024)
        handle.set(CURLOPT_UPLOAD_BUFFERSIZE, 256 * 1024)
        _ = errorBuffer.withUnsafeMutableBytes { bc_curl_set_pointer(handle.raw, CURLOPT_ERRORBUFFER, $0.baseAddress) }

        let method = request.method.uppercased()
        switch method {
        case "GET" where source == nil: handle.set(CURLOPT_HTTPGET, 1)
        case "HEAD": handle.set(CURLOPT_NOBODY, 1)
        default: handle.set(CURLOPT_CUSTOMREQUEST, method)
        }
        if let source {
            handle.set(CURLOPT_UPLOAD, 1)
            if let length = source.length { handle.set(CURLOPT_INFILESIZE_LARGE, length) }
        }

        var fields = request.headers
        // curl waits for "100 Continue" on large uploads; servers that never
        // send it cost a second per request.
        fields.set("Expect", "")
        for field in fields {
            let line = field.value.isEmpty ? "\(field.name):" : "\(field.name): \(field.value)"
            headerList = curl_slist_append(headerList, line)
        }
        _ = bc_curl_set_headers(handle.raw, headerList)

        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = bc_curl_set_data_callback(handle.raw, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
        _ = bc_curl_set_pointer(handle.raw, CURLOPT_HEADERDATA, context)
        _ = bc_curl_set_data_callback(handle.raw, CURLOPT_WRITEFUNCTION, curlWriteCallback)
        _ = bc_curl_set_pointer(handle.raw, CURLOPT_WRITEDATA, context)
        if source != nil {
            _ = bc_curl_set_data_callback(handle.raw, CURLOPT_READFUNCTION, curlReadCallback)
            _ = bc_curl_set_pointer(handle.raw, CURLOPT_READDATA, context)
            _ = bc_curl_set_seek_callback(handle.raw, curlSeekCallback)
            _ = bc_curl_set_pointer(handle.raw, CURLOPT_SEEKDATA, context)
        }
        handle.set(CURLOPT_NOPROGRESS, 0)
        _ = bc_curl_set_xferinfo_callback(handle.raw, curlProgressCallback)
        _ = bc_curl_set_pointer(handle.raw, CURLOPT_XFERINFODATA, context)
    }

    fileprivate func receivedHeaderLine(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = HTTPHeaders()
        } else if trimmed.isEmpty {
            guard status >= 200, !headDelivered, !discardingBody else { return }
            var head = ClientResponseHead(status: status, headers: headers)
            head.newConnections = handle.info(CURLINFO_NUM_CONNECTS)
            if onHead(head, body) {
                headDelivered = true
            } else {
                discardingBody = true
            }
        } else if let colon = trimmed.firstIndex(of: ":") {
            let name = String(trimmed[..<colon])
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.add(name, value)
        }
    }

    fileprivate func receivedBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if discardingBody || !headDelivered { return true }
        return body.push(Array(bytes))
    }

    fileprivate func fillUpload(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let source else { return 0 }
        do {
            return try source.read(into: buffer)
        } catch {
            sourceError = error
            return Int(bc_curl_read_abort)
        }
    }

    /// libcurl resends the body when a reused connection turned out dead.
    fileprivate func rewindUpload(offset: Int64, origin: Int32) -> Bool {
        guard offset == 0, origin == SEEK_SET, let source else { return false }
        return source.rewind()
    }

    fileprivate var shouldAbort: Bool {
        cancelled.load(ordering: .relaxed) || (headDelivered && body.isAbandoned)
    }

    private func error(for code: CURLcode) -> HTTPClientError {
        let url = request.urlForLogs
        if cancelled.load(ordering: .relaxed) || (headDelivered && body.isAbandoned) { return .cancelled }
        if let sourceError {
            return sourceError as? HTTPClientError ?? .bodySourceFailed(String(describing: sourceError))
        }
        let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let reason = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(url: url)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
            CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SEND_FAIL_REWIND:
            return .connectionFailed(url: url, reason: reason)
        default: return .transferFailed(url: url, code: Int(code.rawValue), reason: reason)
        }
    }
}

private func transfer(_ context: UnsafeMutableRawPointer?) -> CurlTransfer {
    Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
}

private let curlHeaderCallback: bc_curl_data_callback = { buffer, size, count, context in
    let length = size * count
    guard let buffer else { return length }
    let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
    transfer(context).receivedHeaderLine(line)
    return length
}

private let curlWriteCallback: bc_curl_data_callback = { buffer, size, count, context in
    let length = size * count
    guard let buffer else { return length }
    let kept = transfer(context).receivedBody(UnsafeRawBufferPointer(start: buffer, count: length))
    return kept ? length : 0
}

private let curlReadCallback: bc_curl_data_callback = { buffer, size, count, context in
    guard let buffer else { return 0 }
    return transfer(context).fillUpload(UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
}

private let curlSeekCallback: bc_curl_seek_callback = { context, offset, origin in
    transfer(context).rewindUpload(offset: Int64(offset), origin: origin) ? bc_curl_seek_ok : bc_curl_seek_cantseek
}

private let curlProgressCallback: bc_curl_xferinfo_callback = { context, _, _, _, _ in
    transfer(context).shouldAbort ? 1 : 0
}

extension Duration {
    var milliseconds: Int {
        Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}
