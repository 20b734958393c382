import AgentProtocol
import HostSystem
import Testing

/// runc's user resolution rules against passwd/group contents.
@Suite struct ResolvedUserTests {
    let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n"
    let group = "root:x:0:\nstaff:x:50:app,other\napp:x:1002:\n"

    @Test func namesAndNumbers() throws {
        #expect(try ResolvedUser.resolve("", passwd: passwd, group: group) == ResolvedUser(uid: 0, gid: 0, groups: [], home: "/root"))
        #expect(try ResolvedUser.resolve("app", passwd: passwd, group: group) == ResolvedUser(uid: 1001, gid: 1002, groups: [50], home: "/home/app"))
        #expect(try ResolvedUser.resolve("1001", passwd: passwd, group: group).home == "/home/app")
        #expect(try ResolvedUser.resolve("4242", passwd: passwd, group: group) == ResolvedUser(uid: 4242, gid: 0, groups: [], home: "/"))
        #expect(try ResolvedUser.resolve("app:staff", passwd: passwd, group: group).gid == 50)
        #expect(try ResolvedUser.resolve("4242:7", passwd: passwd, group: group).gid == 7)
        #expect(try ResolvedUser.resolve("1000", passwd: "", group: "") == ResolvedUser(uid: 1000, gid: 0, groups: [], home: "/"))
    }

    @Test func unknownNamesGiveRuncMessages() {
        #expect(throws: SwiftletError("unable to find user ghost: no matching entries in passwd file", code: .cannotExecute)) {
            try ResolvedUser.resolve("ghost", passwd: passwd, group: group)
        }
        #expect(throws: SwiftletError("unable to find group ghosts: no matching entries in group file", code: .cannotExecute)) {
            try ResolvedUser.resolve("app:ghosts", passwd: passwd, group: group)
        }
        #expect(SwiftletError.Code.cannotExecute.exitStatus == 126)
    }
}
