// swift-tools-version:6.0
import PackageDescription

/// What a statically linked executable that uses Foundation needs besides `-static-stdlib`
/// (SwiftPM links libFoundation.a but not what it depends on). lld, because ld.bfd warns
/// about glibc symbols those archives use. Static, because most of a dynamically linked
/// Swift program's start-up is the loader relocating some fifty libraries: `swiftlet ps`
/// took 34 ms dynamic, 11 ms static.
let staticFoundation = [
    "--start-group", "-lFoundation", "-lFoundationEssentials", "-lFoundationInternationalization", "-lCoreFoundation",
    "-l_FoundationICU", "-l_FoundationCShims", "-l_FoundationCollections", "-lswiftSynchronization", "-lswiftDispatch",
    "-ldispatch", "-lBlocksRuntime", "--end-group",
]

let package = Package(
    name: "swiftlet",
    products: [
        .executable(name: "swiftlet", targets: ["swiftlet"]),
        .executable(name: "swiftlet-vmm", targets: ["swiftlet-vmm"]),
        .executable(name: "swiftlet-shim", targets: ["swiftlet-shim"]),
        .executable(name: "swiftlet-dns", targets: ["swiftlet-dns"]),
        .executable(name: "swiftlet-init", targets: ["swiftlet-init"]),
        .executable(name: "swiftletd", targets: ["swiftletd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // C shim: ioctl numbers and struct layouts from <linux/kvm.h>.
        .target(name: "CLinux"),
        // libseccomp, for containers' seccomp profiles and swiftlet-vmm's per-thread filters.
        .systemLibrary(name: "CSeccomp", providers: [.apt(["libseccomp-dev"])]),
        // Values users type (sizes, durations, CPU counts, ports, names): one parser per
        // kind, shared by the CLI, the runtime and swiftlet-vmm (no Foundation).
        .target(name: "Units"),
        // The host's system calls the container half shares (no Foundation; swift-system):
        // whole writes, durable atomic file replacement, Unix socket addresses, wait
        // statuses, and the one error type for a failed call.
        .target(name: "HostSystem", dependencies: [.product(name: "SystemPackage", package: "swift-system")]),
        // Typed wrappers over /dev/kvm and host KVM detection.
        .target(name: "KVM", dependencies: ["CLinux"]),
        // Running other programs: posix_spawn with a clean signal state, reaped by pidfd.
        .target(name: "ChildProcess", dependencies: ["CLinux", "HostSystem"]),
        // x86 boot structures (pure computation): boot protocol, ACPI, CPUID, paging.
        .target(name: "X86"),
        // One microVM: memory, loader, devices, vCPU threads, exit.
        // virtio 1.2 devices: split virtqueue, mmio transport, blk/rng.
        .target(name: "Virtio", dependencies: ["CLinux", "KVM", "HostSystem"]),
        // The launch contract between whoever starts a VM and swiftlet-vmm: no Foundation.
        .target(name: "VMLaunch"),
        .target(name: "Machine", dependencies: ["CLinux", "HostSystem", "KVM", "X86", "Virtio", "Units", "VMLaunch"]),
        // `swiftlet bench`: microVM vs namespace containers vs peers, table/JSON/report.
        .target(name: "Bench", dependencies: ["ChildProcess", "HostSystem", "KVM", "Images", "VMLaunch"], resources: [.embedInCode("Workload/bench-workload.c")]),
        // OCI images: content store, formats, load/pull/push, layer unpacking, rootfs images.
        .target(name: "Images", dependencies: ["ChildProcess", "HostSystem", .product(name: "Crypto", package: "swift-crypto")]),
        // Pull and push over the OCI distribution spec (async-http-client on SwiftNIO).
        .target(name: "Registry", dependencies: ["HostSystem", "Images", .product(name: "AsyncHTTPClient", package: "async-http-client")]),
        // `swiftlet build`: the Dockerfile parsed, expanded and planned into steps (config
        // effects, history, cache keys), .dockerignore and build-context digests, and the
        // executor (RUN in a container through Runtime, COPY/ADD layers, the step cache).
        .target(name: "Builder", dependencies: ["HostSystem", "Images", "Registry", "Runtime", "Units",
                                                .product(name: "Crypto", package: "swift-crypto")]),
        // Containers: lifecycle, state, isolation backends (microVM, namespace), volumes.
        // Host<->guest agent messages over vsock (no Foundation: linked into swiftlet-init).
        .target(name: "AgentProtocol", dependencies: ["HostSystem"]),
        .target(name: "Runtime", dependencies: ["AgentProtocol", "ChildProcess", "CLinux", "CSeccomp", "EmbeddedDNS", "HostSystem", "Images", "KVM", "Units", "VMLaunch"],
                resources: [.embedInCode("Seccomp/docker-default.json")]),
        // swiftletd's Engine API: the HTTP server on SwiftNIO and one router per API area.
        .target(name: "Daemon", dependencies: [
            "Builder", "CLinux", "HostSystem", "Images", "Registry", "Runtime", "Units",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(
            name: "swiftletd",
            dependencies: ["Daemon", "HostSystem", "Images", "Runtime",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log")],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-use-ld=lld"] + staticFoundation.flatMap { ["-Xlinker", $0] })]
        ),
        // The guest agent's logic (PID 1 in a container microVM): no Foundation.
        .target(name: "GuestAgent", dependencies: ["AgentProtocol", "CLinux", "HostSystem"]),
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
                "Builder",
                "HostSystem",
                "KVM",
                "Images",
                "Registry",
                "Runtime",
                "Units",
                "Bench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-use-ld=lld"] + staticFoundation.flatMap { ["-Xlinker", $0] })]
        ),
        // The per-VM process behind `swiftlet boot`: Machine only, no Foundation; Swift's
        // runtime linked in statically (a quarter less resident memory per VM, and faster
        // to exec: no runtime libraries to relocate).
        .executableTarget(
            name: "swiftlet-vmm",
            dependencies: ["Machine", "CSeccomp", "VMLaunch"],
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]
        ),
        // The monitor of one container, started by `swiftlet start`/`run` (Runtime only:
        // no registry client, so no SwiftNIO; Swift's runtime and
        // Foundation linked in statically, which halves the memory every running
        // container costs on the host and shortens its start).
        .executableTarget(
            name: "swiftlet-shim",
            dependencies: ["HostSystem", "Runtime"],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-use-ld=lld"] + staticFoundation.flatMap { ["-Xlinker", $0] })]
        ),
        // The embedded DNS server of user-defined networks (container names on each
        // gateway's port 53, the rest forwarded to the host's resolvers): DNS messages,
        // the record files the Runtime writes, the server and its control client.
        .target(name: "EmbeddedDNS", dependencies: ["ChildProcess", "HostSystem"]),
        // The one host-wide DNS server process, started by DNSControl.reload; Swift's
        // runtime and Foundation linked in statically, as swiftlet-shim's.
        .executableTarget(
            name: "swiftlet-dns",
            dependencies: ["EmbeddedDNS", "HostSystem"],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-use-ld=lld"] + staticFoundation.flatMap { ["-Xlinker", $0] })]
        ),
        // Drives one agent-protocol session by hand or from the integration tests.
        .executableTarget(name: "swiftlet-agent-client", dependencies: ["AgentProtocol", "CLinux", "HostSystem"]),
        .testTarget(name: "ChildProcessTests", dependencies: ["ChildProcess", "HostSystem"]),
        .testTarget(name: "KVMTests", dependencies: ["KVM", "CLinux"]),
        .testTarget(name: "X86Tests", dependencies: ["X86"]),
        .testTarget(name: "VirtioTests", dependencies: ["Virtio"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "KVM", "X86", "Virtio", "ChildProcess", "VMLaunch"]),
        .testTarget(name: "VMLaunchTests", dependencies: ["VMLaunch"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "ChildProcess", "HostSystem"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "Registry", "ChildProcess", "HostSystem"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Images", "AgentProtocol", "KVM", "ChildProcess", "HostSystem", "Units", "VMLaunch"]),
        .testTarget(name: "AgentProtocolTests", dependencies: ["AgentProtocol", "HostSystem"]),
        .testTarget(name: "GuestAgentTests", dependencies: ["GuestAgent", "AgentProtocol", "HostSystem"]),
        .testTarget(name: "IntegrationTests", dependencies: ["KVM", "ChildProcess", "VMLaunch"]),
        .testTarget(name: "UnitsTests", dependencies: ["Units"]),
        .testTarget(name: "BuilderTests", dependencies: ["Builder", "HostSystem", "Images"]),
        .testTarget(name: "HostSystemTests", dependencies: ["HostSystem"]),
        .testTarget(name: "EmbeddedDNSTests", dependencies: ["EmbeddedDNS", "HostSystem"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "HostSystem", "ChildProcess", "CLinux", .product(name: "NIOHTTP1", package: "swift-nio")]),
    ],
    swiftLanguageModes: [.v6]
)

