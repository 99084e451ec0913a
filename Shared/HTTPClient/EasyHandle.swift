import CCurl
import Foundation
import Synchronization

/// One libcurl easy handle. Kept between requests so its connection cache
/// lets the next request to the same host reuse a live connection.
final class EasyHandle: @unchecked Sendable {
    // Used by one transfer at a time; the pool hands it out exclusively.
    let raw: UnsafeMutableRawPointer

    init() {
        EasyHandle.initializeLibrary()
        guard let raw = curl_easy_init() else { fatalError("curl_easy_init failed") }
        self.raw = raw
    }

    deinit { curl_easy_cleanup(raw) }

    /// curl_global_init is not thread-safe; a static let runs it exactly once.
    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
    }()

    static func initializeLibrary() { _ = globalInit }

    func set(_ option: CURLoption, _ value: Int) {
        _ = bc_curl_set_long(raw, option, value)
    }

    func set(_ option: CURLoption, _ value: Int64) {
        _ = bc_curl_set_offset(raw, option, curl_off_t(value))
    }

    /// libcurl copies string options (since 7.17), so a temporary C string is enough.
    func set(_ option: CURLoption, _ value: String) {
        _ = value.withCString { bc_curl_set_string(raw, option, $0) }
    }

    func info(_ info: CURLINFO) -> Int {
        var value = 0
        _ = bc_curl_get_long(raw, info, &value)
        return value
    }
}

/// Idle easy handles, at most `capacity` kept.
final class EasyHandlePool: Sendable {
    private let idle = Mutex<[EasyHandle]>([])
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func take() -> EasyHandle {
        idle.withLock { $0.popLast() } ?? EasyHandle()
    }

    func give(_ handle: EasyHandle) {
        idle.withLock { handles in
            if handles.count < capacity { handles.append(handle) }
        }
    }
}
