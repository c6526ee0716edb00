import Testing

@testable import PierRegistry

/// Origins by parsed scheme, host and port (RFC 6454), and error causes without source paths.
struct HTTPOriginTests {
    @Test func onlyHTTPAndHTTPSHaveAnOrigin() {
        for url in ["http+unix://%2Fvar%2Frun%2Fdocker.sock/token", "file:///etc/passwd", "unix:///x", "ftp://a/b", "/v2/x", "//evil/x", "http:///x", "https://a:70000/", "https://a:0/"] {
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

    @Test func causesCarryNoSourcePaths() {
        let boringSSL = "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at /work/x/.build/checkouts/swift-nio-ssl/Sources/CNIOBoringSSL/ssl/tls_record.cc:231]))"
        let cause = RegistryClient.shortCause(boringSSL)
        #expect(cause.contains("WRONG_VERSION_NUMBER") && !cause.contains("tls_record.cc") && !cause.contains("/work/"), "\(cause)")
        let swift = RegistryClient.shortCause("Fatal error at /home/ci/pier/Sources/PierRegistry/RegistryClient.swift:120\nnext")
        #expect(!swift.contains(".swift") && !swift.contains("\n"), "\(swift)")
    }
}
