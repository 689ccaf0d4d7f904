#!/usr/bin/env bash
# Tempest conformance of one Nubes service, against a fresh server.
#
#   npm run conformance -- SERVICE [--gate] [--list FILE] [-c N] [-T SECONDS] [--keep]
#
#   SERVICE      identity (the table is scripts/conformance/services.sh)
#   (no --gate)  run the service's whole Tempest list (shared/conformance/lists/),
#                write the passing ids to .conformance/SERVICE/passing.txt and
#                show new passes / regressions against conformance/SERVICE-pass.txt.
#                Exit 1 only on regressions (a committed pass that did not pass)
#                or when the harness itself failed.
#   --gate       run only the ids in conformance/SERVICE-pass.txt; exit 1 unless
#                every one of them passed. An empty list passes trivially.
#   --list FILE  run the ids/regexes in FILE instead (with --gate: gate on FILE)
#   -c N         Tempest workers (default: the service's, 2)
#   -T SECONDS   limit for the whole Tempest run; unfinished tests count as failed
#   --keep       keep the server's data directory (printed at the end)
#
# Environment: NUBES_SHARED_DIR (the shared/ harness; default REPO/../shared,
# then /work/shared), NUBES_CONFORMANCE_PASSWORD (admin password, default
# "conformance"), NUBES_CONFORMANCE_START_TIMEOUT (seconds to wait for
# /healthcheck, default 30). Everything a run writes is in .conformance/SERVICE/<stamp>/:
# nubes.log, workspace/ (tempest.conf), results/ (results.csv, failed.txt,
# summary.txt, tempest.out), run.log, passing.txt.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPERS=$REPO/scripts/conformance
# shellcheck source=conformance/services.sh
source "$HELPERS/services.sh"

rel() { echo "${1#"$REPO"/}"; } # repo-relative path for messages (we run from $REPO)
usage() { sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "conformance: $*" >&2; exit 1; }

