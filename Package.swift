// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swiftlet",
    products: [
        .executable(name: "swiftlet", targets: ["swiftlet"]),
        .executable(name: "swiftlet-vmm", targets: ["swiftlet-vmm"]),
        .executable(name: "swiftlet-init", targets: ["swiftlet-init"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C shim: ioctl numbers and struct layouts from <linux/kvm.h>.
        .target(name: "CLinux"),
        // Typed wrappers over /dev/kvm and host KVM detection.
        .target(name: "KVM", dependencies: ["CLinux"]),
        // Running other programs: posix_spawn with a clean signal state, reaped by pidfd.
        .target(name: "ChildProcess", dependencies: ["CLinux"]),
        // x86 boot structures (pure computation): boot protocol, ACPI, CPUID, paging.
        .target(name: "X86"),
        // One microVM: memory, loader, devices, vCPU threads, exit.
        // virtio 1.2 devices: split virtqueue, mmio transport, blk/rng.
        .target(name: "Virtio", dependencies: ["CLinux", "KVM"]),
        .target(name: "Machine", dependencies: ["CLinux", "KVM", "X86", "Virtio"]),
        // `swiftlet bench`: microVM vs namespace containers vs peers, table/JSON/report.
        .target(name: "Bench", dependencies: ["ChildProcess", "KVM", "Images"], resources: [.embedInCode("Workload/bench-workload.c")]),
        // OCI images: content store, formats, load/pull/push, layer unpacking, rootfs images.
        .target(name: "Images", dependencies: ["ChildProcess", .product(name: "Crypto", package: "swift-crypto")]),
        // Containers: lifecycle, state, isolation backends (microVM, namespace), volumes.
        // Host<->guest agent messages over vsock (no Foundation: linked into swiftlet-init).
        .target(name: "AgentProtocol"),
        .target(name: "Runtime", dependencies: ["AgentProtocol", "ChildProcess", "CLinux", "Images", "KVM"]),
        // The guest agent's logic (PID 1 in a container microVM): no Foundation.
        .target(name: "GuestAgent", dependencies: ["AgentProtocol", "CLinux"]),
        // The guest agent binary, packed into the container initramfs as /init
        // (guest-images/build-container-initramfs); Swift's runtime linked in statically.
        .executableTarget(
            name: "swiftlet-init",
            dependencies: ["GuestAgent", "CLinux"],
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        ),
        .executableTarget(
            name: "swiftlet",
            dependencies: [
                "KVM",
                "Images",
                "Runtime",
                "Bench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The per-VM process behind `swiftlet boot`: Machine only, no Foundation; Swift's
        // runtime linked in statically (a quarter less resident memory per VM, and faster
        // to exec: no runtime libraries to relocate).
        .executableTarget(
            name: "swiftlet-vmm",
            dependencies: ["Machine"],
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        ),
        // Drives one agent-protocol session by hand or from the integration tests.
        .executableTarget(name: "swiftlet-agent-client", dependencies: ["AgentProtocol", "CLinux"]),
        .testTarget(name: "KVMTests", dependencies: ["KVM", "CLinux"]),
        .testTarget(name: "X86Tests", dependencies: ["X86"]),
        .testTarget(name: "VirtioTests", dependencies: ["Virtio"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "KVM", "X86", "Virtio", "ChildProcess"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "ChildProcess"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "ChildProcess"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Images", "AgentProtocol", "KVM", "ChildProcess"]),
        .testTarget(name: "AgentProtocolTests", dependencies: ["AgentProtocol"]),
        .testTarget(name: "GuestAgentTests", dependencies: ["GuestAgent", "AgentProtocol"]),
        .testTarget(name: "IntegrationTests", dependencies: ["KVM", "ChildProcess"]),
    ],
    swiftLanguageModes: [.v6]
)
