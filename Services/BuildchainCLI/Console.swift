import Foundation

/// Unbuffered writes, so progress on stderr and results on stdout appear as they happen even
/// when piped.
enum Console {
    static func output(_ text: String) { write(text, to: .standardOutput) }

    static func error(_ text: String) { write(text, to: .standardError) }

    /// Bytes as the gateway sent them (`--output json`), ending with a newline.
    static func output(bytes: [UInt8]) {
        var bytes = bytes
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        FileHandle.standardOutput.write(Data(bytes))
    }

    private static func write(_ text: String, to handle: FileHandle) {
        handle.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