/// Fuzz targets (`scripts/fuzz`): one libFuzzer executable per `Fuzz/<Target>/`, declared only
/// when SWIFTLET_FUZZ=1 so the normal build neither sees nor builds them. scripts/fuzz builds
/// them with `-sanitize=fuzzer,address` into its own scratch path.
let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
    ("Virtqueue", ["Virtio", "FuzzSupport"]),
    ("MMIOTransport", ["Virtio", "FuzzSupport"]),
    ("KernelImage", ["X86", "Machine"]),
    ("TarUnpack", ["Images"]),
    ("OCIManifests", ["Images"]),
    ("AgentFrames", ["AgentProtocol", "HostSystem"]),
    ("Units", ["Units"]),
    ("DNSMessage", ["EmbeddedDNS"]),
    ("Dockerfile", ["Builder"]),
    ("SecurityOptions", ["Runtime", "AgentProtocol"]),
    ("EngineRequests", ["Daemon", "HostSystem", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")]),
]
if Context.environment["SWIFTLET_FUZZ"] == "1" {
    // What several targets share: fake guest RAM for the virtio targets.
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["Virtio"], path: "Fuzz/Support"))
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(name: "Fuzz\(target.name)", dependencies: target.dependencies, path: "Fuzz/\(target.name)", exclude: ["corpus"])
        )
    }
}
