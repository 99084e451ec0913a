import Foundation

/// One member of a tar archive: where its content lies in the file, not the content.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file
        case directory
        case symbolicLink
        case hardLink
        case other(UInt8)
    }

    public let name: String
    public let kind: Kind
    /// Target of a symbolic or hard link; empty otherwise.
    public let linkName: String
    public let size: Int64
    /// Offset of the first content byte in the archive file.
    public let dataOffset: Int64
}

public enum TarError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(String)
    case compressed(String)
    case corruptHeader(offset: Int64, reason: String)
    case truncated(offset: Int64)

    public var description: String {
        switch self {
        case .cannotOpen(let path): "cannot open \(path)"
        case .compressed(let format): "archive is \(format)-compressed; a plain tar is expected"
        case .corruptHeader(let offset, let reason): "corrupt tar header at offset \(offset): \(reason)"
        case .truncated(let offset): "tar archive ends early at offset \(offset)"
        }
    }
}

/// Reads tar headers (POSIX ustar, GNU, pax) one after another, seeking over
/// the content so that even multi-gigabyte members cost one 512-byte read.
public final class TarReader {
    private static let blockSize: Int64 = 512
    private let file: FileHandle
    private let fileSize: Int64
    private var offset: Int64 = 0
    private var globalPax: [String: String] = [:]
    private var finished = false

    public init(path: String) throws {
        guard let file = FileHandle(forReadingAtPath: path) else { throw TarError.cannotOpen(path) }
        self.file = file
        self.fileSize = Int64((try? file.seekToEnd()) ?? 0)
        try file.seek(toOffset: 0)
        try Self.rejectCompressed([UInt8](try file.read(upToCount: 4) ?? Data()))
        try file.seek(toOffset: 0)
    }

    deinit { try? file.close() }

    /// Every entry of the archive at `path`, in archive order.
    public static func entries(at path: String) throws -> [TarEntry] {
        let reader = try TarReader(path: path)
        var entries: [TarEntry] = []
        while let entry = try reader.next() { entries.append(entry) }
        return entries
    }

