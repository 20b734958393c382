import Testing
@testable import KVM

@Suite struct HostKVMClassificationTests {
    let intelInfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse vmx sse2\n"
    let amdInfo = "processor\t: 0\nflags\t\t: fpu svm sse2 npt\n"
    let plainInfo = "processor\t: 0\nflags\t\t: fpu vme sse2 hypervisor\n"

    @Test func vmxFlagMeansHardwareKVM() {
        let kind = HostKVM.classify(cpuinfo: intelInfo, loadedModules: [], deviceError: nil)
        #expect(kind == .hardware(extensions: "vmx"))
        #expect(kind.runsLinuxGuests)
        #expect(kind.runsFreestandingGuests)
    }

    @Test func svmFlagMeansHardwareKVM() {
        #expect(HostKVM.classify(cpuinfo: amdInfo, loadedModules: [], deviceError: nil) == .hardware(extensions: "svm"))
    }

    @Test func kvmPvmModuleWinsOverFlags() {
        let kind = HostKVM.classify(cpuinfo: plainInfo, loadedModules: ["kvm_pvm"], deviceError: nil)
        #expect(kind == .paravirtualNested)
        #expect(!kind.runsLinuxGuests)
        #expect(kind.runsFreestandingGuests)
        #expect(kind.summary.contains("kvm-rig"))
    }

    @Test func missingDeviceIsUnavailable() {
        let kind = HostKVM.classify(cpuinfo: intelInfo, loadedModules: [], deviceError: "cannot open /dev/kvm: No such file or directory (errno 2)")
        #expect(!kind.runsFreestandingGuests)
        #expect(kind.summary.contains("No such file"))
    }

    @Test func deviceWithoutExtensionsIsUnavailable() {
        let kind = HostKVM.classify(cpuinfo: plainInfo, loadedModules: [], deviceError: nil)
        guard case .unavailable(let reason) = kind else {
            Issue.record("expected unavailable, got \(kind)")
            return
        }
        #expect(reason.contains("neither vmx nor svm"))
    }

    @Test func cpuFlagsReadsOnlyTheFlagsLine() {
        #expect(HostKVM.cpuFlags("model name\t: vmx cpu\nflags\t: a b c\n") == ["a", "b", "c"])
        #expect(HostKVM.cpuFlags("") == [])
    }

    @Test func missingDeviceNodeIsReportedWithErrno() {
        let message = HostKVM.deviceOpenError("/nonexistent/kvm")
        #expect(message?.contains("errno 2") == true)
    }
}
