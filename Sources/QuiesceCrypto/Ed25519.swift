internal import CNIOBoringSSL

/// Ed25519 (RFC 8032) signing keys: what signs pushed files and what agents trust.
public enum Ed25519 {
    /// A key whose raw form is its 32-byte seed, the form RFC 8032 and `quiesce sign` keep.
    public struct PrivateKey: Sendable {
        public let publicKey: PublicKey
        /// The seed followed by the public key: what BoringSSL signs with.
        private let expanded: [UInt8]

        public var seed: [UInt8] { Array(expanded.prefix(32)) }

        /// A new random key.
        public init() {
            var seed = [UInt8](repeating: 0, count: 32)
            // BoringSSL's RAND_bytes aborts rather than fail, and 32 bytes are a seed: neither can throw.
            RAND_bytes(&seed, seed.count)
            try! self.init(seed: seed)
        }

        public init(seed: [UInt8]) throws(UnusableKey) {
            guard seed.count == 32 else { throw UnusableKey("an Ed25519 seed is 32 bytes, not \(seed.count)") }
            var publicKey = [UInt8](repeating: 0, count: 32)
            var expanded = [UInt8](repeating: 0, count: 64)
            ED25519_keypair_from_seed(&publicKey, &expanded, seed)
            self.expanded = expanded
            self.publicKey = try PublicKey(raw: publicKey)
        }

        public func signature(for message: [UInt8]) -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: 64)
            // ED25519_sign fails only when it cannot allocate.
            guard ED25519_sign(&signature, message, message.count, expanded) == 1 else {
                fatalError("Ed25519 signing could not allocate")
            }
            return signature
        }
    }

    public struct PublicKey: Sendable, Equatable {
        public let raw: [UInt8]

        public init(raw: [UInt8]) throws(UnusableKey) {
            guard raw.count == 32 else { throw UnusableKey("an Ed25519 public key is 32 bytes, not \(raw.count)") }
            self.raw = raw
        }

        public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            signature.count == 64 && ED25519_verify(message, message.count, signature, raw) == 1
        }
    }
}
