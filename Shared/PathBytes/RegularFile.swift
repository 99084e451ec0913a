import Foundation

/// The size of a regular file found by descriptor, never through a symbolic link; nil for
/// anything else (absent, a link, a folder).
public enum RegularFile {
    /// `name` in the folder open as `folder`.
    public static func size(in folder: Int32, named name: String) -> Int64? {
        var status = stat()
        guard fstatat(folder, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return size(status)
    }

    /// The file open as `descriptor`.
    public static func size(of descriptor: Int32) -> Int64? {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        return size(status)
    }

    private static func size(_ status: stat) -> Int64? {
        status.st_mode & S_IFMT == S_IFREG ? Int64(status.st_size) : nil
    }
}
