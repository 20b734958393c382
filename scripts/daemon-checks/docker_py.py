#!/usr/bin/env python3
"""docker-py (the Docker SDK for Python) against swiftletd: runs containers, reads logs,
execs, manages volumes and lists images, checking each answer. Usage:
docker_py.py unix:///PATH/TO/swiftletd.sock IMAGE   (exit 0 when every check passes)"""
import sys

import docker


def main():
    base_url, image = sys.argv[1], sys.argv[2]
    client = docker.DockerClient(base_url=base_url)
    failures = []

    def check(name, got, expected):
        if got != expected:
            failures.append(f"{name}: expected {expected!r}, got {got!r}")

    check("api version", client.version()["ApiVersion"], "1.44")
    check("run", client.containers.run(image, ["sh", "-c", "echo hello-py"], remove=True), b"hello-py\n")
    container = client.containers.run(image, ["sh", "-c", "echo bg; sleep 60"], detach=True, name="dc-py")
    check("list", [c.name for c in client.containers.list()], ["dc-py"])
    result = container.exec_run(["sh", "-c", "echo ex; exit 2"])
    check("exec", (result.exit_code, result.output), (2, b"ex\n"))
    container.kill()
    check("wait", container.wait()["StatusCode"], 137)
    check("logs", container.logs(), b"bg\n")
    container.remove()
    check("removed", [c.name for c in client.containers.list(all=True)], [])
    volume = client.volumes.create("dc-py-volume")
    check("volumes", [v.name for v in client.volumes.list()], ["dc-py-volume"])
    volume.remove()
    check("images", any(image + ":latest" in i.tags for i in client.images.list()), True)
    try:
        client.containers.run(image, ["sh", "-c", "exit 3"], remove=True)
        failures.append("a failing run raised nothing")
    except docker.errors.ContainerError as error:
        check("failing run", error.exit_status, 3)
    for failure in failures:
        print(failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
