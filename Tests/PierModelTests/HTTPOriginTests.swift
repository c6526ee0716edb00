import PierHTTP
import Testing

/// Origins by parsed scheme, host and port (RFC 6454), and error causes without source paths.
struct HTTPOriginTests {
    @Test func onlyHTTPAndHTTPSHaveAnOrigin() {
        for url in [
            "http+unix://%2Fvar%2Frun%2Fdocker.sock/token", "file:///etc/passwd", "unix:///x", "ftp://a/b", "/v2/x",
            "//evil/x", "http:///x", "https://a:70000/", "https://a:0/",
        ] {
            #expect(HTTPOrigin(url) == nil, "\(url)")
        }
        #expect(HTTPOrigin("HTTPS://Registry.Example.COM/v2/")?.description == "https://registry.example.com:443")
        #expect(HTTPOrigin("http://[::1]:5000/v2/")?.authority == "[::1]:5000")
        #expect(HTTPOrigin("http://[::1]:5000/v2/")?.host == "::1")
    }

    @Test func defaultPortsAreOneOrigin() {
        #expect(HTTPOrigin("https://a.io/x") == HTTPOrigin("https://a.io:443/y?z"))
        #expect(HTTPOrigin("http://a.io/x") == HTTPOrigin("http://a.io:80/"))
        #expect(HTTPOrigin("https://a.io/x") != HTTPOrigin("http://a.io/x"))
        #expect(HTTPOrigin("https://a.io/x") != HTTPOrigin("https://a.io:8443/x"))
        #expect(HTTPOrigin("https://a.io/x")?.isHTTPS == true && HTTPOrigin("http://a.io/x")?.isHTTPS == false)
    }

    /// A port is a number from 1 to 65535 as written; anything else is refused with the reason, never a crash.
    @Test func portsAreRangeChecked() {
        for (url, port) in [
            ("https://a:65536/", "65536"), ("http://a:99999/token", "99999"), ("https://a:0/", "0"),
            ("https://a:-1/", "-1"),
            ("https://a:abc/", "abc"), ("https://a:80a/", "80a"), ("https://a:1e3/", "1e3"),
            ("https://u:p@a:1 /", "1 "),
            ("http://[::1]:70000/", "70000"), ("https://a:0000080/", "0000080"),
            ("https://a:99999999999999999999999999999/", "999999999999999999999999"),
        ] {
            #expect(HTTPOrigin.parse(url) == .failure(.port(port)), "\(url)")
        }
        #expect(HTTPOrigin("https://a:65535/")?.port == 65535)
        #expect(HTTPOrigin("https://a:/x")?.port == 443)
        #expect(HTTPOrigin("http://[::1]:5000/")?.port == 5000)
        #expect(HTTPOrigin("https://user:pa:ss@a.io:8443/")?.port == 8443)
        #expect(HTTPOrigin.parse("http+unix://%2Fsock/x") == .failure(.scheme("http+unix")))
        #expect(HTTPOrigin.parse("/v2/x") == .failure(.scheme("none")))
        #expect(HTTPOrigin.parse("http:///x") == .failure(.host))
        #expect("\(HTTPOrigin.Refusal.port("99999"))".contains("port 99999"))
    }

    @Test func causesCarryNoSourcePaths() {
        let boringSSL =
            "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at /work/x/.build/checkouts/swift-nio-ssl/Sources/CNIOBoringSSL/ssl/tls_record.cc:231]))"
        let cause = ErrorCause.short(boringSSL)
        #expect(
            cause.contains("WRONG_VERSION_NUMBER") && !cause.contains("tls_record.cc") && !cause.contains("/work/"),
            "\(cause)")
        let swift = ErrorCause.short("Fatal error at /home/ci/pier/Sources/PierRegistry/RegistryClient.swift:120\nnext")
        #expect(!swift.contains(".swift") && !swift.contains("\n"), "\(swift)")
    }
}
