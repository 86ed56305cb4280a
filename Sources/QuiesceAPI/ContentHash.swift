import QuiesceCrypto

/// SHA-256 of a body or a file, as the lowercase hex the API's headers, reports and signatures
/// carry.
public enum ContentHash {
    public static func sha256(of bytes: some Collection<UInt8>) -> String {
        hex(Digest.sha256(bytes))
    }

    /// Bytes as lowercase hex, two digits each. Written into one buffer: every compliance answer
    /// and every pushed file hashes, and a string per byte was most of the hashing's time.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { output in
            for (index, byte) in bytes.enumerated() {
                output[2 * index] = digits[Int(byte >> 4)]
                output[2 * index + 1] = digits[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }
}
