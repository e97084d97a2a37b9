#!/usr/bin/env bash
# A real two-node Ray cluster on this machine, fenced off from everything else on it, for tests.
#
#   bash scripts/local_cluster.sh COMMAND [ARGS...]   start the cluster, run COMMAND inside it, tear down
#   bash scripts/local_cluster.sh --check             exit 0 if the namespaces can be made here, else say why
#   bash scripts/local_cluster.sh --on-node2 CMD...   (from inside COMMAND) run CMD in the second node's
#                                                     PID namespace: `--on-node2 ray stop` stops that node
#                                                     alone; `--on-node2 kill -KILL PID` kills its process
#                                                     PID (pids of node2's processes are numbered there)
#
# Everything runs inside `unshare -p -f --mount-proc -n` (own PID, mount and network namespace;
# root or CAP_SYS_ADMIN needed): the only network is loopback, so no port clashes with other Ray
# instances and nothing is reachable from outside; `ray stop` sees only this cluster's processes;
# Ray's temp dirs and /dev/shm are private tmpfs mounts that vanish with the namespace. The second
# node runs in a nested PID namespace so that `ray stop` there stops that node alone.
#
#   head  : `ray start --head`, 127.0.0.1:6379, dashboard 127.0.0.1:8265, 2 CPUs, own --temp-dir
#   node2 : `ray start --address`, 2 CPUs + custom resource {"node2": 1}, own --temp-dir
#
# Token authentication is on (RAY_AUTH_MODE=token) with a fresh token for this cluster only
# (RAY_AUTH_TOKEN_PATH; ~/.ray/auth_token is neither read nor written). COMMAND runs in the
# caller's directory and sees, besides RAY_AUTH_MODE and RAY_AUTH_TOKEN_PATH:
#   LOCAL_CLUSTER_DASHBOARD  http://127.0.0.1:8265 (for `ray job submit --address`, the state API)
#   LOCAL_CLUSTER_GCS        127.0.0.1:6379
#   LOCAL_CLUSTER_SCRIPT     this script (for --on-node2)
#   LOCAL_CLUSTER_STATE      the cluster's private scratch dir (temp dirs, token, node2's namespace pid)
# The exit status is COMMAND's, 3 if the cluster did not start, 4 if namespaces cannot be made
# here. The cluster is always torn down: `ray stop` on success, failure, SIGTERM and SIGINT; and
# when the process group is SIGKILLed, the kernel ends the PID namespace with its first process
# (unshare --kill-child passes its own death on). With LOCAL_CLUSTER_LOGS=DIR set, both nodes'
# Ray logs are copied there before the teardown.
set -euo pipefail

SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
HEAD_PORT=6379
DASHBOARD_PORT=8265
NODE_CPUS="${LOCAL_CLUSTER_NODE_CPUS:-2}"
OBJECT_STORE_BYTES=$((256 * 1024 * 1024))
START_TIMEOUT_S="${LOCAL_CLUSTER_START_TIMEOUT_S:-180}"

say() { echo "local_cluster: $*" >&2; }

check() {  # can this machine give us the namespaces (and mounts) we need?
  local missing=()
  for tool in unshare nsenter ip mount ray; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing commands: ${missing[*]} (util-linux, iproute2, mount, ray)"; return 1
  fi
  local out
  if ! out=$(unshare -p -f --kill-child --mount-proc -n \
               sh -c 'ip link set lo up && mount -t tmpfs -o size=1m tmpfs /dev/shm && echo ok' 2>&1 </dev/null) \
     || [ "$(echo "$out" | tail -n1)" != "ok" ]; then
    echo "cannot create PID/mount/network namespaces here (needs root or CAP_SYS_ADMIN," \
         "e.g. not an unprivileged container): $(echo "$out" | tr '\n' ' ')"
    return 1
  fi
}

on_node2() {  # inside the cluster: run a command in node2's own PID (and /proc) namespace
  : "${LOCAL_CLUSTER_STATE:?--on-node2 runs only inside a local_cluster.sh command}"
  nsenter -t "$(cat "$LOCAL_CLUSTER_STATE/node2.pid")" -p -m "$@"
}

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${CMD_PID:-}" ]; then { kill -TERM "$CMD_PID" && wait "$CMD_PID"; } 2>/dev/null || true; fi
  if [ -n "${LOCAL_CLUSTER_LOGS:-}" ]; then
    mkdir -p "$LOCAL_CLUSTER_LOGS"
    for node in head node2; do
      for logs in "$STATE/$node"/session_*/logs; do
        [ -d "$logs" ] && cp -r "$logs" "$LOCAL_CLUSTER_LOGS/$node" 2>/dev/null || true
      done
    done
  fi
  say "tearing down (exit $rc)"
  ray stop --log-style record -g 15 >/dev/null 2>&1 || true
  exit "$rc"
}

