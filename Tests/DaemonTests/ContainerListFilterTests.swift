import ChildProcess
import Daemon
import Foundation
import HostSystem
import Testing

/// Container labels and `docker ps --filter` through `swiftletd` with the stock docker
/// client (what docker-compose finds its containers by): `--label` stored and shown in
/// inspect, the `label` filter (all must match), `name`, `status`, `network`, and an
/// unknown filter refused.
@Suite struct ContainerListFilterTests {
    /// A label filter value is `key` or `key=value`; an empty one (`label=`) matches only
    /// an empty key and never traps.
    @Test func labelFilterValues() {
        let labels = ["tier": "web", "flag": ""]
        #expect(Filters.label("tier", isIn: labels))
        #expect(Filters.label("tier=web", isIn: labels))
        #expect(!Filters.label("tier=db", isIn: labels))
        #expect(Filters.label("flag=", isIn: labels))
        #expect(!Filters.label("", isIn: labels))
        #expect(!Filters.label("=web", isIn: labels))
    }

    @Test func labelsAndListFilters() throws {
        guard DockerClientTests().dockerClient() else { return }
        let daemon = try DockerClientTests.Daemon()
        defer { _ = try? daemon.docker("rm", "-f", "lf-web", "lf-db", "lf-created") }
        let web = try daemon.docker("run", "-d", "--name", "lf-web", "--label", "tier=web", "--label", "team=a",
                                    "swiftlet-test/busybox", "sleep", "1000")
        try #require(web.status == 0, "\(web.stderr)")
        #expect(try daemon.docker("run", "-d", "--name", "lf-db", "--network", "none", "--label", "tier=db",
                                  "swiftlet-test/busybox", "sleep", "1000").status == 0)
        #expect(try daemon.docker("create", "--name", "lf-created", "swiftlet-test/busybox", "true").status == 0)

        func names(_ arguments: String...) throws -> [String] {
            let listing = try daemon.docker(["ps", "--format", "{{.Names}}"] + arguments)
            #expect(listing.status == 0, "\(arguments): \(listing.stderr)")
            return listing.stdout.split(separator: "\n").map(String.init).sorted()
        }
        #expect(try names("--filter", "label=tier=web") == ["lf-web"])
        #expect(try names("--filter", "label=tier") == ["lf-db", "lf-web"])
        #expect(try names("--filter", "label=tier=web", "--filter", "label=team=b") == [], "every label filter must match")
        #expect(try names("--filter", "name=lf-d") == ["lf-db"])
        #expect(try names("-a", "--filter", "status=created") == ["lf-created"])
        #expect(try names("--filter", "network=bridge", "--filter", "name=lf-") == ["lf-web"])
        #expect(try daemon.docker("inspect", "-f", "{{.Config.Labels.tier}}", "lf-web").stdout == "web\n")
        let bogus = try daemon.docker("ps", "--filter", "bogus=1")
        #expect(bogus.status != 0 && bogus.stderr.contains("invalid filter 'bogus'"), "\(bogus.stderr)")
    }
}
