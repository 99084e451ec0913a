/// The platform a build targets, and the platform-dependent args BuildKit defines by itself
/// (`TARGETPLATFORM`, `TARGETOS`, `TARGETARCH`, `TARGETVARIANT` and the same for `BUILD…`).
/// They are visible to every `FROM` without a declaration, and inside a stage after `ARG NAME`.
public struct BuildPlatform: Sendable, Hashable, CustomStringConvertible {
    public let os: String
    public let architecture: String
    public let variant: String

    /// `linux/amd64`, the builders' platform and the default target.
    public static let linuxAMD64 = BuildPlatform(os: "linux", architecture: "amd64", variant: "")

    public init(os: String, architecture: String, variant: String = "") {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `os/arch[/variant]` (`linux/arm64/v8`); `nil` when it is not of that shape.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let isName = { (part: String) in
            !part.isEmpty && part.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        }
        guard (2...3).contains(parts.count), parts.allSatisfy(isName) else { return nil }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : "")
    }

    public var description: String { variant.isEmpty ? "\(os)/\(architecture)" : "\(os)/\(architecture)/\(variant)" }

    /// The automatic args for a build targeting `self` on a `build` platform.
    func automaticArgs(build: BuildPlatform = .linuxAMD64) -> [String: String] {
        [
            "TARGETPLATFORM": description, "TARGETOS": os, "TARGETARCH": architecture, "TARGETVARIANT": variant,
            "BUILDPLATFORM": build.description, "BUILDOS": build.os, "BUILDARCH": build.architecture,
            "BUILDVARIANT": build.variant,
        ]
    }
}

@inline(__always)
func isAlphanumeric(_ c: UInt8) -> Bool {
    ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
}