inside() {  # PID 1 of the namespace
  ip link set lo up
  # Private scratch space: Ray's temp dirs and the object store's /dev/shm go with the namespace.
  mount -t tmpfs -o size=2g,mode=0700 tmpfs "$STATE"
  mount -t tmpfs -o size=2g tmpfs /dev/shm
  mkdir -p "$STATE/head" "$STATE/node2" "$STATE/tmp"
  # A caller's RAY_ADDRESS or token must not leak in; RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (evogan's
  # loopback-only switch for local instances) would refuse a second node. Every node is given
  # --node-ip-address=127.0.0.1 instead, and the namespace has nothing but loopback anyway.
  unset RAY_ADDRESS RAY_AUTH_TOKEN RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER
  # Ray's default temp dir: `ray stop` resets <it>/ray/ray_current_cluster, which must not be the
  # host's /tmp/ray (other Ray instances on this machine find their address there).
  export RAY_TMPDIR="$STATE/tmp"
  export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$STATE/auth_token"
  python -c "import secrets; print(secrets.token_hex(32), end='')" >"$RAY_AUTH_TOKEN_PATH"
  chmod 600 "$RAY_AUTH_TOKEN_PATH"
  export RAY_USAGE_STATS_ENABLED=0
  trap teardown EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT

  say "starting the head node"
  ray start --head --log-style record --disable-usage-stats \
    --node-ip-address=127.0.0.1 --port="$HEAD_PORT" \
    --include-dashboard=true --dashboard-host=127.0.0.1 --dashboard-port="$DASHBOARD_PORT" \
    --num-cpus="$NODE_CPUS" --object-store-memory="$OBJECT_STORE_BYTES" \
    --temp-dir="$STATE/head" >"$STATE/head.log" 2>&1 || { cat "$STATE/head.log" >&2; exit 3; }

  say "starting node2 (own PID namespace and temp dir)"
  # The nested namespace's first process stays up after `ray start` so the namespace outlives it.
  unshare -p -f --kill-child --mount-proc bash -c '
    ray start --log-style record --disable-usage-stats \
      --address=127.0.0.1:'"$HEAD_PORT"' --node-ip-address=127.0.0.1 \
      --num-cpus='"$NODE_CPUS"' --resources="{\"node2\": 1}" --object-store-memory='"$OBJECT_STORE_BYTES"' \
      --dashboard-agent-listen-port=52366 --temp-dir="$0/node2" >"$0/node2.log" 2>&1 \
      && touch "$0/node2.ready" || touch "$0/node2.failed"
    while sleep 1; do :; done' "$STATE" </dev/null &
  local nested=$!
  local waited=0
  until [ -e "$STATE/node2.ready" ]; do
    if [ -e "$STATE/node2.failed" ] || [ "$waited" -ge "$START_TIMEOUT_S" ]; then
      cat "$STATE/node2.log" >&2; exit 3
    fi
    sleep 1; waited=$((waited + 1))
  done
  # The nested namespace's PID 1 (as this namespace numbers it) is the child of that unshare.
  local node2_init=""
  read -r node2_init _ <"/proc/$nested/task/$nested/children" || true  # no newline there
  [ -n "$node2_init" ] || { say "cannot find node2's namespace"; exit 3; }
  echo "$node2_init" >"$STATE/node2.pid"

  # Both raylets registered with the GCS and visible through the dashboard's state API.
  python - <<'EOF' || exit 3
import sys, time
from ray.util.state import list_nodes
deadline = time.time() + 120
while True:
    try:
        alive = [n for n in list_nodes(address="http://127.0.0.1:8265", raise_on_missing_output=False)
                 if n.state == "ALIVE"]
    except Exception:  # noqa: BLE001  (the dashboard is still starting)
        alive = []
    if len(alive) == 2:
        break
    if time.time() > deadline:
        sys.exit(f"local_cluster: 2 alive nodes expected, got {len(alive)}")
    time.sleep(1)
EOF
  say "cluster up: head 127.0.0.1:$HEAD_PORT, dashboard http://127.0.0.1:$DASHBOARD_PORT, 2 nodes"

  export LOCAL_CLUSTER_DASHBOARD="http://127.0.0.1:$DASHBOARD_PORT" LOCAL_CLUSTER_GCS="127.0.0.1:$HEAD_PORT"
  export LOCAL_CLUSTER_SCRIPT="$SCRIPT" LOCAL_CLUSTER_STATE="$STATE"
  "$@" </dev/null &
  CMD_PID=$!
  local rc=0
  wait "$CMD_PID" || rc=$?
  CMD_PID=""
  exit "$rc"
}

case "${1:-}" in
  --check) check; exit ;;
  --on-node2) shift; on_node2 "$@"; exit ;;
  --inside) shift; STATE="$1"; shift; inside "$@" ;;
  ""|-h|--help) sed -n '2,/^set -euo/{/^set -euo/!p}' "$SCRIPT"; exit 2 ;;
  *)
    if ! reason=$(check); then say "$reason"; exit 4; fi
    # Short, since Ray's socket paths must fit in 107 bytes. Seen from here it stays empty (the
    # namespace mounts its own tmpfs on it), so it can go as soon as the namespace has.
    STATE="$(mktemp -d /tmp/evogan-cluster.XXXXXX)"
    trap 'rmdir "$STATE" 2>/dev/null || true' EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    rc=0
    unshare -p -f --kill-child --mount-proc -n bash "$SCRIPT" --inside "$STATE" "$@" || rc=$?
    exit "$rc" ;;
esac
