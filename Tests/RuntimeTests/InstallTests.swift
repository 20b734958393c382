import ChildProcess
import Foundation
import HostSystem
import Runtime
import Testing

/// `scripts/install --configuration debug --destdir TMP --prefix /usr/local`, then the
/// installed tree on its own: the CLI answers `--version` and `--help`, runs a container
/// with the helpers from libexec (an image loaded by the installed CLI into a private
/// state root; nothing of the build tree on its path), and the guest images, completions,
/// man pages and systemd units are in place, the units naming the installed daemon.
@Suite(.serialized) struct InstallTests {
    @Test func installedTreeRunsAContainerOnItsOwn() throws {
        let staging = NSTemporaryDirectory() + "swiftlet-install-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let install = try ChildProcess.run([Swiftlet.repository.appendingPathComponent("scripts/install").path,
                                            "--configuration", "debug", "--destdir", staging, "--prefix", "/usr/local"], timeout: 900)
        try #require(install.status == 0, "\(install.stderr)")
        let prefix = "\(staging)/usr/local"
        // The installed programs, with an environment that names nothing of the checkout.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWIFTLET_") }
        func installed(_ arguments: String...) throws -> ChildProcess.Result {
            try ChildProcess.run(["\(prefix)/bin/\(arguments[0])"] + arguments.dropFirst(), environment: environment,
                                 directory: staging, timeout: 300)
        }

        #expect(try installed("swiftlet", "--version").stdout == "\(SwiftletVersion.engine)\n")
        #expect(try installed("swiftletd", "--version").stdout == "\(SwiftletVersion.engine)\n")
        let help = try installed("swiftlet", "--help")
        #expect(help.status == 0 && help.stdout.contains("USAGE: swiftlet <subcommand>") && help.stdout.contains("run"), "\(help.stdout)")

        let root = "\(staging)/root"
        let images = Swiftlet.repository.appendingPathComponent("scripts/test-images")
        let build = try ChildProcess.run([images.appendingPathComponent("build").path], timeout: 3600)
        try #require(build.status == 0, "\(build.stderr)")
        let load = try installed("swiftlet", "image", "load", "--root", root, "-i", images.appendingPathComponent("out/busybox").path)
        try #require(load.status == 0, "\(load.stderr)")
        let run = try installed("swiftlet", "run", "--rm", "--root", root, "--isolation", "namespace", Swiftlet.busybox, "echo", "hi")
        #expect(run.status == 0 && run.stdout == "hi\n", "\(run.stdout) \(run.stderr)")

        // What the layout finds from the installed CLI and from its monitor in libexec.
        for executable in ["\(prefix)/bin/swiftlet", "\(prefix)/libexec/swiftlet/swiftlet-shim"] {
            let layout = InstallLayout(executable: executable)
            #expect(layout.helper("swiftlet-vmm") == "\(prefix)/libexec/swiftlet/swiftlet-vmm")
            #expect(layout.guestImages(environment: [:]) == "\(prefix)/share/swiftlet/guest-images")
        }
        #expect(InstallLayout(executable: "\(prefix)/bin/swiftlet").helper("swiftlet-shim") == "\(prefix)/libexec/swiftlet/swiftlet-shim")

        let files = ["libexec/swiftlet/swiftlet-init", "share/swiftlet/guest-images/vmlinuz",
                     "share/swiftlet/guest-images/container-initramfs.cpio.gz",
                     "share/bash-completion/completions/swiftlet", "share/bash-completion/completions/swiftletd",
                     "share/zsh/site-functions/_swiftlet", "share/zsh/site-functions/_swiftletd",
                     "share/fish/vendor_completions.d/swiftlet.fish", "share/fish/vendor_completions.d/swiftletd.fish",
                     "share/man/man1/swiftlet.1", "share/man/man1/swiftletd.1"]
        for file in files {
            let size = (try? FileManager.default.attributesOfItem(atPath: "\(prefix)/\(file)")[.size] as? Int) ?? 0
            #expect(size > 0, "\(file) is missing or empty")
        }
        let bash = try String(contentsOfFile: "\(prefix)/share/bash-completion/completions/swiftlet", encoding: .utf8)
        #expect(bash.contains("complete -o filenames -F _swiftlet swiftlet"))
        let manual = try String(contentsOfFile: "\(prefix)/share/man/man1/swiftletd.1", encoding: .utf8)
        #expect(manual.contains(".Dt SWIFTLETD 1") && manual.contains("tlsverify"), "\(manual.prefix(300))")

        let service = try String(contentsOfFile: "\(prefix)/lib/systemd/system/swiftletd.service", encoding: .utf8)
        #expect(service.contains("\nExecStart=/usr/local/bin/swiftletd -H fd://\n") && !service.contains("@BINDIR@"), "\(service)")
        let socket = try String(contentsOfFile: "\(prefix)/lib/systemd/system/swiftletd.socket", encoding: .utf8)
        for line in ["ListenStream=/run/swiftlet/swiftlet.sock", "SocketMode=0660", "SocketGroup=swiftlet"] {
            #expect(socket.contains("\n\(line)\n"), "\(line) in \(socket)")
        }
    }
}
