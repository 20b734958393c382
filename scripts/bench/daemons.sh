# Shared by scripts/bench/api and scripts/bench/build (sourced; $bench names the caller):
# swiftletd (namespace isolation) and dockerd side by side, each with its own roots and
# socket — dockerd with --iptables=false --bridge=none, so it changes neither the host's
# firewall nor its bridges — and the busybox test image in both, through a local registry.
# Sets $work, $ours, $theirs (daemon hosts), $image, $products; `elapsed CMD…` prints the
# milliseconds a command took (failing the bench if it fails); `median` reads numbers.
# $SWIFTLET_BENCH_PRODUCTS picks the build (default: release if built, else debug).
products=${SWIFTLET_BENCH_PRODUCTS:-.build/release}
[ -x "$products/swiftletd" ] || products=.build/debug
[ -x "$products/swiftletd" ] || { echo "scripts/bench/$bench: build first (swift build -c release)" >&2; exit 1; }
scripts/test-images/build >/dev/null

work=$(mktemp -d /tmp/swiftlet-bench-$bench.XXXXXX)
ours="unix://$work/swiftletd.sock"
theirs="unix://$work/dockerd.sock"
pids=()
cleanup() {
    docker -H "$ours" rm -f $(docker -H "$ours" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    docker -H "$theirs" rm -f $(docker -H "$theirs" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    umount -R "$work/dockerd-exec" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$products/swiftlet" image load --root "$work/swiftlet" -i scripts/test-images/out/busybox >/dev/null
"$products/swiftletd" --root "$work/swiftlet" -H "$ours" --default-isolation namespace 2>"$work/swiftletd.log" &
pids+=($!)
dockerd --data-root "$work/dockerd" --exec-root "$work/dockerd-exec" --pidfile "$work/dockerd.pid" -H "$theirs" \
    --iptables=false --ip-forward=false --ip-masq=false --bridge=none >"$work/dockerd.log" 2>&1 &
pids+=($!)
for host in "$ours" "$theirs"; do
    for _ in $(seq 1 300); do docker -H "$host" version >/dev/null 2>&1 && break; sleep 0.1; done
    docker -H "$host" version >/dev/null || { echo "scripts/bench/$bench: the daemon at $host did not start" >&2; exit 1; }
done
# The same image for dockerd, through a local registry (dockerd 20.10 cannot load an OCI
# layout archive; 127.0.0.0/8 registries are plain HTTP to both).
port=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$work/registry"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$work/registry/data" "$port" >"$work/registry/config.yml"
/usr/bin/docker-registry serve "$work/registry/config.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
image=127.0.0.1:$port/bench/busybox:1
"$products/swiftlet" image tag --root "$work/swiftlet" swiftlet-test/busybox "$image"
"$products/swiftlet" image push --root "$work/swiftlet" --insecure --retries 10 "$image" >/dev/null
docker -H "$theirs" pull -q "$image" >/dev/null

now() { date +%s%N; }
# Milliseconds one command takes (its output dropped); fails the bench if the command does.
elapsed() {
    local start end
    start=$(now)
    "$@" >/dev/null 2>&1 || { echo "scripts/bench/$bench: failed: $*" >&2; exit 1; }
    end=$(now)
    echo $(( (end - start) / 1000000 ))
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

