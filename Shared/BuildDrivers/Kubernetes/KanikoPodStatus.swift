/// What the driver reads from a build pod's status: how each container ended, and a container
/// that will not start without someone's help.
struct KanikoPodStatus {
    /// Waiting reasons that do not clear by themselves.
    static let stuckReasons: Set<String> = [
        "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError",
        "CreateContainerError",
    ]

    private let statuses: [[String: Any]]

    init(_ pod: [String: Any]) {
        let status = pod["status"] as? [String: Any] ?? [:]
        statuses =
            (status["initContainerStatuses"] as? [[String: Any]] ?? []) + (status["containerStatuses"] as? [[String: Any]] ?? [])
    }

    /// The exit status of the container `name` once it has terminated.
    func exitStatus(of name: String) -> Int32? {
        let container = statuses.first { $0["name"] as? String == name }
        let terminated = (container?["state"] as? [String: Any])?["terminated"] as? [String: Any]
        return (terminated?["exitCode"] as? Int).map(Int32.init)
    }

    /// `container "upload" (curlimages/curl:9): ImagePullBackOff: Back-off pulling image …` for the
    /// first container stuck waiting, else nil.
    var stuckContainer: String? {
        for container in statuses {
            guard let waiting = (container["state"] as? [String: Any])?["waiting"] as? [String: Any],
                let reason = waiting["reason"] as? String, Self.stuckReasons.contains(reason)
            else { continue }
            let name = container["name"] as? String ?? "?"
            let image = container["image"] as? String ?? "?"
            let message = (waiting["message"] as? String).map { ": \($0)" } ?? ""
            return "container \"\(name)\" (\(image)): \(reason)\(message)"
        }
        return nil
    }
}
