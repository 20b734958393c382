// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swiftlet",
    products: [
        .executable(name: "swiftlet", targets: ["swiftlet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Typed wrappers over /dev/kvm and host KVM detection.
        .target(name: "KVM"),
        // OCI images: content store, formats, load/pull/push, layer unpacking, rootfs images.
        .target(name: "Images", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "swiftlet",
            dependencies: [
                "KVM",
                "Images",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KVMTests", dependencies: ["KVM"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images"]),
        .testTarget(name: "IntegrationTests", dependencies: ["KVM"]),
    ],
    swiftLanguageModes: [.v6]
)
