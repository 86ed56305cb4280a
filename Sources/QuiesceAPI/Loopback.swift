/// Which hosts are this machine's own: where a token may go without TLS.
public enum Loopback {
    /// True for `localhost`, `::1` and a dotted IPv4 address in 127.0.0.0/8, written out in
    /// full: `127.evil.example` is a host name, not a loopback address.
    public static func contains(host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }
}