    /// The next entry, or nil after the end-of-archive marker (or at the end of the file).
    public func next() throws -> TarEntry? {
        guard !finished else { return nil }
        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        while true {
            let headerOffset = offset
            guard let header = try readBlock() else {
                finished = true
                return nil
            }
            if header.allSatisfy({ $0 == 0 }) {
                finished = true
                return nil
            }
            try Self.verifyChecksum(header, at: headerOffset)
            let type = header[156]
            var size = try Self.number(header[124..<136], at: headerOffset)
            let dataOffset = offset
            switch type {
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                let text = Self.cString(try readContent(size: size, at: dataOffset))
                if type == UInt8(ascii: "L") { longName = text } else { longLink = text }
                continue
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let records = try Self.paxRecords(try readContent(size: size, at: dataOffset), at: headerOffset)
                if type == UInt8(ascii: "x") {
                    pax.merge(records) { _, new in new }
                } else {
                    globalPax.merge(records) { _, new in new }
                }
                continue
            default:
                break
            }
            let attributes = globalPax.merging(pax) { _, local in local }
            if let paxSize = attributes["size"].flatMap({ Int64($0) }) { size = paxSize }
            let name = attributes["path"] ?? longName ?? Self.headerName(header)
            let link = attributes["linkpath"] ?? longLink ?? Self.cString(header[157..<257])
            let kind: TarEntry.Kind =
                switch type {
                case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): .file
                case UInt8(ascii: "1"): .hardLink
                case UInt8(ascii: "2"): .symbolicLink
                case UInt8(ascii: "5"): .directory
                default: .other(type)
                }
            // Links and directories carry no content whatever their size field says.
            let contentSize: Int64 = (kind == .file || kind.isOther) ? size : 0
            try skip(contentSize, from: dataOffset)
            return TarEntry(name: name, kind: kind, linkName: link, size: contentSize, dataOffset: dataOffset)
        }
    }

    private func readBlock() throws -> [UInt8]? {
        guard offset < fileSize else { return nil }
        let data = try file.read(upToCount: Int(Self.blockSize)) ?? Data()
        if data.isEmpty { return nil }
        guard data.count == Int(Self.blockSize) else { throw TarError.truncated(offset: offset) }
        offset += Self.blockSize
        return [UInt8](data)
    }

    /// Reads a metadata member's content (long name, pax records) and moves past its padding.
    private func readContent(size: Int64, at dataOffset: Int64) throws -> [UInt8] {
        guard size >= 0, size <= 1 << 20 else {
            throw TarError.corruptHeader(
                offset: dataOffset - Self.blockSize, reason: "metadata member of \(size) bytes")
        }
        guard dataOffset + size <= fileSize else { throw TarError.truncated(offset: fileSize) }
        let bytes = [UInt8](try file.read(upToCount: Int(size)) ?? Data())
        guard bytes.count == Int(size) else { throw TarError.truncated(offset: dataOffset + Int64(bytes.count)) }
        try skip(size, from: dataOffset)
        return bytes
    }

    private func skip(_ size: Int64, from dataOffset: Int64) throws {
        let padded = (size + Self.blockSize - 1) / Self.blockSize * Self.blockSize
        guard dataOffset + size <= fileSize else { throw TarError.truncated(offset: fileSize) }
        offset = min(dataOffset + padded, fileSize)
        try file.seek(toOffset: UInt64(offset))
    }

    private static func rejectCompressed(_ magic: [UInt8]) throws {
        if magic.starts(with: [0x1f, 0x8b]) { throw TarError.compressed("gzip") }
        if magic.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { throw TarError.compressed("zstd") }
    }

    private static func verifyChecksum(_ header: [UInt8], at offset: Int64) throws {
        let stored = try number(header[148..<156], at: offset)
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (index, byte) in header.enumerated() {
            let value: UInt8 = (148..<156).contains(index) ? 0x20 : byte
            unsigned += Int64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        // Some historic writers summed signed chars; accept either.
        guard stored == unsigned || stored == signed else {
            throw TarError.corruptHeader(offset: offset, reason: "checksum mismatch")
        }
    }

    /// A numeric field: NUL/space-terminated octal, or GNU base-256 when the high bit is set.
    private static func number(_ field: ArraySlice<UInt8>, at offset: Int64) throws -> Int64 {
        guard let first = field.first else { return 0 }
        if first & 0x80 != 0 {
            var value = Int64(first & 0x3f)
            for byte in field.dropFirst() {
                guard value <= (Int64.max >> 8) else {
                    throw TarError.corruptHeader(offset: offset, reason: "base-256 number overflows")
                }
                value = value << 8 | Int64(byte)
            }
            return first & 0x40 != 0 ? -value : value
        }
        var value: Int64 = 0
        var seenDigit = false
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                value = value * 8 + Int64(byte - UInt8(ascii: "0"))
                seenDigit = true
            case UInt8(ascii: " ") where !seenDigit:
                continue
            case 0, UInt8(ascii: " "):
                return value
            default:
                throw TarError.corruptHeader(offset: offset, reason: "invalid octal field")
            }
        }
        return value
    }

    private static func headerName(_ header: [UInt8]) -> String {
        let name = cString(header[0..<100])
        // Only POSIX ustar ("ustar\0") has a prefix field; GNU ("ustar  ") uses those bytes otherwise.
        let isPOSIX = header[257..<263].elementsEqual(Array("ustar".utf8) + [0])
        let prefix = isPOSIX ? cString(header[345..<500]) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    private static func cString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// pax records: "<length> <key>=<value>\n", the length counting the whole record.
    private static func paxRecords(_ bytes: [UInt8], at offset: Int64) throws -> [String: String] {
        var records: [String: String] = [:]
        var index = 0
        while index < bytes.count {
            guard let space = bytes[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: bytes[index..<space], as: UTF8.self)),
                length > 0, index + length <= bytes.count
            else {
                if bytes[index...].allSatisfy({ $0 == 0 }) { break }
                throw TarError.corruptHeader(offset: offset, reason: "malformed pax record")
            }
            let record = bytes[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                let key = String(decoding: record[..<equals], as: UTF8.self)
                records[key] = String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            index += length
        }
        return records
    }
}

extension TarEntry.Kind {
    fileprivate var isOther: Bool {
        if case .other = self { return true }
        return false
    }
}
