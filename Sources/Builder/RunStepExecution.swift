import Foundation
import HostSystem
import Images
import Runtime

/// RUN (Dockerfile reference: "RUN"): the command runs in a container of the image so
/// far, with the stage's environment, user and working directory, its output streamed as
/// it is written; a non-zero exit stops the build with Docker's message. Its file changes
/// become the step's layer; the container is removed either way.
extension ImageBuilder {
    func run(_ step: RunStep, state: StageState, builder: StageBuilder, request: BuildRequest) throws -> ResolvedImage {
        guard let parent = state.image else {
            throw SwiftletError("The command '\(step.argv.joined(separator: " "))' cannot run: the stage has no file system (FROM scratch)",
                                code: .invalidArgument)
        }
        var options = CreateOptions(image: parent.id.description)
        options.entrypoint = ""
        options.command = step.argv
        options.env = step.environment
        options.workingDir = step.workingDirectory.isEmpty ? "/" : step.workingDirectory
        options.user = step.user.isEmpty ? nil : step.user
        options.isolation = request.isolation
        options.network = request.network
        let container = try runtime.create(options)
        output(" ---> Running in \(container.id.prefix(12))\n")
        defer {
            _ = try? runtime.remove(container.id, force: true)
            output("Removing intermediate container \(container.id.prefix(12))\n")
        }
        _ = try runtime.start(container.id, attach: false)
        try runtime.logs(container.id, follow: true, tail: nil, untilExit: true) { entry in
            output(entry.text)
            return true
        }
        let status = try runtime.wait(container.id)
        guard status == 0 else {
            throw SwiftletError("The command '\(step.argv.joined(separator: " "))' returned a non-zero code: \(status)",
                                code: .commandFailed(status))
        }
        let layer = "\(runtime.root)/build-cache/run-\(container.id.prefix(12)).tar"
        defer { unlink(layer) }
        return try store(state, builder: builder, layer: try runtime.writeChanges(container.id, to: layer, pause: false), step: step.createdBy)
    }
}
