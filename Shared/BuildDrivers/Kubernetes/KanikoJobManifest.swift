import Foundation

/// The Kubernetes Job that runs one build with Kaniko's executor, in one pod sharing an `emptyDir`
/// workspace: an init container (curl) downloads the context tarball and unpacks it into
/// `/workspace/context`, the executor (a second init container) builds from `dir:///workspace/context`
/// and writes the tarball into the workspace, then a small container uploads it where the driver
/// will fetch it. The bearer token (for the upload, and for the download when it comes from
/// artifact-service) comes from a Secret through those containers' environment, never from the
/// manifest; the executor never sees it.
public struct KanikoJobManifest: Sendable {
    public struct Settings: Sendable {
        public var namespace: String
        public var kanikoImage: String
        public var uploaderImage: String
        /// The image of the init container that downloads and unpacks the context: it needs `sh`,
        /// `curl`, `tar` and `gzip` (curlimages/curl has them).
        public var contextImage: String
        public var ttlSecondsAfterFinished: Int
        public var serviceAccount: String?
        /// A Secret of type `kubernetes.io/dockerconfigjson` mounted as Kaniko's `config.json`.
        public var registryAuthSecret: String?
        /// The Secret (and its key) holding the token the uploader presents.
        public var uploadTokenSecret: String
        public var uploadTokenKey: String

        public init(
            namespace: String, kanikoImage: String = "gcr.io/kaniko-project/executor:v1.23.2",
            uploaderImage: String = "curlimages/curl:8.10.1", contextImage: String = "curlimages/curl:8.10.1",
            ttlSecondsAfterFinished: Int = 600,
            serviceAccount: String? = nil, registryAuthSecret: String? = nil,
            uploadTokenSecret: String = "buildchain-kaniko-upload", uploadTokenKey: String = "token"
        ) {
            self.namespace = namespace
            self.kanikoImage = kanikoImage
            self.uploaderImage = uploaderImage
            self.contextImage = contextImage
            self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
            self.serviceAccount = serviceAccount
            self.registryAuthSecret = registryAuthSecret
            self.uploadTokenSecret = uploadTokenSecret
            self.uploadTokenKey = uploadTokenKey
        }
    }

    static let workspace = "/workspace"
    static let tarPath = "/workspace/image.tar"
    /// Where the init container unpacks the context; the executor's `--context=dir://…`.
    static let contextDirectory = "/workspace/context"
    /// Seconds a deleted pod's containers get before SIGKILL. The executor runs as PID 1 with no
    /// SIGTERM handler, so it would otherwise hold a cancelled build's pod for the default 30 s.
    static let terminationGracePeriodSeconds = 1

    public let name: String
    public let settings: Settings
    public let executorArguments: [String]
    public let context: KanikoContextSource
    public let uploadURL: String
    public let labels: [String: String]
    public let activeDeadlineSeconds: Int?

    public init(
        name: String, settings: Settings, executorArguments: [String], context: KanikoContextSource, uploadURL: String,
        labels: [String: String], activeDeadlineSeconds: Int?
    ) {
        self.name = name
        self.settings = settings
        self.executorArguments = executorArguments
        self.context = context
        self.uploadURL = uploadURL
        self.labels = labels
        self.activeDeadlineSeconds = activeDeadlineSeconds
    }

    /// The Job as the API server takes it.
    public var object: [String: Any] {
        let workspaceMount: [String: Any] = ["name": "workspace", "mountPath": Self.workspace]
        var kanikoMounts = [workspaceMount]
        var volumes: [[String: Any]] = [["name": "workspace", "emptyDir": [String: Any]()]]
        if let secret = settings.registryAuthSecret {
            kanikoMounts.append(["name": "registry-auth", "mountPath": "/kaniko/.docker", "readOnly": true])
            volumes.append([
                "name": "registry-auth",
                "secret": ["secretName": secret, "items": [["key": ".dockerconfigjson", "path": "config.json"]]],
            ])
        }
        let token: [String: Any] = [
            "name": "UPLOAD_TOKEN",
            "valueFrom": ["secretKeyRef": ["name": settings.uploadTokenSecret, "key": settings.uploadTokenKey]],
        ]
        let unprivileged: [String: Any] = ["runAsNonRoot": true, "runAsUser": 10001, "allowPrivilegeEscalation": false]
        var fetchEnvironment: [[String: Any]] = [["name": "CONTEXT_URL", "value": context.url]]
        if context.presentsToken { fetchEnvironment.append(token) }
        let fetcher: [String: Any] = [
            "name": "fetch-context",
            "image": settings.contextImage,
            "command": ["sh", "-c", Self.fetchScript(presentsToken: context.presentsToken)],
            "env": fetchEnvironment,
            "volumeMounts": [workspaceMount],
            "securityContext": unprivileged,
        ]
        let uploader: [String: Any] = [
            "name": "upload",
            "image": settings.uploaderImage,
            "command": [
                "curl", "--fail", "--silent", "--show-error", "--retry", "3", "--upload-file", Self.tarPath,
                "--header", "Authorization: Bearer $(UPLOAD_TOKEN)", "--header", "Content-Type: application/x-tar",
                uploadURL,
            ],
            "env": [token],
            "volumeMounts": [workspaceMount],
            "securityContext": unprivileged,
        ]
        // The pod is a build's sandbox: no API token in it (the service account, if named, is only
        // for image pulls), no Service environment variables, no host paths, and only the
        // containers that talk to artifact-service see its token.
        var pod: [String: Any] = [
            "restartPolicy": "Never",
            "automountServiceAccountToken": false,
            "enableServiceLinks": false,
            "terminationGracePeriodSeconds": Self.terminationGracePeriodSeconds,
            "initContainers": [
                fetcher,
                ["name": "kaniko", "image": settings.kanikoImage, "args": executorArguments, "volumeMounts": kanikoMounts],
            ],
            "containers": [uploader],
            "volumes": volumes,
        ]
        if let account = settings.serviceAccount { pod["serviceAccountName"] = account }
        var spec: [String: Any] = [
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": settings.ttlSecondsAfterFinished,
            "template": ["metadata": ["labels": labels], "spec": pod],
        ]
        if let deadline = activeDeadlineSeconds { spec["activeDeadlineSeconds"] = deadline }
        return [
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": ["name": name, "namespace": settings.namespace, "labels": labels],
            "spec": spec,
        ]
    }

    /// The init container's script: download `$CONTEXT_URL` (with the token when it comes from
    /// artifact-service), unpack it into the context folder, drop the archive. The URL and the
    /// token stay in the environment, out of the script's text.
    static func fetchScript(presentsToken: Bool) -> String {
        let authorization = presentsToken ? #" --header "Authorization: Bearer $UPLOAD_TOKEN""# : ""
        return """
            set -eu
            mkdir -p \(contextDirectory)
            curl --fail --silent --show-error --location --retry 3\(authorization) --output \(workspace)/context.tar.gz "$CONTEXT_URL"
            tar -xzf \(workspace)/context.tar.gz -C \(contextDirectory)
            rm -f \(workspace)/context.tar.gz
            echo "context unpacked: $(find \(contextDirectory) | wc -l) entries"
            """
    }

    /// The JSON text, keys sorted (stable, for golden tests and the API server alike).
    public var json: Data {
        // The object holds only JSON types, so serialising cannot fail.
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }
}
