import HostSystem
import AgentProtocol
@testable import GuestAgent
import Glibc
import Testing

/// The agent's pure decisions: the container root's mount plan, a process spec turned
/// into what the child execs, and exit status encoding.
@Suite struct PlanTests {
    let setup = ContainerSetup(hostname: "box", rootfs: "/dev/vda", writable: "/dev/vdb",
                               volumes: [VolumeMount(device: "/dev/vdc", target: "/data/./x/", readOnly: true),
                                         VolumeMount(device: "/dev/vdd", target: "/srv", readOnly: false)])

    func mounts(_ plan: MountPlan) -> [(source: String, target: String, type: String, flags: UInt, data: String)] {
        plan.steps.compactMap { step in
            if case .mount(let source, let target, let type, let flags, let data, _) = step { return (source, target, type, flags, data) }
            return nil
        }
    }

    @Test func rootfsWritableOverlayThenVolumesThenKernelFilesystems() throws {
        let plan = try MountPlan(setup)
        let list = mounts(plan)
        #expect(list.map(\.target) == [
            "/run/swiftlet/rootfs", "/run/swiftlet/writable", "/run/swiftlet/root",
            "/run/swiftlet/root/data/x", "/run/swiftlet/root/srv",
            "/run/swiftlet/root/proc", "/run/swiftlet/root/sys", "/run/swiftlet/root/dev",
            "/run/swiftlet/root/dev/pts", "/run/swiftlet/root/dev/shm", "/run/swiftlet/root/dev/mqueue",
        ])
        #expect(list[0].source == "/dev/vda" && list[0].type == "erofs" && list[0].flags == UInt(MS_RDONLY))
        #expect(list[1].source == "/dev/vdb" && list[1].type == "ext4" && list[1].flags == 0)
        #expect(list[2].type == "overlay")
        #expect(list[2].data == "lowerdir=/run/swiftlet/rootfs,upperdir=/run/swiftlet/writable/upper,workdir=/run/swiftlet/writable/work")
        #expect(list[3].source == "/dev/vdc" && list[3].flags == UInt(MS_RDONLY))
        #expect(list[4].source == "/dev/vdd" && list[4].flags == 0)
        #expect(plan.steps.contains(.directory("/run/swiftlet/writable/upper")))
        #expect(plan.steps.contains(.characterDevice(path: "/run/swiftlet/root/dev/null", major: 1, minor: 3)))
        #expect(plan.steps.contains(.symlink(target: "pts/ptmx", path: "/run/swiftlet/root/dev/ptmx")))
        #expect(plan.unmountOrder.first == "/run/swiftlet/root/dev/mqueue")
        #expect(plan.unmountOrder.last == "/run/swiftlet/rootfs")
    }

    @Test func mountsInsideTheContainerRefuseSymlinksOutside() throws {
        for step in try MountPlan(setup).steps {
            guard case .mount(_, let target, _, _, _, let within) = step else { continue }
            #expect((within == "/run/swiftlet/root") == target.hasPrefix("/run/swiftlet/root/"), "\(target)")
        }
    }

    @Test func badVolumeTargetsAreRefused() {
        for target in ["relative", "/", "/a/../etc", ""] {
            var bad = setup
            bad.volumes = [VolumeMount(device: "/dev/vdc", target: target, readOnly: false)]
            #expect(throws: SwiftletError.self) { try MountPlan(bad) }
        }
    }

    let passwd = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n"
    let group = "root:x:0:\nwww:x:33:\nadm:x:4:www\n"

    @Test func execPlanResolvesUserAndAddsHome() throws {
        let plan = try ExecPlan(ProcessStart(args: ["id"], env: ["PATH=/bin"], cwd: "/srv", user: "www"), passwd: passwd, group: group)
        #expect(plan.argv == ["id"])
        #expect(plan.env == ["PATH=/bin", "HOME=/var/www"])
        #expect(plan.cwd == "/srv")
        #expect(plan.user == ResolvedUser(uid: 33, gid: 33, groups: [4], home: "/var/www"))
        let keepsHome = try ExecPlan(ProcessStart(args: ["x"], env: ["HOME=/h"], user: "1000:5"), passwd: passwd, group: group)
        #expect(keepsHome.env == ["HOME=/h"])
        #expect(keepsHome.user == ResolvedUser(uid: 1000, gid: 5, groups: [], home: "/"))
    }

    @Test func execPlanRefusalsCarryDockerStatuses() {
        #expect(throws: SwiftletError("no command specified")) {
            try ExecPlan(ProcessStart(args: []), passwd: passwd, group: group)
        }
        #expect(throws: SwiftletError("the working directory 'srv' is invalid, it needs to be an absolute path")) {
            try ExecPlan(ProcessStart(args: ["x"], cwd: "srv"), passwd: passwd, group: group)
        }
        #expect(throws: SwiftletError("unable to find user ghost: no matching entries in passwd file", code: .cannotExecute)) {
            try ExecPlan(ProcessStart(args: ["x"], user: "ghost"), passwd: passwd, group: group)
        }
        #expect(throws: SwiftletError.self) { try ExecPlan(ProcessStart(args: ["a\0b"]), passwd: passwd, group: group) }
    }

    @Test func exitStatusIsCodeOr128PlusSignal() {
        #expect(ExitStatus.from(waitStatus: 0) == 0)
        #expect(ExitStatus.from(waitStatus: 3 << 8) == 3)
        #expect(ExitStatus.from(waitStatus: 255 << 8) == 255)
        #expect(ExitStatus.from(waitStatus: SIGKILL) == 137)
        #expect(ExitStatus.from(waitStatus: SIGTERM | 0x80) == 143)  // core dumped bit
    }
}
