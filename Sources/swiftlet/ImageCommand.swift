import HostSystem
import ArgumentParser
import Foundation
import Images
import Registry
import Runtime

/// `swiftlet image …`: the OCI image commands. Each subcommand parses, calls `Images`, prints.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Manage OCI images: load, pull, push, save, import, list, inspect, history, tag, remove, prune, rootfs.",
        subcommands: [
            ImageLoad.self, ImagePull.self, ImagePush.self, ImageSave.self, ImportCommand.self, ImageList.self,
            ImageInspect.self, HistoryCommand.self, ImageTag.self, ImageRemove.self, ImagePrune.self, ImageRootfs.self,
        ]
    )
}

/// The state-root option every image subcommand takes.
struct StoreOptions: ParsableArguments {
    @Option(help: "State root (default: $SWIFTLET_ROOT or /var/lib/swiftlet).")
    var root: String?

    func open() throws -> ImageStore {
        try ImageStore(root: ContentStore.defaultRoot(root))
    }
}

struct ImageLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Load images from an OCI image layout (directory or tar) or a docker-archive tar.")

    @OptionGroup var store: StoreOptions
    @Option(name: [.customShort("i"), .long], help: "The layout directory or archive to load.")
    var input: String
    @Option(help: "Platform to select from multi-platform images (os/arch[/variant]).")
    var platform = "linux/amd64"

    func run() throws {
        try reportingErrors {
            let loaded = try store.open().load(from: input, platform: try Platform(parsing: platform))
            for item in loaded {
                print("Loaded image: \(item.reference?.description ?? item.image.id.description)")
            }
        }
    }
}

struct ImageList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images.")

    @OptionGroup var store: StoreOptions
    @Flag(name: .shortAndLong, help: "Only print image ids.")
    var quiet = false
    @Option(name: .shortAndLong, help: "Filter: dangling=true|false, reference=PATTERN (repeatable).")
    var filter: [String] = []
    @Argument(help: "Only images named like this REPOSITORY[:TAG] (a shell pattern).")
    var repository: String?

    func run() throws {
        try reportingErrors {
            var filters = try ImageListFilter(flags: filter)
            if let repository { try filters.add("reference", repository) }
            let images = filters.apply(try store.open().list())
            if quiet {
                Set(images.map(\.id)).sorted().forEach { print($0) }
                return
            }
            print(pad("REFERENCE", 56) + pad("IMAGE ID", 14) + "SIZE")
            for image in images {
                for name in image.references.isEmpty ? ["<none>"] : image.references {
                    print(pad(name, 56) + pad(image.id.short, 14) + formatBytes(image.size))
                }
            }
        }
    }
}

struct ImageInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Print an image's details as JSON.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Image reference or id.")
    var image: String

    func run() throws {
        try reportingErrors { print(try store.open().inspect(image)) }
    }
}

struct ImageTag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an image another name.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Existing image reference or id.")
    var source: String
    @Argument(help: "New reference.")
    var target: String

    func run() throws {
        try reportingErrors { try store.open().tag(source, as: target) }
    }
}

struct ImageRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove image names (or whole images by id) and their unused blobs.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Image references or ids.")
    var images: [String]

    func run() throws {
        try reportingErrors { try store.open().remove(images).forEach { print($0) } }
    }
}

struct ImagePrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Remove dangling images (-a: every image no container uses) and every unreferenced blob, tree and rootfs image.")

    @OptionGroup var store: StoreOptions
    @Flag(name: .shortAndLong, help: "Remove every image no container uses, not just dangling ones.")
    var all = false

    func run() throws {
        try reportingErrors {
            let images = try store.open()
            let runtime = try Runtime(root: ContentStore.defaultRoot(store.root), executable: InstallLayout.running().executable)
            let inUse = Set(runtime.list(all: true).compactMap { try? Digest(parsing: $0.config.imageID) })
            let result = try images.prune(all: all, inUse: inUse)
            if !result.untagged.isEmpty || !result.deleted.isEmpty {
                print("Deleted Images:")
                result.untagged.forEach { print("untagged: \(ImageReference.familiar($0))") }
                result.deleted.forEach { print("deleted: \($0)") }
                print("")
            }
            print("Total reclaimed space: \(formatBytes(result.reclaimed))")
        }
    }
}

struct ImageRootfs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rootfs", abstract: "Print the path of an image's read-only EROFS rootfs image, building it once.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Image reference or id.")
    var image: String
    @Flag(help: "Print the flattened root directory instead (what a namespace container uses).")
    var tree = false

    func run() throws {
        try reportingErrors {
            let images = try store.open()
            print(tree ? try images.unpackedTree(image) : try images.rootfsImage(image))
        }
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

struct ImageSave: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Write images to an OCI image layout tar.")

    @OptionGroup var store: StoreOptions
    @Option(name: [.customShort("o"), .long], help: "The tar file to write.")
    var output: String
    @Argument(help: "Image references or ids.")
    var images: [String]

    func run() throws {
        try reportingErrors { try store.open().save(images, to: output) }
    }
}

/// Registry options shared by pull and push.
struct RegistryFlags: ParsableArguments {
    @Flag(help: "Use plain HTTP (for a local registry such as 127.0.0.1:5000).")
    var insecure = false
    @Option(help: "Username for basic or token authentication.")
    var username: String?
    @Flag(help: "Read the password from standard input.")
    var passwordStdin = false
    @Option(help: "Retries of a failed request or a corrupted blob.")
    var retries = 3

    /// The options for `name`'s registry: plain HTTP for a loopback one (as dockerd) or
    /// with `--insecure`, and the stored login (`swiftlet login`) when no username is given.
    func options(for name: String) throws -> RegistryOptions {
        let reference = try ImageReference(parsing: name)
        var options = RegistryOptions.defaults(for: reference)
        options.insecure = options.insecure || insecure
        options.username = username
        if passwordStdin {
            options.password = readLine(strippingNewline: true)
        }
        options.retries = max(0, retries)
        options.progress = isatty(STDERR_FILENO) != 0
        try RegistryCredentials().apply(to: &options, host: reference.host)
        return options
    }
}

struct ImagePull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull an image from a registry.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryFlags
    @Option(help: "Platform to select from multi-platform images (os/arch[/variant]).")
    var platform = "linux/amd64"
    @Argument(help: "Image reference, e.g. 127.0.0.1:5000/busybox:latest.")
    var image: String

    func run() async throws {
        try await reportingErrors {
            let pulled = try await store.open().pull(image, platform: try Platform(parsing: platform), options: registry.options(for: image))
            print("Pulled \(pulled.reference?.description ?? image) (\(pulled.image.manifestDescriptor.digest))")
        }
    }
}

struct ImagePush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push an image to the registry its reference names.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryFlags
    @Argument(help: "Image reference, e.g. 127.0.0.1:5000/busybox:latest.")
    var image: String

    func run() async throws {
        try await reportingErrors {
            let images = try store.open()
            try await images.push(image, options: registry.options(for: image))
            print("Pushed \(image) (\(try images.resolve(image).manifestDescriptor.digest))")
        }
    }
}
