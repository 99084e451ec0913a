import Foundation
import PathBytes

/// Resolves paths inside a checkout, following symlinks, and refuses any that
/// lead outside it.
enum PathGuard {
    enum Kind { case directory, file }

    /// The real path of `base/relative`, which must exist, be of `kind`, and lie inside `root`.
    /// Errors name the path as `shown` (from the repository root), else as `relative`.
    static func resolve(
        _ relative: String, from base: String, inside root: String, kind: Kind, field: String, shown: String? = nil
    ) throws(CheckoutError) -> String {
        let shown = shown ?? (relative.isEmpty ? "." : relative)
        guard let realRoot = realPath(root) else { throw .storageFailed("the work tree is gone") }
        let candidate = relative.isEmpty || relative.bytesEqual(".") ? base : "\(base)/\(relative)"
        guard let real = realPath(candidate) else { throw .pathNotFound(field: field, path: shown) }
        guard real.bytesEqual(realRoot) || real.bytesStart(with: realRoot + "/") else {
            throw .pathOutsideRepository(field: field, path: shown)
        }
        var info = stat()
        guard stat(real, &info) == 0 else { throw .pathNotFound(field: field, path: shown) }
        let type = info.st_mode & S_IFMT
        switch kind {
        case .directory where type != S_IFDIR: throw .pathNotFound(field: field, path: shown)
        case .file where type != S_IFREG: throw .pathNotFound(field: field, path: shown)
        default: return real
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
