// swiftlet-shim: the monitor of one container (like containerd's shim or conmon), started
// detached by `swiftlet start`/`run` with fd 3 as its ready pipe:
//
//     swiftlet-shim --root ROOT [--attached] [--restart-delay-ms N] ID
//
// It runs Runtime's Monitor to the container's end and exits with the container's exit
// code. With --restart-delay-ms (and no ready pipe) it is the successor of a monitor whose
// container's restart policy restarts it after N ms. A separate executable from `swiftlet` so that what stays resident for every
// running container is the runtime alone, statically linked (see Package.swift).
import HostSystem
import Foundation
import Runtime

/// The command line of the monitor.
struct ShimArguments {
    let root: String
    let attached: Bool
    let restartDelay: Duration?
    let id: String

    static let usage = "usage: swiftlet-shim --root ROOT [--attached] [--restart-delay-ms N] ID (started by swiftlet; not for direct use)"

    init(_ arguments: [String]) throws {
        var root: String?
        var attached = false
        var restartDelay: Duration?
        var id: String?
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--root":
                guard let value = rest.popFirst() else { throw SwiftletError("--root needs a value; \(Self.usage)", code: .invalidArgument) }
                root = value
            case "--attached":
                attached = true
            case "--restart-delay-ms":
                guard let value = rest.popFirst(), let milliseconds = Int(value), milliseconds >= 0 else {
                    throw SwiftletError("--restart-delay-ms needs a number of milliseconds; \(Self.usage)", code: .invalidArgument)
                }
                restartDelay = .milliseconds(milliseconds)
            case let value where !value.hasPrefix("-") && id == nil:
                id = value
            default:
                throw SwiftletError("unexpected argument '\(argument)'; \(Self.usage)", code: .invalidArgument)
            }
        }
        guard let root, let id else { throw SwiftletError(Self.usage, code: .invalidArgument) }
        self.root = root
        self.attached = attached
        self.restartDelay = restartDelay
        self.id = id
    }
}

do {
    let arguments = try ShimArguments(Array(CommandLine.arguments.dropFirst()))
    let executable = InstallLayout.running().executable
    let runtime = try Runtime(root: arguments.root, executable: executable)
    // A successor monitor has no ready pipe.
    let readyFD: Int32 = arguments.restartDelay == nil ? 3 : -1
    exit(try runtime.monitor(arguments.id, readyFD: readyFD, attached: arguments.attached, restartDelay: arguments.restartDelay))
} catch {
    let failure = error as? SwiftletError ?? SwiftletError("\(error)")
    FileHandle.standardError.write(Data("swiftlet-shim: \(failure)\n".utf8))
    exit(failure.code == .invalidArgument ? 2 : failure.code.exitStatus)
}
