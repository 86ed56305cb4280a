internal import CNIOBoringSSL

/// SHA-256 and HMAC-SHA-256, from the BoringSSL the agent already carries for TLS.
public enum Digest {
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        withContiguous(bytes) { input in
            [UInt8](unsafeUninitializedCapacity: Int(SHA256_DIGEST_LENGTH)) { output, count in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
                count = Int(SHA256_DIGEST_LENGTH)
            }
        }
    }

    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Int(EVP_MAX_MD_SIZE)) { output, count in
            var length: UInt32 = 0
            // HMAC fails only when it cannot allocate, and then nothing else would run either.
            guard HMAC(EVP_sha256(), key, key.count, message, message.count, output.baseAddress, &length) != nil else {
                fatalError("HMAC-SHA-256 could not allocate")
            }
            count = Int(length)
        }
    }

    private static func withContiguous<Result>(
        _ bytes: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        if let result = bytes.withContiguousStorageIfAvailable(body) { return result }
        return Array(bytes).withUnsafeBufferPointer(body)
    }
}
