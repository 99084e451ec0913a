import Foundation

/// The Kubernetes Job that runs one build with Kaniko's executor: the executor as an init
/// container writing the tarball into a shared `emptyDir`, then a small container that
/// uploads it where the driver will fetch it. The upload's bearer token comes from a
/// Secret through the container's environment, never from the manifest.
public struct KanikoJobManifest: Sendable {
    public struct Settings: Sendable {
        public var namespace: String
        public var kanikoImage: String
        public var uploaderImage: String
        public var ttlSecondsAfterFinished: Int
        public var serviceAccount: String?
        /// A Secret of type `kubernetes.io/dockerconfigjson` mounted as Kaniko's `config.json`.
        public var registryAuthSecret: String?
        /// The Secret (and its key) holding the token the uploader presents.
        public var uploadTokenSecret: String
        public var uploadTokenKey: String

        public init(
            namespace: String, kanikoImage: String = "gcr.io/kaniko-project/executor:v1.23.2",
            uploaderImage: String = "curlimages/curl:8.10.1", ttlSecondsAfterFinished: Int = 600,
            serviceAccount: String? = nil, registryAuthSecret: String? = nil,
            uploadTokenSecret: String = "buildchain-kaniko-upload", uploadTokenKey: String = "token"
        ) {
            self.namespace = namespace
            self.kanikoImage = kanikoImage
            self.uploaderImage = uploaderImage
            self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
            self.serviceAccount = serviceAccount
            self.registryAuthSecret = registryAuthSecret
            self.uploadTokenSecret = uploadTokenSecret
            self.uploadTokenKey = uploadTokenKey
        }
    }

    static let workspace = "/workspace"
    static let tarPath = "/workspace/image.tar"

    public let name: String
    public let settings: Settings
    public let executorArguments: [String]
    public let uploadURL: String
    public let labels: [String: String]
    public let activeDeadlineSeconds: Int?

    public init(
        name: String, settings: Settings, executorArguments: [String], uploadURL: String, labels: [String: String],
        activeDeadlineSeconds: Int?
    ) {
        self.name = name
        self.settings = settings
        self.executorArguments = executorArguments
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
        let uploader: [String: Any] = [
            "name": "upload",
            "image": settings.uploaderImage,
            "command": [
                "curl", "--fail", "--silent", "--show-error", "--retry", "3", "--upload-file", Self.tarPath,
                "--header", "Authorization: Bearer $(UPLOAD_TOKEN)", "--header", "Content-Type: application/x-tar",
                uploadURL,
            ],
            "env": [
                [
                    "name": "UPLOAD_TOKEN",
                    "valueFrom": ["secretKeyRef": ["name": settings.uploadTokenSecret, "key": settings.uploadTokenKey]],
                ]
            ],
            "volumeMounts": [workspaceMount],
            "securityContext": ["runAsNonRoot": true, "runAsUser": 10001, "allowPrivilegeEscalation": false],
        ]
        // The pod is a build's sandbox: no API token in it (the service account, if named, is only
        // for image pulls), no Service environment variables, no host paths, and only the uploader
        // sees the upload token.
        var pod: [String: Any] = [
            "restartPolicy": "Never",
            "automountServiceAccountToken": false,
            "enableServiceLinks": false,
            "initContainers": [
                ["name": "kaniko", "image": settings.kanikoImage, "args": executorArguments, "volumeMounts": kanikoMounts]
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

    /// The JSON text, keys sorted (stable, for golden tests and the API server alike).
    public var json: Data {
        // The object holds only JSON types, so serialising cannot fail.
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }
}
