internal import CNIOBoringSSL

/// A P-256 key pair as TLS takes it: the private key as PKCS #8 PEM (what NIOSSL loads, and what
/// earlier agents wrote), the public key as SubjectPublicKeyInfo DER (what a certificate names).
public struct P256KeyPair: Sendable {
    public let privateKeyPEM: String
    public let publicKeyDER: [UInt8]

    /// A new random key pair.
    public init() {
        guard let key = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1), EC_KEY_generate_key(key) == 1,
            let pair = EVP_PKEY_new()
        else { fatalError("P-256 key generation could not allocate") }
        defer { EVP_PKEY_free(pair) }
        EVP_PKEY_assign_EC_KEY(pair, key)
        self.init(pair)
    }

    /// Reads a PEM private key (PKCS #8 or SEC 1); anything but P-256 is refused.
    public init(privateKeyPEM text: String) throws(UnusableKey) {
        let bytes = Array(text.utf8)
        guard let input = BIO_new_mem_buf(bytes, bytes.count) else { fatalError("BIO could not allocate") }
        defer { BIO_free(input) }
        guard let pair = PEM_read_bio_PrivateKey(input, nil, nil, nil) else {
            ERR_clear_error()
            throw UnusableKey("not a PEM private key")
        }
        defer { EVP_PKEY_free(pair) }
        guard EVP_PKEY_id(pair) == EVP_PKEY_EC,
            EC_GROUP_get_curve_name(EC_KEY_get0_group(EVP_PKEY_get0_EC_KEY(pair))) == NID_X9_62_prime256v1
        else { throw UnusableKey("a private key, but not a P-256 one") }
        self.init(pair)
    }

    private init(_ pair: OpaquePointer) {
        guard let output = BIO_new(BIO_s_mem()) else { fatalError("BIO could not allocate") }
        defer { BIO_free(output) }
        var contents: UnsafePointer<UInt8>?
        var length = 0
        guard PEM_write_bio_PKCS8PrivateKey(output, pair, nil, nil, 0, nil, nil) == 1,
            BIO_mem_contents(output, &contents, &length) == 1, let contents
        else { fatalError("a P-256 key could not be written as PEM") }
        privateKeyPEM = String(decoding: UnsafeBufferPointer(start: contents, count: length), as: UTF8.self)
        var der: UnsafeMutablePointer<UInt8>?
        let count = i2d_PUBKEY(pair, &der)
        guard count > 0, let der else { fatalError("a P-256 public key could not be written as DER") }
        defer { OPENSSL_free(der) }
        publicKeyDER = Array(UnsafeBufferPointer(start: der, count: Int(count)))
    }
}
