import ArgumentParser

/// Docker's top-level spellings of the image commands: `swiftlet pull`, `push`, `tag`,
/// `load`, `save`, `import` and `history` are the `image` subcommands themselves; `images` and `rmi` are
/// `image ls` and `image rm` under Docker's names.
let imageAliases: [any ParsableCommand.Type] = [
    ImagePull.self, ImagePush.self, ImageTag.self, ImageLoad.self, ImageSave.self, ImportCommand.self, HistoryCommand.self,
    ImagesAlias.self, RmiAlias.self,
]

/// `swiftlet images`: `image ls`.
struct ImagesAlias: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: ImageList.configuration.abstract)

    @OptionGroup var list: ImageList

    func run() throws { try list.run() }
}

/// `swiftlet rmi`: `image rm`.
struct RmiAlias: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: ImageRemove.configuration.abstract)

    @OptionGroup var remove: ImageRemove

    func run() throws { try remove.run() }
}
