import ChildProcess
import Daemon
import Foundation
import HostSystem
import Testing

/// swiftletd over TCP with TLS and client certificates (dockerd's `--tlsverify`): the stock
/// docker client with a certificate the test CA signed gets through, including the
/// hijacked streams of `docker run` (attach) and `docker exec`; one without a
/// certificate, or speaking plain HTTP, does not; remote plain TCP and bad certificate
/// files are refused at start-up.
@Suite(.serialized) struct DaemonTLSTests {
    /// A CA, a server certificate for IP 127.0.0.1 and a client certificate, made with
    /// the openssl CLI in a temporary directory.
    final class Certificates {
        let directory = NSTemporaryDirectory() + "swiftletd-tls-\(UUID().uuidString.prefix(8))"
        var ca: String { "\(directory)/ca.pem" }
        var serverCertificate: String { "\(directory)/server-cert.pem" }
        var serverKey: String { "\(directory)/server-key.pem" }
        var clientCertificate: String { "\(directory)/client-cert.pem" }
        var clientKey: String { "\(directory)/client-key.pem" }

        init() throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            try openssl(["req", "-x509"] + key + ["-keyout", "\(directory)/ca-key.pem", "-out", ca, "-days", "1",
                                                  "-subj", "/CN=swiftlet test CA"])
            try sign("server", subject: "/CN=127.0.0.1", extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
            try sign("client", subject: "/CN=swiftlet test client", extensions: "extendedKeyUsage=clientAuth\n")
        }

        private func sign(_ name: String, subject: String, extensions: String) throws {
            let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            try openssl(["req"] + key + ["-keyout", "\(directory)/\(name)-key.pem", "-out", "\(directory)/\(name).csr", "-subj", subject])
            try extensions.write(toFile: "\(directory)/\(name).ext", atomically: true, encoding: .utf8)
            try openssl(["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", ca, "-CAkey", "\(directory)/ca-key.pem",
                         "-CAcreateserial", "-days", "1", "-extfile", "\(directory)/\(name).ext", "-out", "\(directory)/\(name)-cert.pem"])
        }

        private func openssl(_ arguments: [String]) throws {
            let result = try ChildProcess.run(["openssl"] + arguments, timeout: 60)
            guard result.status == 0 else { throw SwiftletError("openssl \(arguments[0]) failed: \(result.stderr)") }
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    static let swiftletd = DockerClientTests.products.appendingPathComponent("swiftletd").path

    /// swiftletd started with `arguments`, run to its end: it must refuse to start.
    func refusal(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run([Self.swiftletd, "--root", NSTemporaryDirectory() + "swiftletd-tls-refused"] + arguments, timeout: 60)
    }

    @Test func dockerClientWithACertificateRunsAContainerOverTLS() throws {
        guard ChildProcess.locate("docker") != nil, ChildProcess.locate("openssl") != nil else {
            print("dockerClientWithACertificateRunsAContainerOverTLS: skipped, the docker client or openssl is not installed")
            return
        }
        let certificates = try Certificates()
        let port = Int.random(in: 20000...40000)
        let address = "tcp://127.0.0.1:\(port)"
        let daemon = try DockerClientTests.Daemon(listen: [
            "-H", address, "--tlsverify", "--tlscacert", certificates.ca, "--tlscert", certificates.serverCertificate,
            "--tlskey", certificates.serverKey,
        ])
        #expect(daemon.process.output(2).contains("API listening on \(address) (TLS, client certificates verified)"))
        let client = ["docker", "--tlsverify", "--tlscacert", certificates.ca, "--tlscert", certificates.clientCertificate,
                      "--tlskey", certificates.clientKey, "-H", address]
        let version = try ChildProcess.run(client + ["version"], timeout: 60)
        #expect(version.status == 0 && version.stdout.contains("Server: Swiftlet"), "\(version.stdout) \(version.stderr)")
        let run = try ChildProcess.run(client + ["run", "--rm", "--isolation", "namespace", "swiftlet-test/busybox", "echo", "hi"],
                                       timeout: 120)
        #expect(run.status == 0 && run.stdout == "hi\n", "\(run.stdout) \(run.stderr)")
        // exec's start is hijacked too.
        #expect(try ChildProcess.run(client + ["run", "-d", "--name", "dc-running", "--isolation", "namespace", "swiftlet-test/busybox",
                                               "sleep", "60"], timeout: 120).status == 0)
        let exec = try ChildProcess.run(client + ["exec", "dc-running", "sh", "-c", "echo out; echo err >&2"], timeout: 60)
        #expect(exec.status == 0 && exec.stdout == "out\n" && exec.stderr == "err\n", "\(exec.stdout) \(exec.stderr)")
        #expect(try ChildProcess.run(client + ["rm", "-f", "dc-running"], timeout: 60).status == 0)

