import Foundation
import HostSystem
import Runtime
import Testing

/// `--restart` with dockerd's semantics, kept by the container's monitor (no daemon
/// involved): `on-failure:N` stops after N restarts, the delay doubles from 100 ms, the
/// user's `stop` ends restarting until the next `start`, `wait` reports each exit, and bad
/// policies are refused.
@Suite struct RestartPolicyTests {
    /// Waits (on changes to the container's state directory, at most `timeout` seconds)
    /// until its `inspect` state satisfies `condition`; that state, or nil on timeout.
    func waitForState(_ name: String, timeout: Double = 120, _ condition: ([String: Any]) -> Bool) throws -> [String: Any]? {
        let directory = "\(try Swiftlet.root.get())/containers/\(try containerID(name))"
        let changes = try FileChangeWatch(directory)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let state = try inspected(name, section: "state"), condition(state) { return state }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            changes.wait(timeout: remaining)
        }
    }

    /// The times (seconds) of the container's `action` events in the journal, in order.
    func eventTimes(_ name: String, action: String) throws -> [Double] {
        let journal = try String(contentsOfFile: "\(try Swiftlet.root.get())/events.log", encoding: .utf8)
        return journal.split(separator: "\n").compactMap { line in
            guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  event["Action"] as? String == action,
                  (event["Actor"] as? [String: Any])?["Attributes"].flatMap({ ($0 as? [String: String])?["name"] }) == name,
                  let nanos = event["timeNano"] as? NSNumber else { return nil }
            return nanos.doubleValue / 1e9
        }
    }

    @Test(arguments: TestIsolation.available)
    func onFailureRestartsUpToItsLimitWithADoublingDelay(isolation: Isolation) throws {
        let name = Swiftlet.name("onfailure")
        let run = try swiftlet("run", "-d", "--name", name, "--restart", "on-failure:3", "--isolation", isolation.rawValue,
                               "--network", "none", Swiftlet.busybox, "sh", "-c", "echo ran; exit 1")
        try #require(run.status == 0, "\(run.stderr)")
        defer { _ = try? swiftlet("rm", "-f", name) }
        let state = try waitForState(name) { $0["status"] as? String == "exited" }
        #expect(state?["restartCount"] as? Int == 3, "\(diagnostics(name))")
        #expect(state?["exitCode"] as? Int == 1)
        #expect(try swiftlet("logs", name).stdout == "ran\nran\nran\nran\n", "one first run and three restarts")
        // Each restart waits twice as long as the one before, from 100 ms. (The last
        // exit's event may follow the state a moment later: it is not needed here.)
        let deaths = try eventTimes(name, action: "die"), starts = try eventTimes(name, action: "start")
        try #require(deaths.count >= 3 && starts.count == 4, "events: \(Swiftlet.events(of: name))")
        for restart in 0..<3 {
            let waited = starts[restart + 1] - deaths[restart]
            #expect(waited >= 0.1 * pow(2, Double(restart)), "restart \(restart + 1) came \(waited) s after the exit")
        }
    }

    /// `always` restarts a container that exits 0 too; the user's `stop` ends that, also
    /// while the container waits to be restarted, and `start` begins again with a count of 0.
    @Test(arguments: TestIsolation.available)
    func alwaysRestartsUntilTheUserStopsIt(isolation: Isolation) throws {
        let name = Swiftlet.name("always")
        let run = try swiftlet("run", "-d", "--name", name, "--restart", "always", "--isolation", isolation.rawValue,
                               "--network", "none", Swiftlet.busybox, "true")
        try #require(run.status == 0, "\(run.stderr)")
        defer { _ = try? swiftlet("rm", "-f", name) }
        // By the fourth restart the delay is 800 ms: the stop comes while it waits.
        let restarting = try waitForState(name) { $0["status"] as? String == "restarting" && ($0["restartCount"] as? Int ?? 0) >= 4 }
        try #require(restarting != nil, "\(diagnostics(name))")
        let stop = try swiftlet("stop", name)
        #expect(stop.status == 0, "\(stop.stderr)")
        let stopped = try inspected(name, section: "state")
        #expect(stopped?["status"] as? String == "exited")
        let starts = try eventTimes(name, action: "start").count
        // Nothing restarts it now: the delay it was waiting out (at most 3.2 s) passes.
        #expect(try waitForState(name, timeout: 4) { $0["status"] as? String != "exited" } == nil)
        #expect(try eventTimes(name, action: "start").count == starts)
        #expect(try swiftlet("start", name).status == 0)
        let again = try waitForState(name) { ($0["restartCount"] as? Int ?? 0) >= 1 }
        #expect(again != nil, "restarting again after start: \(diagnostics(name))")
        #expect(try swiftlet("rm", "-f", name).status == 0)
        #expect(try swiftlet("inspect", name).status == 1)
    }

    /// `wait` returns at each exit of a restarting container, with that run's code, as
    /// Docker's does; `rm -f` ends a container its policy would restart.
    @Test(arguments: TestIsolation.available)
    func waitReportsTheExitOfARestartingContainer(isolation: Isolation) throws {
        let name = Swiftlet.name("restartwait")
        let run = try swiftlet("run", "-d", "--name", name, "--restart", "always", "--isolation", isolation.rawValue,
                               "--network", "none", Swiftlet.busybox, "sh", "-c", "sleep 1; exit 7")
        try #require(run.status == 0, "\(run.stderr)")
        let wait = try swiftlet("wait", name)
        #expect(wait.stdout == "7\n", "\(wait.stderr)")
        let removal = try swiftlet("rm", "-f", name)
        #expect(removal.status == 0, "\(removal.stderr)")
        #expect(try swiftlet("inspect", name).status == 1)
    }

    /// `update --restart` on a running container applies from its next exit (its monitor
    /// reads the stored policy then); an `--rm` container refuses a policy, as Docker's.
    @Test(arguments: TestIsolation.available)
    func updatedPolicyAppliesAtTheNextExit(isolation: Isolation) throws {
        let name = Swiftlet.name("updatepolicy")
        let run = try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, "--network", "none", Swiftlet.busybox,
                               "sh", "-c", "while [ ! -f /go ]; do sleep 0.1; done; rm /go; exit 1")
        try #require(run.status == 0, "\(run.stderr)")
        defer { _ = try? swiftlet("rm", "-f", name) }
        #expect(try swiftlet("update", "--restart", "on-failure:1", name).status == 0)
        #expect(try swiftlet("exec", name, "touch", "/go").status == 0)
        let restarted = try waitForState(name) { $0["status"] as? String == "running" && $0["restartCount"] as? Int == 1 }
        #expect(restarted != nil, "\(diagnostics(name))")
        #expect(try swiftlet("exec", name, "touch", "/go").status == 0)
        let ended = try waitForState(name) { $0["status"] as? String == "exited" }
        #expect(ended?["restartCount"] as? Int == 1, "one restart allowed: \(diagnostics(name))")

        let removing = Swiftlet.name("updaterm")
        #expect(try swiftlet("create", "--rm", "--name", removing, "--isolation", isolation.rawValue, Swiftlet.busybox, "true").status == 0)
        defer { _ = try? swiftlet("rm", "-f", removing) }
        let refused = try swiftlet("update", "--restart", "always", removing)
        #expect(refused.status != 0 && refused.stderr.contains("AutoRemove is enabled"), "\(refused.stderr)")
    }

    @Test func badRestartPoliciesAreRefused() throws {
        for (policy, message) in [("sometimes", "invalid restart policy 'sometimes'"),
                                  ("on-failure:-1", "cannot be negative"),
                                  ("on-failure:x", "must be an integer"),
                                  ("always:3", "only on-failure takes a maximum retry count")] {
            let run = try swiftlet("create", "--restart", policy, "--isolation", "namespace", Swiftlet.busybox, "true")
            #expect(run.status == 125, "\(policy): \(run.stderr)")
            #expect(run.stderr.contains(message), "\(policy): \(run.stderr)")
        }
        let conflicting = try swiftlet("run", "--rm", "--restart", "always", "--isolation", "namespace", Swiftlet.busybox, "true")
        #expect(conflicting.status == 125)
        #expect(conflicting.stderr.contains("Conflicting options: --restart and --rm"), "\(conflicting.stderr)")
    }
}
