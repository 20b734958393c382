import Foundation
@testable import Runtime
import Testing

/// What `top`, `stats` and `events` compute without a container: dockerd's `ps` output
/// filter, the stats JSON's shape and docker's CPU and memory arithmetic, and the
/// times `events` takes.
@Suite struct ContainerControlParsingTests {
    @Test func psOutputKeepsTheContainersRowsAndTheirThreads() throws {
        let output = """
        UID          PID    PPID  C STIME TTY          TIME CMD
        root           1       0  0 19:00 ?        00:00:01 /sbin/init
        root         500       1  0 19:01 ?        00:00:00 sh -c sleep 600 & wait
        root           -       -  0 19:01 ?        00:00:00 -
        root         501     500  0 19:01 ?        00:00:00 sleep 600
        root         502       1  0 19:01 ?        00:00:00 -bash
        root           -       -  0 19:01 ?        00:00:00 -
        """
        let list = try Runtime.parse(psOutput: output, keeping: [500, 501])
        #expect(list.Titles == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"])
        #expect(list.Processes.map { $0[1] } == ["500", "-", "501"])
        #expect(list.Processes[0].last == "sh -c sleep 600 & wait" && list.Processes[0].count == 8)
        #expect(throws: (any Error).self) { try Runtime.parse(psOutput: "USER COMMAND\nroot init\n", keeping: [1]) }
    }

    @Test func statisticsHaveMobysShapeAndDockersArithmetic() throws {
        var sample = ContainerStatistics(id: "abc", name: "/x")
        sample.read = Date(timeIntervalSince1970: 2)
        sample.cpu.usage.totalUsage = 3_000_000_000
        sample.cpu.systemUsage = 20_000_000_000
        sample.cpu.onlineCPUs = 2
        sample.precpu.usage.totalUsage = 1_000_000_000
        sample.precpu.systemUsage = 10_000_000_000
        sample.memory = .init(usage: 10 << 20, limit: 64 << 20, stats: ["total_inactive_file": 2 << 20], failcnt: 0)
        // 2 s of the container's CPU time in 10 s of two CPUs' time: 40% of one CPU.
        #expect(abs(sample.cpuPercent - 40) < 1e-9)
        #expect(sample.memoryWithoutCache == 8 << 20)
        let json = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(sample)) as? [String: Any])
        #expect(json["preread"] as? String == "0001-01-01T00:00:00Z" && (json["read"] as? String)?.hasPrefix("1970-01-01T00:00:02") == true)
        let cpu = try #require(json["cpu_stats"] as? [String: Any])
        #expect((cpu["cpu_usage"] as? [String: Any])?["total_usage"] as? Int == 3_000_000_000 && cpu["online_cpus"] as? Int == 2)
        #expect((json["memory_stats"] as? [String: Any])?["limit"] as? Int == 64 << 20)
        let blkio = try #require(json["blkio_stats"] as? [String: Any])
        #expect(blkio.keys.contains("io_service_bytes_recursive") && blkio["sectors_recursive"] is NSNull)
        #expect(json["networks"] == nil && json["pids_stats"] != nil && json["os_type"] as? String == "linux")
    }

    @Test func eventTimesAsDockerTakesThem() throws {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(try EventSelection.timestamp("1700000000.5", now: now) == 1_700_000_000.5)
        #expect(try EventSelection.timestamp("10m", now: now) == 1_000_000 - 600)
        #expect(try EventSelection.timestamp("2026-12-05T19:00:00Z", now: now) == 1_796_497_200)
        #expect(throws: (any Error).self) { try EventSelection.timestamp("yesterday", now: now) }
        let selection = EventSelection(since: 10, until: 20, filters: ["event": ["start"], "container": ["web"]])
        func event(_ action: String, at seconds: Int, name: String) -> EngineEvent {
            EngineEvent(Type: "container", Action: action, Actor: .init(ID: "0123abcd", Attributes: ["name": name]),
                        time: seconds, timeNano: seconds * 1_000_000_000)
        }
        #expect(selection.matches(event("start", at: 15, name: "web")))
        #expect(!selection.matches(event("start", at: 25, name: "web")) && !selection.matches(event("die", at: 15, name: "web")))
        #expect(!selection.matches(event("start", at: 15, name: "db")))
        #expect(EventSelection(filters: ["container": ["0123"]]).matches(event("start", at: 1, name: "db")), "an id prefix matches")
    }
}
