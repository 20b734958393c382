/// What executing one instruction takes, after ``StageBuilder`` expanded it and applied its
/// configuration effects (Docker's classic builder's dispatchers, Dockerfile reference: each
/// instruction's section). Each carries the `created_by` text the image history records.
public enum BuildStep: Sendable, Equatable {
    /// The configuration changed, no file did: an `empty_layer` history entry.
    case metadata(createdBy: String)
    /// WORKDIR: create the directory if missing (a layer only when that changed something).
    case workdir(path: String, createdBy: String)
    case run(RunStep)
    case copy(CopyStep)

    /// The history text, for the steps whose text is known before execution (all but COPY/ADD,
    /// whose text names a digest of the sources: ``CopyStep/createdBy(sourceLabel:)``).
    public var createdBy: String? {
        switch self {
        case .metadata(let text), .workdir(_, let text): text
        case .run(let step): step.createdBy
        case .copy: nil
        }
    }
}

/// A RUN to execute in the stage's current file system.
public struct RunStep: Sendable, Equatable {
    /// The program and its arguments: the SHELL and the text for the shell form, the JSON
    /// array as it is for the exec form.
    public var argv: [String]
    /// The image's Env, then the build arguments in effect (`NAME=value`) that Env does not set.
    public var environment: [String]
    /// The stage's USER ("" for root) and WORKDIR ("" for /) at this point.
    public var user: String
    public var workingDirectory: String
    /// `/bin/sh -c echo hi`, or with build arguments `|1 NAME=v /bin/sh -c echo hi`.
    public var createdBy: String

    public init(argv: [String], environment: [String], user: String, workingDirectory: String, createdBy: String) {
        self.argv = argv
        self.environment = environment
        self.user = user
        self.workingDirectory = workingDirectory
        self.createdBy = createdBy
    }
}

/// Where COPY/ADD read their sources from (Dockerfile reference: "COPY --from").
public enum CopySource: Sendable, Equatable {
    /// The build context (after .dockerignore).
    case context
    /// The file system an earlier stage of this build ended with.
    case stage(Int)
    /// An image's file system.
    case image(String)
}

/// A COPY or ADD with its words expanded and its destination made absolute.
public struct CopyStep: Sendable, Equatable {
    public var isAdd: Bool
    public var source: CopySource
    /// Source paths or patterns, relative to the source's root, as written after expansion.
    public var sources: [String]
    /// The destination, absolute (relative ones joined to WORKDIR); a trailing `/` kept,
    /// which makes it a directory.
    public var destination: String
    /// `--chown` after expansion (`user`, `user:group`, ids); nil keeps 0:0.
    public var chown: String?
    /// `--chmod` as permission bits.
    public var chmod: UInt32?
    /// The destination as written (after expansion), which the history text names.
    public var writtenDestination: String
    /// The stage's SHELL, which Docker's history text starts with.
    public var shell: [String]

    public init(isAdd: Bool, source: CopySource, sources: [String], destination: String, chown: String?, chmod: UInt32?,
                writtenDestination: String, shell: [String]) {
        self.isAdd = isAdd
        self.source = source
        self.sources = sources
        self.destination = destination
        self.chown = chown
        self.chmod = chmod
        self.writtenDestination = writtenDestination
        self.shell = shell
    }

    /// Docker's `created_by` for this copy: `/bin/sh -c #(nop) COPY file:<hex> in /dst `;
    /// `sourceLabel` is ``SourceDigest/historyLabel`` of the sources.
    public func createdBy(sourceLabel: String) -> String {
        let chownText = chown.map { "--chown=\($0)" } ?? ""
        let comment = "#(nop) \(isAdd ? "ADD" : "COPY") \(chownText)\(sourceLabel) in \(writtenDestination) "
        return (shell + [comment]).joined(separator: " ")
    }
}
