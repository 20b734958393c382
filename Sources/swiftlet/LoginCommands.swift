import ArgumentParser
import Foundation
import HostSystem
import Images
import Registry

/// `swiftlet login [SERVER]` (docker's): checks the credentials against the registry and
/// keeps them where the docker CLI keeps its own (``RegistryCredentials``), for `pull`,
/// `push` and `run` to use. The server is Docker Hub when none is given.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in to a registry.")

    @Option(name: .shortAndLong, help: "Username.")
    var username: String?
    @Option(name: .shortAndLong, help: "Password (prefer --password-stdin).")
    var password: String?
    @Flag(help: "Read the password from standard input.")
    var passwordStdin = false
    @Argument(help: "The registry (default: Docker Hub).")
    var server: String?

    func run() async throws {
        try await reportingErrors(otherwise: 1) {
            let host = try RegistryCredentials.host(ofServer: server)
            guard let username, !username.isEmpty else {
                throw SwiftletError("a username is needed: --username (reading it from a terminal is not supported)", code: .invalidArgument)
            }
            if password != nil && passwordStdin {
                throw SwiftletError("--password and --password-stdin are mutually exclusive", code: .invalidArgument)
            }
            if password != nil {
                FileHandle.standardError.write(Data("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n".utf8))
            }
            guard let secret = passwordStdin ? readLine(strippingNewline: true) : password, !secret.isEmpty else {
                throw SwiftletError("a password is needed: --password-stdin (or --password)", code: .invalidArgument)
            }
            var options = RegistryOptions.defaults(forHost: host)
            options.username = username
            options.password = secret
            try await options.verifyLogin(host: host)
            let credentials = RegistryCredentials()
            try credentials.store(host, username: username, password: secret)
            FileHandle.standardError.write(Data("Your password is stored unencrypted in \(credentials.path).\n".utf8))
            print("Login Succeeded")
        }
    }
}

/// `swiftlet logout [SERVER]`: forgets the stored login.
struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out from a registry.")

    @Argument(help: "The registry (default: Docker Hub).")
    var server: String?

    func run() throws {
        try reportingErrors(otherwise: 1) {
            let host = try RegistryCredentials.host(ofServer: server)
            if try RegistryCredentials().remove(host) {
                print("Removing login credentials for \(RegistryCredentials.key(for: host))")
            } else {
                print("Not logged in to \(RegistryCredentials.key(for: host))")
            }
        }
    }
}
