import Daemon
import HostSystem
import NIOCore
import NIOHTTP1
import Testing

/// The router alone: version prefixes, moby's 400/404 answers, errors as `{"message"}`
/// with the status of their code.
@Suite struct RouterTests {
    func router() -> Router {
        var router = Router()
        router.add(.GET, "/images/{name*}/json") { _, parameters in
            APIResponse(body: ByteBuffer(string: parameters["name"] ?? ""))
        }
        router.add(.GET, "/things/{id}/json") { _, parameters in
            guard parameters["id"] == "a" else { throw SwiftletError("No such thing: \(parameters["id"] ?? "")", code: .notFound) }
            return APIResponse(body: ByteBuffer(string: "thing a"))
        }
        return router
    }

    func body(_ response: APIResponse) -> String { String(buffer: response.body) }

    @Test func versionPrefixIsOptionalAndQueriesAreParsed() async {
        let request = APIRequest(method: .GET, uri: "/v1.44/things/a/json?all=1&name=x%20y")
        #expect(request.version == "1.44" && request.path == "/things/a/json")
        #expect(request.flag("all") && request.query["name"] == "x y")
        for uri in ["/things/a/json", "/v1.41/things/a/json", "/v1.24/things/a/json"] {
            let response = await router().respond(to: APIRequest(method: .GET, uri: uri))
            #expect(response.status == .ok && body(response) == "thing a", "\(uri)")
        }
    }

    @Test func aGreedyParameterTakesAnImageNameWithSlashes() async {
        for name in ["busybox", "swiftlet-test/busybox", "127.0.0.1:5000/a/b:tag"] {
            let response = await router().respond(to: APIRequest(method: .GET, uri: "/v1.44/images/\(name)/json"))
            #expect(body(response) == name)
        }
        #expect(await router().respond(to: APIRequest(method: .GET, uri: "/images/json")).status == .notFound)
    }

    @Test func outOfRangeVersionsUnknownPathsAndErrorsAnswerAsMoby() async {
        let tooNew = await router().respond(to: APIRequest(method: .GET, uri: "/v1.99/things/a/json"))
        #expect(tooNew.status == .badRequest && body(tooNew).contains("client version 1.99 is too new. Maximum supported API version is 1.44"))
        let tooOld = await router().respond(to: APIRequest(method: .GET, uri: "/v1.11/things/a/json"))
        #expect(tooOld.status == .badRequest && body(tooOld).contains("is too old"))
        let unknown = await router().respond(to: APIRequest(method: .GET, uri: "/v1.44/nothing"))
        #expect(unknown.status == .notFound && body(unknown) == #"{"message":"page not found"}"#)
        let missing = await router().respond(to: APIRequest(method: .GET, uri: "/things/b/json"))
        #expect(missing.status == .notFound && body(missing) == #"{"message":"No such thing: b"}"#)
        let wrongMethod = await router().respond(to: APIRequest(method: .DELETE, uri: "/things/a/json"))
        #expect(wrongMethod.status == .badRequest)
        let head = await router().respond(to: APIRequest(method: .HEAD, uri: "/things/a/json"))
        #expect(head.status == .ok, "HEAD is answered by the GET route (the server drops the body)")
    }

    @Test func listenAddressesFollowDockerdAndRefusePlainRemoteTCP() throws {
        #expect(try ListenAddress(parsing: "unix:///run/x.sock") == .unix("/run/x.sock"))
        #expect(try ListenAddress(parsing: "tcp://127.0.0.1:2375") == .tcp(host: "127.0.0.1", port: 2375))
        #expect(try ListenAddress(parsing: "tcp://[::1]:2375").isLoopback)
        #expect(try ListenAddress(parsing: "fd://") == .systemd(descriptor: nil))
        #expect(try ListenAddress(parsing: "fd://4") == .systemd(descriptor: 4))
        #expect(throws: SwiftletError.self) { try ListenAddress(parsing: "fd://2") }
        #expect(throws: SwiftletError.self) { try ListenAddress(parsing: "tcp://127.0.0.1:99999") }
        #expect(throws: SwiftletError.self) { try ListenAddress(parsing: "unix://relative.sock") }
        let remote = try ListenAddress(parsing: "tcp://0.0.0.0:2375")
        #expect(!remote.isLoopback)
        #expect(throws: SwiftletError.self) { try TransportSecurity.plain.permit(remote) }
        try TransportSecurity.plain.permit(.tcp(host: "127.0.0.1", port: 2375))
        try TransportSecurity.plain.permit(.unix("/run/x.sock"))
    }

    /// sd_listen_fds(3): descriptors from 3 for the process LISTEN_PID names, else an error.
    @Test func socketActivationTakesOnlyThisProcesssDescriptors() throws {
        #expect(try SocketActivation.passedDescriptors(environment: ["LISTEN_PID": "42", "LISTEN_FDS": "2"], pid: 42) == [3, 4])
        #expect {
            try SocketActivation.passedDescriptors(environment: ["LISTEN_PID": "41", "LISTEN_FDS": "1"], pid: 42)
        } throws: { error in
            "\(error)" == "-H fd://: the sockets passed are for process 41 (LISTEN_PID), not this one (42)"
        }
        #expect(throws: SwiftletError.self) { try SocketActivation.passedDescriptors(environment: [:], pid: 42) }
        #expect(throws: SwiftletError.self) {
            try SocketActivation.passedDescriptors(environment: ["LISTEN_PID": "42", "LISTEN_FDS": "0"], pid: 42)
        }
    }
}
