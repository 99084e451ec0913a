import CCurl
import Foundation
import Synchronization

/// One attempt of one request on one easy handle, run by a client's `CurlMultiDriver`.
///
/// `start()` configures the handle (on the caller's thread: nothing else holds it yet) and queues
/// it; from then on every callback and libcurl call happens on the driver thread, which calls
/// `complete` once. `onHead` is called once, on that thread, when the final response head has
/// arrived; it answers whether the body should flow to `body` (true) or be discarded because the
/// attempt will be retried (false). `onEnd` gets the outcome, with the handle out of the multi
/// handle and reset, ready for the pool.
///
/// Back-pressure never blocks the driver thread: a full response buffer pauses the transfer
/// (`CURL_WRITEFUNC_PAUSE`) until the reader makes room, and a request body with no bytes ready
/// pauses it (`CURL_READFUNC_PAUSE`) until the producer adds some; both unpause through the driver.
final class CurlTransfer: @unchecked Sendable {
    // The mutable state below is touched only by the driver thread (or by `start` before the
    // transfer is queued), except `cancelled`, which is atomic.
    private let handle: EasyHandle
    private let driver: CurlMultiDriver
    private let request: ClientRequest
    private let settings: HTTPClient.Configuration
    private let source: (any RequestBodySource)?
    let body: ResponseBodyBuffer
    private let onHead: (ClientResponseHead, ResponseBodyBuffer) -> Bool
    private let onEnd: (Outcome) -> Void
    private let cancelled = Atomic<Bool>(false)

    private var status = 0
    private var headers = HTTPHeaders()
    private var headDelivered = false
    private var discardingBody = false
    private var sourceError: (any Error)?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var completed = false

    enum Outcome {
        /// The head went to `onHead`, which took the body; the body ends with this result
        /// once `onEnd` has returned the handle to its pool (so a follow-up request reuses it).
        case delivered(Result<Void, any Error>)
        /// `onHead` declined this status (to retry).
        case declined(status: Int)
        case failed(HTTPClientError)
    }

    init(
        handle: EasyHandle, driver: CurlMultiDriver, request: ClientRequest, settings: HTTPClient.Configuration,
        source: (any RequestBodySource)?, onHead: @escaping (ClientResponseHead, ResponseBodyBuffer) -> Bool,
        onEnd: @escaping (Outcome) -> Void
    ) {
        self.handle = handle
        self.driver = driver
        self.request = request
        self.settings = settings
        self.source = source
        self.body = ResponseBodyBuffer(limit: settings.responseBufferBytes)
        self.onHead = onHead
        self.onEnd = onEnd
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    var easy: UnsafeMutableRawPointer { handle.raw }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func start() {
        configure()
        body.onSpace = { [weak self] in
            guard let self else { return }
            driver.resume(self)
        }
        body.onAbandon = { [weak self] in
            guard let self else { return }
            driver.abort(self)
        }
        source?.onReadable { [weak self] in
            guard let self else { return }
            driver.resume(self)
        }
        driver.add(self)
    }

    /// Aborts the transfer at once (the driver removes it from the multi handle).
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        driver.abort(self)
    }

    /// Called once, on the driver thread, with the handle out of the multi handle.
    func complete(_ code: CURLcode) {
        guard !completed else { return }
        completed = true
        let outcome = outcome(of: code)
        curl_easy_reset(handle.raw)
        source?.close()
        onEnd(outcome)
        if case .delivered(let result) = outcome { body.finish(result) }
    }

    private func outcome(of code: CURLcode) -> Outcome {
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

    private func configure() {
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
        _ = bc_curl_set_pointer(handle.raw, CURLOPT_ERRORBUFFER, errorBuffer)

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

    /// What the write callback answers: the bytes taken, 0 to abort, or the pause code.
    fileprivate func receivedBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if discardingBody || !headDelivered { return bytes.count }
        switch body.push(bytes) {
        case .taken: return bytes.count
        case .full: return Int(bc_curl_write_pause)
        case .abandoned: return 0
        }
    }

    fileprivate func fillUpload(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let source else { return 0 }
        do {
            return try source.read(into: buffer) ?? Int(bc_curl_read_pause)
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
        let detail = String(cString: errorBuffer)
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
    return transfer(context).receivedBody(UnsafeRawBufferPointer(start: buffer, count: length))
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