        // The CA alone (TLS, but no client certificate): the handshake is refused.
        let anonymous = try ChildProcess.run(["docker", "--tls", "--tlscacert", certificates.ca, "-H", address, "version"], timeout: 60)
        #expect(anonymous.status != 0 && !anonymous.stdout.contains("Server: Swiftlet") && anonymous.stderr.contains("tls"),
                "\(anonymous.stdout) \(anonymous.stderr)")
        // Plain HTTP to the TLS port gets no answer.
        let plain = try ChildProcess.run(["docker", "-H", address, "version"], timeout: 60)
        #expect(plain.status != 0 && !plain.stdout.contains("Server: Swiftlet"), "\(plain.stdout) \(plain.stderr)")
        if ChildProcess.locate("curl") != nil {
            let curl = try ChildProcess.run(["curl", "-sS", "--max-time", "20", "http://127.0.0.1:\(port)/_ping"], timeout: 60)
            #expect(curl.status == 52 && curl.stdout.isEmpty, "empty reply: \(curl.stdout) \(curl.stderr)")
        }
        // The daemon is still serving clients that present a certificate.
        #expect(try ChildProcess.run(client + ["version"], timeout: 60).status == 0)
    }

    @Test func remotePlainTCPAndTLSWithoutClientCertificatesAreRefused() throws {
        guard ChildProcess.locate("openssl") != nil else {
            print("remotePlainTCPAndTLSWithoutClientCertificatesAreRefused: skipped, openssl is not installed")
            return
        }
        let certificates = try Certificates()
        let plain = try refusal(["-H", "tcp://0.0.0.0:2375"])
        #expect(plain.status == 125 && plain.stderr.contains("refusing -H tcp://0.0.0.0:2375: plain TCP on a non-loopback address"),
                "\(plain.stderr)")
        let serverOnly = try refusal(["-H", "tcp://0.0.0.0:2376", "--tls", "--tlscert", certificates.serverCertificate,
                                      "--tlskey", certificates.serverKey])
        #expect(serverOnly.status == 125 && serverOnly.stderr.contains("TLS without client certificates on a non-loopback address"),
                "\(serverOnly.stderr)")
        let noCA = try refusal(["-H", "tcp://0.0.0.0:2376", "--tlsverify", "--tlscert", certificates.serverCertificate,
                                "--tlskey", certificates.serverKey])
        #expect(noCA.status == 125 && noCA.stderr.contains("--tlsverify needs the CA that signs client certificates"), "\(noCA.stderr)")
        // With client certificates required, any address may be served.
        let verified = try TransportSecurity(tls: false, verify: true, caFile: certificates.ca,
                                             certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey)
        #expect(verified.mode == .clientCertificates)
        try verified.permit(.tcp(host: "0.0.0.0", port: 2376))
    }

    @Test func missingOrMalformedCertificateFilesAreClearErrors() throws {
        guard ChildProcess.locate("openssl") != nil else {
            print("missingOrMalformedCertificateFilesAreClearErrors: skipped, openssl is not installed")
            return
        }
        let certificates = try Certificates()
        let tls = ["-H", "tcp://127.0.0.1:2376", "--tlsverify", "--tlscacert", certificates.ca]
        let missing = try refusal(tls + ["--tlscert", "\(certificates.directory)/nothing.pem", "--tlskey", certificates.serverKey])
        #expect(missing.status == 125
                && missing.stderr == "swiftletd: --tlscert \(certificates.directory)/nothing.pem: cannot read it: No such file or directory\n",
                "\(missing.stderr)")
        let directory = try refusal(tls + ["--tlscert", certificates.directory, "--tlskey", certificates.serverKey])
        #expect(directory.status == 125 && directory.stderr.hasPrefix("swiftletd: --tlscert \(certificates.directory): cannot read it"),
                "\(directory.stderr)")
        let notPEM = "\(certificates.directory)/server.ext"
        let garbage = try refusal(tls + ["--tlscert", certificates.serverCertificate, "--tlskey", notPEM])
        #expect(garbage.status == 125 && garbage.stderr.hasPrefix("swiftletd: --tlskey \(notPEM): not a PEM private key"),
                "\(garbage.stderr)")
        let mismatched = try refusal(tls + ["--tlscert", certificates.serverCertificate, "--tlskey", certificates.clientKey])
        #expect(mismatched.status == 125 && mismatched.stderr.contains("cannot use --tlscert"), "\(mismatched.stderr)")
        let keyless = try refusal(tls + ["--tlscert", certificates.serverCertificate])
        #expect(keyless.status == 125 && keyless.stderr.contains("--tlscert FILE --tlskey FILE"), "\(keyless.stderr)")
    }
}
