#!/usr/bin/env bash
# Start a real Payload CMS 3.90.2 server (SQLite) with the Lead fields of leadsadmin/schema.py
# (leads-fields.json) and N deterministic leads, for the contract tests. Nothing is written
# next to this script: files are copied to a work dir and everything runs there.
#
#   run.sh              start; on success stdout has exactly three lines:
#                         PAYLOAD_REF_URL=http://127.0.0.1:PORT/api
#                         PAYLOAD_REF_KEY=users API-Key <key>
#                         PAYLOAD_REF_PID=<pid>
#   run.sh stop DIR     stop the server started in work dir DIR (or simply: kill PID);
#                       a work dir that run.sh created itself is deleted too
#
# Environment:
#   PAYLOAD_REF_WORKDIR  work dir (default: a fresh `mktemp -d`). Reuse one to skip
#                        npm ci and seeding on later runs. One running server per work dir.
#   PAYLOAD_REF_LEADS    number of leads (default 500)
#   PAYLOAD_REF_PORT     port on 127.0.0.1 (default 3100; 0 = any free port)
# Progress and errors go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
FILES=(package.json package-lock.json payload.config.mjs leads-fields.json server.mjs seed.mjs hash-leads.mjs)

say() { printf 'payload-contract: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Prints the PID recorded in DIR/server.pid if that process is alive and is a server.mjs.
running_pid() {
  local dir="$1" pid
  [ -f "$dir/server.pid" ] || return 1
  pid="$(cat "$dir/server.pid")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -q 'server\.mjs' || return 1
  echo "$pid"
}

stop_server() {
  local dir="$1" pid
  if pid="$(running_pid "$dir")"; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    say "stopped pid $pid"
  fi
  rm -f "$dir/server.pid" "$dir/server.port"
}

# Short sha256 of the given files' contents (node is required anyway; sha256sum is not everywhere).
digest() {
  node -e 'const h = require("crypto").createHash("sha256")
for (const f of process.argv.slice(1)) h.update(require("fs").readFileSync(f))
console.log(h.digest("hex").slice(0, 16))' "$@"
}

if [ "${1-}" = stop ]; then
  dir="${2:-${PAYLOAD_REF_WORKDIR:-}}"
  [ -n "$dir" ] || die "usage: run.sh stop WORKDIR"
  [ -d "$dir" ] || die "no such work dir: $dir"
  stop_server "$dir"
  # A work dir that run.sh made itself (no PAYLOAD_REF_WORKDIR given) is removed as well.
  if [ -f "$dir/.payload-ref-tempdir" ]; then rm -rf "$dir"; say "removed $dir"; fi
  exit 0
fi
[ $# -eq 0 ] || die "usage: run.sh   |   run.sh stop WORKDIR"

command -v node >/dev/null || die "node not found (needs node >= 20 and npm)"
command -v npm >/dev/null || die "npm not found (needs node >= 20 and npm)"
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" -ge 20 ] || die "node $(node --version) is too old (needs >= 20)"

LEADS="${PAYLOAD_REF_LEADS:-500}"
PORT="${PAYLOAD_REF_PORT:-3100}"
[[ "$LEADS" =~ ^[0-9]+$ ]] || die "PAYLOAD_REF_LEADS must be a whole number, got '$LEADS'"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "PAYLOAD_REF_PORT must be a port number, got '$PORT'"

WORK="${PAYLOAD_REF_WORKDIR:-}"
if [ -z "$WORK" ]; then
  WORK="$(mktemp -d -t payload-ref.XXXXXX)"
  touch "$WORK/.payload-ref-tempdir"
fi
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
[ "$WORK" != "$HERE" ] || die "the work dir must not be the package folder itself"
[ -w "$WORK" ] || die "work dir is not writable: $WORK"
export PAYLOAD_REF_WORKDIR="$WORK"
# The SQLite adapter creates the tables from the config ("push") only outside production.
export NODE_ENV=development
t_start=$SECONDS

if pid="$(running_pid "$WORK")"; then
  say "a server from an earlier run is still up in $WORK (pid $pid); stopping it"
  stop_server "$WORK"
fi

for f in "${FILES[@]}"; do
  rm -f "$WORK/$f"
  cp "$HERE/$f" "$WORK/$f"
  chmod u+w "$WORK/$f"
done

# 1. Dependencies: npm ci once per lockfile; a stamp in node_modules says which lockfile it holds.
lock_digest="$(digest "$WORK/package-lock.json")"
if [ -d "$WORK/node_modules" ] && [ "$(cat "$WORK/node_modules/.payload-ref-lock" 2>/dev/null)" = "$lock_digest" ]; then
  say "reusing node_modules in $WORK"
else
  say "npm ci in $WORK (log: npm-ci.log) ..."
  t0=$SECONDS
  if ! (cd "$WORK" && npm ci --no-audit --no-fund) >"$WORK/npm-ci.log" 2>&1; then
    tail -n 30 "$WORK/npm-ci.log" >&2
    die "npm ci failed (is the npm registry reachable?); see $WORK/npm-ci.log"
  fi
  echo "$lock_digest" >"$WORK/node_modules/.payload-ref-lock"
  say "npm ci took $((SECONDS - t0)) s"
fi

# 2. Data: seed once per (lead count, seed/config/fields/lockfile contents) into a snapshot, then start
#    every run from a fresh copy of it, so earlier test writes never leak into the next run.
seed_digest="$(digest "$WORK/seed.mjs" "$WORK/payload.config.mjs" "$WORK/leads-fields.json" "$WORK/package-lock.json")"
snapshot="$WORK/seed-$LEADS-$seed_digest.db"
if [ -f "$snapshot" ] && [ -f "$WORK/key.txt" ]; then
  say "reusing seeded data $(basename "$snapshot")"
else
  rm -f "$WORK"/seed-*.db "$WORK"/seed-*.db.tmp*
  say "seeding $LEADS leads (log: seed.log) ..."
  t0=$SECONDS
  if ! (cd "$WORK" && PAYLOAD_DB_FILE="$snapshot.tmp" node seed.mjs "$LEADS") >"$WORK/seed.log" 2>&1; then
    tail -n 30 "$WORK/seed.log" >&2
    die "seeding failed; see $WORK/seed.log"
  fi
  mv "$snapshot.tmp" "$snapshot"
  say "seeding took $((SECONDS - t0)) s"
fi
rm -f "$WORK/payload.db" "$WORK/payload.db-journal" "$WORK/payload.db-wal" "$WORK/payload.db-shm"
cp "$snapshot" "$WORK/payload.db"

# 3. Server, in the background; it writes its actual port to server.port once listening.
rm -f "$WORK/server.port" "$WORK/server.port.tmp"
cd "$WORK"
PORT="$PORT" HOST=127.0.0.1 PAYLOAD_REF_READY_FILE="$WORK/server.port" \
  nohup node server.mjs >"$WORK/server.log" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$WORK/server.pid"
for _ in $(seq 1 600); do
  [ -f "$WORK/server.port" ] && break
  if ! kill -0 "$PID" 2>/dev/null; then
    tail -n 20 "$WORK/server.log" >&2
    rm -f "$WORK/server.pid"
    die "server exited during startup (port $PORT taken?); see $WORK/server.log"
  fi
  sleep 0.1
done
if [ ! -f "$WORK/server.port" ]; then
  stop_server "$WORK"
  die "server did not start listening within 60 s; see $WORK/server.log"
fi
URL="http://127.0.0.1:$(cat "$WORK/server.port")/api"
KEY="$(cat "$WORK/key.txt")"

# One authenticated request, to be sure the API answers with the seeded data.
if ! node -e 'const [url, auth, n] = process.argv.slice(1)
fetch(url + "/leads/count", { headers: { Authorization: auth } })
  .then(async (r) => {
    const body = await r.text()
    if (r.status !== 200 || JSON.parse(body).totalDocs !== Number(n)) {
      console.error(`GET /leads/count: HTTP ${r.status} ${body}`)
      process.exit(1)
    }
  })
  .catch((e) => { console.error(String(e)); process.exit(1) })' "$URL" "users API-Key $KEY" "$LEADS"; then
  stop_server "$WORK"
  die "server started but did not answer as expected; see $WORK/server.log"
fi

say "ready in $((SECONDS - t_start)) s: $URL (pid $PID, work dir $WORK; stop: run.sh stop $WORK)"
printf 'PAYLOAD_REF_URL=%s\nPAYLOAD_REF_KEY=users API-Key %s\nPAYLOAD_REF_PID=%s\n' "$URL" "$KEY" "$PID"
