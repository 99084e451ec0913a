import Foundation

/// What libcurl's read callback pulls the request body from, on the driver thread.
protocol RequestBodySource: AnyObject, Sendable {
    /// Length if known (sets Content-Length), nil for chunked encoding.
    var length: Int64? { get }
    /// Copies up to `buffer.count` bytes; 0 at the end; nil when no byte is ready yet (the
    /// transfer pauses until the handler given to `onReadable` is called); throws to abort.
    /// Never waits for a producer: it runs on the thread that drives every transfer.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int?
    /// Goes back to the first byte, for libcurl to resend the body on a
    /// new connection; false when the source cannot (a stream).
    func rewind() -> Bool
    /// Releases what the source holds (the transfer is over).
    func close()
    /// Sets what to call when bytes become ready after `read` answered nil.
    func onReadable(_ handler: @escaping @Sendable () -> Void)
}

extension RequestBodySource {
    /// Bytes and files are always ready.
    func onReadable(_ handler: @escaping @Sendable () -> Void) {}
}

final class BytesBodySource: RequestBodySource, @unchecked Sendable {
    // Read only from the driver thread.
    private let bytes: [UInt8]
    private var offset = 0
    var length: Int64? { Int64(bytes.count) }

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }

    func rewind() -> Bool {
        offset = 0
        return true
    }

    func close() {}
}

final class FileBodySource: RequestBodySource, @unchecked Sendable {
    // Read only from the driver thread.
    private let handle: FileHandle
    private let start: Int64
    private var remaining: Int64
    let length: Int64?

    init(path: String, offset: Int64, length: Int64?) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw HTTPClientError.bodySourceFailed("cannot open \(path)")
        }
        let size = Int64(try handle.seekToEnd())
        guard offset <= size else { throw HTTPClientError.bodySourceFailed("offset beyond the end of \(path)") }
        try handle.seek(toOffset: UInt64(offset))
        self.handle = handle
        self.start = offset
        self.remaining = min(length ?? (size - offset), size - offset)
        self.length = remaining
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        let wanted = Int(min(Int64(buffer.count), remaining))
        guard wanted > 0 else { return 0 }
        var count: Int
        repeat {
            count = Foundation.read(handle.fileDescriptor, buffer.baseAddress, wanted)
        } while count < 0 && errno == EINTR
        guard count > 0 else {
            throw HTTPClientError.bodySourceFailed(count == 0 ? "file ended early" : "read failed (errno \(errno))")
        }
        remaining -= Int64(count)
        return count
    }

    func rewind() -> Bool {
        guard let length, (try? handle.seek(toOffset: UInt64(start))) != nil else { return false }
        remaining = length
        return true
    }

    func close() { try? handle.close() }
}

/// Bridges an async chunk sequence to libcurl's read callback, holding at most `limit` bytes
/// between them: the producer suspends while the buffer is full, and the transfer pauses while
/// it is empty.
final class StreamBodySource: RequestBodySource, @unchecked Sendable {
    // All mutable state is guarded by `lock`.
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    private var finished = false
    private var failure: (any Error)?
    private var closed = false
    private var spaceWaiter: CheckedContinuation<Void, Never>?
    /// `read` found nothing: call `readable` when bytes (or the end) arrive.
    private var readerPaused = false
    private var readable: @Sendable () -> Void = {}
    private let limit: Int
    private var pump: Task<Void, Never>?
    let length: Int64?

    init(_ stream: ClientBodyStream, length: Int64?, limit: Int = 1 << 20) {
        self.length = length
        self.limit = limit
        pump = Task { [weak self] in
            do {
                for try await chunk in stream {
                    guard let self, await self.write(chunk) else { return }
                }
                self?.end(nil)
            } catch {
                self?.end(error)
            }
        }
    }

    func onReadable(_ handler: @escaping @Sendable () -> Void) {
        lock.withLock { readable = handler }
    }

    private func write(_ chunk: [UInt8]) async -> Bool {
        while true {
            let wait: Bool = lock.withLock {
                if closed { return false }
                return pending.count - pendingOffset >= limit
            }
            if !wait { break }
            await withCheckedContinuation { continuation in
                lock.lock()
                if closed || pending.count - pendingOffset < limit {
                    lock.unlock()
                    continuation.resume()
                } else {
                    spaceWaiter = continuation
                    lock.unlock()
                }
            }
        }
        let (accepted, wake) = lock.withLock { () -> (Bool, (@Sendable () -> Void)?) in
            guard !closed else { return (false, nil) }
            if pendingOffset > 0 {
                pending.removeFirst(pendingOffset)
                pendingOffset = 0
            }
            pending.append(contentsOf: chunk)
            return (true, takeReader())
        }
        wake?()
        return accepted
    }

    private func end(_ error: (any Error)?) {
        let wake = lock.withLock {
            finished = true
            failure = error
            return takeReader()
        }
        wake?()
    }

    /// The handler to call (outside the lock) if the transfer paused for bytes. Call locked.
    private func takeReader() -> (@Sendable () -> Void)? {
        guard readerPaused else { return nil }
        readerPaused = false
        return readable
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        lock.lock()
        if let failure {
            lock.unlock()
            throw HTTPClientError.bodySourceFailed(String(describing: failure))
        }
        if pending.count == pendingOffset {
            let over = finished || closed
            if !over { readerPaused = true }
            lock.unlock()
            return over ? 0 : nil
        }
        let count = min(buffer.count, pending.count - pendingOffset)
        pending.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + pendingOffset, byteCount: count)
        }
        pendingOffset += count
        let waiter = spaceWaiter
        spaceWaiter = nil
        lock.unlock()
        waiter?.resume()
        return count
    }

    func rewind() -> Bool { false }

    func close() {
        let waiter: CheckedContinuation<Void, Never>? = lock.withLock {
            closed = true
            readable = {}
            defer { spaceWaiter = nil }
            return spaceWaiter
        }
        waiter?.resume()
        pump?.cancel()
    }
}
