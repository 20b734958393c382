import EmbeddedDNS
import Foundation
import HostSystem

// swiftlet-dns: the embedded DNS server of user-defined container networks (DNSServer).
// The Runtime starts it through DNSControl.reload, which passes --detach: this process
// then starts the server proper in a session of its own and exits, so the server is
// nobody's child but init's.

let usage = "usage: swiftlet-dns [--directory DIR] [--resolv-conf PATH] [--detach]"
var directory = NetworkRecords.defaultDirectory
var resolvConf = "/etc/resolv.conf"
var detach = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--directory", "--resolv-conf":
        guard let value = arguments.popFirst(), !value.isEmpty else {
            FileHandle.standardError.write(Data("swiftlet-dns: \(argument) needs a value\n\(usage)\n".utf8))
            exit(2)
        }
        if argument == "--directory" { directory = value } else { resolvConf = value }
    case "--detach":
        detach = true
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        FileHandle.standardError.write(Data("swiftlet-dns: unknown argument \(argument)\n\(usage)\n".utf8))
        exit(2)
    }
}

if detach {
    // Whatever the spawner leaked (descriptors without close-on-exec) stays out of the server.
    for fd in ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap({ Int32($0) }) where fd > 2 {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let server = [executable, "--directory", directory, "--resolv-conf", resolvConf]
    do {
        _ = try DNSControl.spawnDetached(server, output: nil)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("swiftlet-dns: \(error)\n".utf8))
        exit(1)
    }
}

do {
    switch try DNSServer(directory: directory, resolvConf: resolvConf).run() {
    case .finished, .anotherServerRuns: exit(0)
    }
} catch {
    FileHandle.standardError.write(Data("swiftlet-dns: \(error)\n".utf8))
    exit(1)
}
