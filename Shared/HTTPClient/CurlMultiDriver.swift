import CCurl
import Foundation
import Synchronization

/// The one thread of a client that drives its libcurl multi handle, after curl's
/// docs/examples/multi-poll.c: it adds queued transfers, unpauses and aborts them on request,
/// runs `curl_multi_perform` and `curl_multi_poll`, and ends each finished transfer with the
/// result `curl_multi_info_read` gives. Any number of transfers share this one thread, and every
/// libcurl call on a queued transfer's easy handle (callbacks, `curl_easy_pause`) happens on it.
///
/// Other threads talk to it only through `post`, which queues a command and wakes the poll with
/// `curl_multi_wakeup`. The thread ends once `stop()` was called and no transfer is left.
final class CurlMultiDriver: Sendable {
    private enum Command {
        case add(CurlTransfer)
        /// Unpause: the reader made room, or the request body has bytes again.
        case resume(CurlTransfer)
        case abort(CurlTransfer)
    }

    private struct Inbox {
        var commands: [Command] = []
        var stopping = false
        /// The thread has cleaned the multi handle up: nothing may touch it any more.
        var finished = false
    }

    private let multi: Multi
    private let inbox = Mutex(Inbox())

    init(maxIdleConnections: Int) {
        EasyHandle.initializeLibrary()
        guard let raw = curl_multi_init() else { fatalError("curl_multi_init failed") }
        multi = Multi(raw: raw)
        _ = bc_curl_multi_set_long(raw, CURLMOPT_MAXCONNECTS, max(1, maxIdleConnections))
        let thread = Thread { [self] in run() }
        thread.name = "curl-multi"
        thread.start()
    }

    func add(_ transfer: CurlTransfer) { post(.add(transfer)) }
    func resume(_ transfer: CurlTransfer) { post(.resume(transfer)) }
    func abort(_ transfer: CurlTransfer) { post(.abort(transfer)) }

    /// Lets the thread end once its transfers have.
    func stop() {
        inbox.withLock { inbox in
            inbox.stopping = true
            if !inbox.finished { _ = curl_multi_wakeup(multi.raw) }
        }
    }

    private func post(_ command: Command) {
        let accepted = inbox.withLock { inbox in
            guard !inbox.finished else { return false }
            inbox.commands.append(command)
            _ = curl_multi_wakeup(multi.raw)
            return true
        }
        if !accepted, case .add(let transfer) = command { transfer.complete(CURLE_FAILED_INIT) }
    }

    private func run() {
        // Transfers in the multi handle, by easy handle; only this thread touches it.
        var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
        let raw = multi.raw
        while true {
            let commands: [Command]? = inbox.withLock { inbox in
                if inbox.commands.isEmpty && inbox.stopping && active.isEmpty {
                    inbox.finished = true
                    return nil
                }
                defer { inbox.commands = [] }
                return inbox.commands
            }
            guard let commands else { break }
            for command in commands {
                switch command {
                case .add(let transfer):
                    if transfer.isCancelled {
                        transfer.complete(CURLE_ABORTED_BY_CALLBACK)
                    } else if curl_multi_add_handle(raw, transfer.easy) == CURLM_OK {
                        active[transfer.easy] = transfer
                    } else {
                        transfer.complete(CURLE_FAILED_INIT)
                    }
                case .resume(let transfer):
                    if active[transfer.easy] === transfer {
                        _ = curl_easy_pause(transfer.easy, bc_curl_pause_continue)
                    }
                case .abort(let transfer):
                    if active[transfer.easy] === transfer {
                        active[transfer.easy] = nil
                        _ = curl_multi_remove_handle(raw, transfer.easy)
                        transfer.complete(CURLE_ABORTED_BY_CALLBACK)
                    }
                }
            }
            var running: Int32 = 0
            _ = curl_multi_perform(raw, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(raw, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                    let transfer = active.removeValue(forKey: easy)
                else { continue }
                // The message does not outlive curl_multi_remove_handle.
                let result = bc_curl_msg_result(message)
                _ = curl_multi_remove_handle(raw, easy)
                transfer.complete(result)
            }
            _ = curl_multi_poll(raw, nil, 0, 1000, nil)
        }
        curl_multi_cleanup(raw)
    }
}

/// The multi handle's pointer, shared by the driver thread (which owns it) and the posters
/// (which only call `curl_multi_wakeup`, the one multi call libcurl allows from any thread).
private struct Multi: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}