service="" gate=0 list="" conc="" limit="" keep=0
while (($#)); do
  case $1 in
    --gate) gate=1 ;;
    --list) [[ $# -ge 2 ]] || die "--list needs a file"; list=$2; shift ;;
    --list=*) list=${1#--list=} ;;
    -c|--concurrency) [[ $# -ge 2 ]] || die "$1 needs a number"; conc=$2; shift ;;
    -T|--timeout) [[ $# -ge 2 ]] || die "$1 needs seconds"; limit=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) [[ -z $service ]] || die "one service at a time (got $service and $1)"; service=$1 ;;
  esac
  shift
done
[[ -n $service ]] || { usage >&2; die "which service? (${CONFORMANCE_SERVICES[*]})"; }
declare -F "svc_$service" >/dev/null || die "unknown service '$service' (known: ${CONFORMANCE_SERVICES[*]})"
SVC_REMOTE_ARGS=() SVC_REMOTE_CATALOG=() # only services with a cross-worker test set them
"svc_$service"
PASS_LIST=$REPO/conformance/$service-pass.txt

# npm runs scripts from the package root; relative paths are the caller's
if [[ -n $list && $list != /* ]]; then list=${INIT_CWD:-$PWD}/$list; fi
[[ -z $list || -f $list ]] || die "no such list file: $list"

# ------------------------------------------------------------------ the harness
if [[ -n ${NUBES_SHARED_DIR:-} ]]; then
  [[ -f $NUBES_SHARED_DIR/conformance/run.sh ]] || die "NUBES_SHARED_DIR=$NUBES_SHARED_DIR has no conformance/run.sh"
  SHARED=$(cd "$NUBES_SHARED_DIR" && pwd)
elif [[ -f $REPO/../shared/conformance/run.sh ]]; then
  SHARED=$(cd "$REPO/../shared" && pwd)
elif [[ -f /work/shared/conformance/run.sh ]]; then
  SHARED=/work/shared
else
  die "conformance harness not found: set NUBES_SHARED_DIR to the shared/ directory (with conformance/run.sh)"
fi
HARNESS=$SHARED/conformance

# ------------------------------------------------------------------ what to run
if ((gate)); then
  RUN_LIST=${list:-$PASS_LIST}
  [[ -f $RUN_LIST ]] || die "gate list $RUN_LIST is missing"
else
  RUN_LIST=${list:-$HARNESS/lists/$SVC_LIST}
  [[ -f $RUN_LIST ]] || die "Tempest list $RUN_LIST is missing"
fi
n_listed=$(node "$HELPERS/results.mjs" count "$RUN_LIST")
if ((n_listed == 0)); then
  echo "$service: $(rel "$RUN_LIST") lists no tests; nothing to run"
  echo "0 passed, 0 failed"
  exit 0
fi

# ------------------------------------------------------------------ tempest installed?
tempest_ok() {
  command -v tempest >/dev/null 2>&1 &&
    /usr/bin/python3 -c 'import tempest, subunit, testtools, keystoneauth1' >/dev/null 2>&1
}
if ! tempest_ok; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "conformance: Tempest is missing: running $HARNESS/install.sh"
    bash "$HARNESS/install.sh"
    tempest_ok || die "Tempest still not usable after install.sh"
  else
    die "Tempest is not installed. Run as root:
  sudo bash $HARNESS/install.sh
or: sudo apt-get install -y --no-install-recommends tempest python3-tempest python3-stestr python3-subunit python3-os-testr python3-openstackclient"
  fi
fi

# ------------------------------------------------------------------ build
cd "$REPO"
if [[ ! -d node_modules ]]; then
  echo "conformance: node_modules missing: npm ci"
  npm ci
fi
newest() { { find "$@" -type f -printf '%T@\n' 2>/dev/null || true; } | sort -n | tail -1; }
# only the bundle: the V8 code cache beside it is rewritten at run time
built=$(newest dist -name nubes.cjs)
source_t=$(newest src -name '*.ts' ! -name '*.test.ts')
START_TIMEOUT=${NUBES_CONFORMANCE_START_TIMEOUT:-30}
FROM_SOURCE=()
if [[ -z $built ]] || { [[ -n $source_t ]] && awk -v s="$source_t" -v b="$built" 'BEGIN { exit !(s > b) }'; }; then
  if [[ -n $built ]]; then why="older than src/"; else why="missing"; fi
  echo "conformance: dist/ is $why: npm run build"
  if ! npm run build; then
    # bin/nubes.mjs runs src/ through tsx when asked to; slower to start
    echo "conformance: WARNING: the build failed; running the server from src/ (NUBES_FROM_SOURCE=1)" >&2
    FROM_SOURCE=(NUBES_FROM_SOURCE=1)
    START_TIMEOUT=${NUBES_CONFORMANCE_START_TIMEOUT:-90}
  fi
fi

# ------------------------------------------------------------------ run directory
base=$REPO/.conformance/$service
stamp=$(date +%Y%m%d-%H%M%S)$( ((gate)) && echo -gate || true)
[[ ! -e $base/$stamp ]] || stamp=$stamp-$$
RUN_DIR=$base/$stamp
mkdir -p "$RUN_DIR"
ln -sfn "$stamp" "$base/latest"

# ------------------------------------------------------------------ server
PW=${NUBES_CONFORMANCE_PASSWORD:-conformance}
DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nubes-conformance-XXXXXX")
SERVER_PID=""
REMOTE_PID=""

running() { # PID is alive and not a zombie
  [[ -r /proc/$1/stat ]] || return 1
  local st; st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [[ -n $st && $st != Z && $st != X ]]
}
stop_pid() { # SIGTERM, then SIGKILL after 20 s; only the PIDs this script started
  local pid=$1
  [[ -n $pid ]] || return 0
  if running "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do running "$pid" || break; sleep 0.2; done
    if running "$pid"; then
      echo "conformance: server (pid $pid) still running 20 s after SIGTERM: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # the joined process first: it shares the first one's database
  stop_pid "$REMOTE_PID"
  stop_pid "$SERVER_PID"
  if ((keep)); then
    echo "conformance: data directory kept: $DATA_DIR"
  else
    rm -rf "$DATA_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "conformance: interrupted" >&2; exit 130' INT
trap 'echo "conformance: terminated" >&2; exit 143' TERM

PORT=$(node "$HELPERS/util.mjs" free-port)
URL=http://127.0.0.1:$PORT
echo "conformance: starting nubes on $URL (data $DATA_DIR, log $(rel "$RUN_DIR")/nubes.log)"
(exec env "${FROM_SOURCE[@]}" "${SVC_SERVER_ENV[@]}" node bin/nubes.mjs start --data-dir "$DATA_DIR" --bind "127.0.0.1:$PORT" \
   --admin-password "$PW" "${SVC_SERVER_ARGS[@]}") >"$RUN_DIR/nubes.log" 2>&1 </dev/null &
SERVER_PID=$!
if ! node "$HELPERS/util.mjs" wait-health "$URL/healthcheck" "$SERVER_PID" "$START_TIMEOUT"; then
  echo "--- last lines of nubes.log:" >&2
  tail -n 40 "$RUN_DIR/nubes.log" >&2 || true
  die "the server did not become ready"
fi
echo "conformance: nubes is up (pid $SERVER_PID)"

# A second API process on the same data dir and database (nubes start --join), registered in the
# catalog under its own service type, for Tempest's cross-worker tests (image_remote, as DevStack).
if ((${#SVC_REMOTE_ARGS[@]})); then
  RPORT=$(node "$HELPERS/util.mjs" free-port)
  while [[ $RPORT == "$PORT" ]]; do RPORT=$(node "$HELPERS/util.mjs" free-port); done
  REMOTE_URL=http://127.0.0.1:$RPORT
  echo "conformance: starting the second process on $REMOTE_URL (log $(rel "$RUN_DIR")/nubes-remote.log)"
  (exec env "${FROM_SOURCE[@]}" "${SVC_SERVER_ENV[@]}" node bin/nubes.mjs start --join --data-dir "$DATA_DIR" --bind "127.0.0.1:$RPORT" \
     "${SVC_SERVER_ARGS[@]}" "${SVC_REMOTE_ARGS[@]}") >"$RUN_DIR/nubes-remote.log" 2>&1 </dev/null &
  REMOTE_PID=$!
  if ! node "$HELPERS/util.mjs" wait-health "$REMOTE_URL/healthcheck" "$REMOTE_PID" "$START_TIMEOUT"; then
    echo "--- last lines of nubes-remote.log:" >&2
    tail -n 40 "$RUN_DIR/nubes-remote.log" >&2 || true
    die "the second process did not become ready"
  fi
  node "$HELPERS/util.mjs" register-endpoint "$URL/identity/v3" "$PW" RegionOne \
    "${SVC_REMOTE_CATALOG[0]}" "${SVC_REMOTE_CATALOG[1]}" "$REMOTE_URL${SVC_REMOTE_CATALOG[2]}" || die "could not register the second process in the catalog"
  echo "conformance: second process is up (pid $REMOTE_PID)"
fi

# ------------------------------------------------------------------ tempest workspace
WS=$RUN_DIR/workspace
set_args=()
# @URL@ in a setting is the server's base URL (known only now that it listens)
for kv in "${SVC_TEMPEST_SET[@]}"; do set_args+=(--set "${kv//@URL@/$URL}"); done
mkdir -p "$RUN_DIR/home"
# HOME: `tempest init` registers every workspace in ~/.tempest/workspace.yaml; keep that out of the user's home
if ! HOME=$RUN_DIR/home /usr/bin/python3 "$HARNESS/make-tempest-conf.py" --workspace "$WS" \
    --auth-url "$URL/identity/v3" --username admin --password "$PW" --project admin \
    --region RegionOne --services "$SVC_TEMPEST_SERVICES" --profile "$SVC_PROFILE" \
    "${SVC_TEMPEST_ARGS[@]}" "${set_args[@]}" >"$RUN_DIR/make-tempest-conf.log" 2>&1; then
  cat "$RUN_DIR/make-tempest-conf.log" >&2
  die "make-tempest-conf.py failed"
fi
if grep -q 'could not authenticate' "$RUN_DIR/make-tempest-conf.log"; then
  cat "$RUN_DIR/make-tempest-conf.log" >&2
  die "admin could not authenticate at $URL/identity/v3; every test would fail"
fi

# ------------------------------------------------------------------ run
c=${conc:-$SVC_CONCURRENCY}
T=${limit:-$SVC_TIMEOUT}
echo "conformance: $service, $n_listed list entries from $(rel "$RUN_LIST"), -c $c, -T $T"
set +e
bash "$HARNESS/run.sh" -w "$WS" -c "$c" -T "$T" -o "$RUN_DIR/results" "$RUN_LIST" 2>&1 | tee "$RUN_DIR/run.log"
set -e
CSV=$RUN_DIR/results/results.csv
if [[ ! -s $CSV ]]; then
  if ((gate)); then
    die "the gate run produced no results (none of the listed tests exist in this Tempest?): see $(rel "$RUN_DIR")/run.log"
  fi
  die "the run produced no results: see $(rel "$RUN_DIR")/run.log and results/tempest.out"
fi
summary=$(tail -n 1 "$RUN_DIR/results/summary.txt")

if ((gate)); then
  echo
  if node "$HELPERS/results.mjs" gate "$(rel "$RUN_LIST")" "$CSV"; then
    echo "$service gate OK: all $n_listed listed tests passed ($summary)"
    exit 0
  fi
  echo "$service gate FAILED: tests in $(rel "$RUN_LIST") did not pass ($summary); details in $(rel "$RUN_DIR")/results/"
  exit 1
fi

# full (or --list) run: record what passes and compare with the committed list
{
  echo "# Tempest tests of '$service' that passed against Nubes (npm run conformance -- $service)."
  echo "# Run $stamp, list $(rel "$RUN_LIST"): $summary"
  node "$HELPERS/results.mjs" passing "$CSV"
} >"$RUN_DIR/passing.txt"
n_pass=$(node "$HELPERS/results.mjs" count "$RUN_DIR/passing.txt")
if [[ -z $list ]]; then
  cp "$RUN_DIR/passing.txt" "$base/passing.txt"
  passing_file=.conformance/$service/passing.txt
else
  passing_file=$(rel "$RUN_DIR")/passing.txt
fi
echo
rc=0
if [[ -f $PASS_LIST ]]; then
  node "$HELPERS/results.mjs" compare "$(rel "$PASS_LIST")" "$CSV" || rc=$?
else
  echo "(no committed pass list conformance/$service-pass.txt yet)"
fi
echo
echo "$n_pass passing ids written to $passing_file"
if [[ -z $list ]]; then
  echo "to make them the gate: cp $passing_file conformance/$service-pass.txt"
fi
echo "$service: $summary"
((rc == 0)) || echo "$service: REGRESSIONS against conformance/$service-pass.txt (listed above)"
exit "$rc"
