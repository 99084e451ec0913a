import Foundation

/// A small real image (busybox plus 8 MiB of random bytes, two layers) built
/// offline with buildah, in the three docker-archive layouts the module reads:
/// - `buildah`: what `buildah push docker-archive:` writes (config `<hex>.json`, layers `<hex>.tar`);
/// - `kaniko`: what Kaniko's `--tar-path` writes (config `sha256:<hex>`, gzip layers `<hex>.tar.gz`);
/// - `legacy`: old `docker save` (`<dir>/layer.tar`, one regular file, one symlink to a sibling).
/// Expected digests and sizes are computed by Python's hashlib, not by the module.
struct ImageFixture: Sendable {
    enum Layout: String, CaseIterable, Sendable, CustomStringConvertible {
        case buildah, kaniko, legacy
        var description: String { rawValue }
    }

    struct Expected: Decodable, Sendable {
        struct Layer: Decodable, Sendable {
            let digest: String
            let size: Int64
            let compression: String
        }
        let config: String
        let layers: [Layer]
        let repoTags: [String]
    }

    let directory: String
    private let expected: [String: Expected]

    func path(_ layout: Layout) -> String { "\(directory)/\(layout).tar" }
    func expected(_ layout: Layout) -> Expected { expected[layout.rawValue]! }

    /// Builds the image into `directory` (which the caller removes).
    static func make(in directory: String) async throws -> ImageFixture {
        try await Shell.run(["bash", "-c", buildScript, "build-fixture", directory])
        try await Shell.run(["python3", "-c", layoutsScript, "\(directory)/buildah.tar", directory])
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/expected.json"))
        return ImageFixture(
            directory: directory, expected: try JSONDecoder().decode([String: Expected].self, from: data))
    }

    private static let buildScript = #"""
        set -euo pipefail
        dir=$1
        b=(buildah --storage-driver vfs --root "$dir/root" --runroot "$dir/runroot")
        head -c 8388608 /dev/urandom >"$dir/payload.bin"
        base=$("${b[@]}" from scratch)
        "${b[@]}" copy -q "$base" /bin/busybox /bin/busybox
        "${b[@]}" commit -q "$base" fixture-base >/dev/null
        app=$("${b[@]}" from -q localhost/fixture-base)
        "${b[@]}" copy -q "$app" "$dir/payload.bin" /data/payload.bin
        "${b[@]}" config --cmd '["/bin/busybox","sh"]' "$app"
        "${b[@]}" commit -q "$app" fixture-app >/dev/null
        "${b[@]}" push -q localhost/fixture-app "docker-archive:$dir/buildah.tar:fixture/app:v1"
        rm -rf "$dir/root" "$dir/runroot" "$dir/payload.bin"
        """#

    private static let layoutsScript = #"""
        import gzip, hashlib, io, json, sys, tarfile

        source, out = sys.argv[1:3]
        with tarfile.open(source) as archive:
            manifest = json.load(archive.extractfile("manifest.json"))[0]
            config = archive.extractfile(manifest["Config"]).read()
            layers = [archive.extractfile(name).read() for name in manifest["Layers"]]
        tags = manifest.get("RepoTags") or []

        def digest(data):
            return "sha256:" + hashlib.sha256(data).hexdigest()

        def add(archive, name, data=b"", kind=tarfile.REGTYPE, link=""):
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime = kind, link, 0
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o444
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        def expected(blobs, compression):
            return {"config": digest(config), "repoTags": tags,
                    "layers": [{"digest": digest(b), "size": len(b), "compression": compression} for b in blobs]}

        result = {"buildah": expected(layers, "none")}

        # Kaniko: gzip layers named by their (compressed) digest; the config keeps the uncompressed diff_ids.
        gzipped = [gzip.compress(layer, compresslevel=1, mtime=0) for layer in layers]
        config_name = digest(config)
        names = [hashlib.sha256(g).hexdigest() + ".tar.gz" for g in gzipped]
        with tarfile.open(out + "/kaniko.tar", "w", format=tarfile.GNU_FORMAT) as archive:
            add(archive, config_name, config)
            for name, data in zip(names, gzipped):
                add(archive, name, data)
            add(archive, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": tags, "Layers": names}]).encode())
        result["kaniko"] = expected(gzipped, "gzip")

        # docker save before 25: manifest first here, long directory names (ustar prefix field),
        # the first layer a regular <dir>/layer.tar, the second a symlink to a sibling file.
        dirs = ["legacy-layer-%d-" % i + "0" * 100 for i in range(len(layers))]
        with tarfile.open(out + "/legacy.tar", "w", format=tarfile.USTAR_FORMAT) as archive:
            add(archive, "manifest.json", json.dumps(
                [{"Config": config_name[7:] + ".json", "RepoTags": tags, "Layers": [d + "/layer.tar" for d in dirs]}]).encode())
            add(archive, config_name[7:] + ".json", config)
            for index, (name, data) in enumerate(zip(dirs, layers)):
                add(archive, name, kind=tarfile.DIRTYPE)
                add(archive, name + "/VERSION", b"1.0")
                if index == 0:
                    add(archive, name + "/layer.tar", data)
                else:
                    sibling = hashlib.sha256(data).hexdigest() + ".tar"
                    add(archive, sibling, data)
                    add(archive, name + "/layer.tar", kind=tarfile.SYMTYPE, link="../" + sibling)
            add(archive, "repositories", b"{}")
        result["legacy"] = expected(layers, "none")

        with open(out + "/expected.json", "w") as f:
            json.dump(result, f)
        """#
}
