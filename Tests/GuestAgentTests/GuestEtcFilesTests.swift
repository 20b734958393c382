import AgentProtocol
import Foundation
@testable import GuestAgent
import Testing

/// The /etc files the agent writes into a microVM container's root: hosts and hostname
/// always, resolv.conf when the host sent one with the interface.
@Suite struct GuestEtcFilesTests {
    @Test func resolvConfIsWrittenOnlyWhenTheHostSentOne() throws {
        let root = NSTemporaryDirectory() + "guest-etc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: "\(root)/etc", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "nameserver 192.0.2.53\n".write(toFile: "\(root)/etc/resolv.conf", atomically: true, encoding: .utf8)
        let bare = InterfaceSetup(name: "eth0", address: "10.89.0.2", prefix: 24, gateway: "10.89.0.1")
        try GuestNetwork.writeEtcFiles(root: root, hostname: "web", interface: bare)
        #expect(try String(contentsOfFile: "\(root)/etc/resolv.conf", encoding: .utf8) == "nameserver 192.0.2.53\n")
        #expect(try String(contentsOfFile: "\(root)/etc/hosts", encoding: .utf8).hasSuffix("10.89.0.2\tweb\n"))
        var sent = bare
        sent.resolvConf = "nameserver 10.89.0.1\noptions ndots:0\n"
        try GuestNetwork.writeEtcFiles(root: root, hostname: "web", interface: sent)
        #expect(try String(contentsOfFile: "\(root)/etc/resolv.conf", encoding: .utf8) == sent.resolvConf)
    }
}
