// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swiftlet",
    products: [
        .executable(name: "swiftlet", targets: ["swiftlet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Typed wrappers over /dev/kvm and host KVM detection.
        .target(name: "KVM"),
        .executableTarget(
            name: "swiftlet",
            dependencies: [
                "KVM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KVMTests", dependencies: ["KVM"]),
        .testTarget(name: "IntegrationTests", dependencies: ["KVM"]),
    ],
    swiftLanguageModes: [.v6]
)
