import QuiesceCrypto

/// SHA-256 of a body or a file, as the lowercase hex the API's headers, reports and signatures
/// carry.
public enum ContentHash {
    public static func sha256(of bytes: some Collection<UInt8>) -> String {
        hex(Digest.sha256(bytes))
    }

    /// Bytes as lowercase hex, two digits each.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
