# Shared shell functions for bin/run and bin/test (sourced, not executed).
#
# What they do, in order of use:
#   install_python_env     python3 + venv in .venv, `pip install -e '.[dev]'` at the versions of requirements.lock,
#                          re-done when pyproject.toml or the lock changes
#   install_postgis        PostgreSQL + PostGIS via apt-get, skipped when postgis.control already exists
#   cluster_start          project-local cluster in .pg/ (data, run, log), started only if not running
#   cluster_stop_if_started
#   db_create / db_drop    through psycopg2 from the venv, so no psql is needed
#
# Globals they set: ROOT, VENV, PG_BIN, PG_USER, PG_PORT, CLUSTER_STARTED (1 when this process started it).

# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VENV_PY="$VENV/bin/python"
LOCK_FILE="$ROOT/requirements.lock"
PG_DIR="$ROOT/.pg"
PG_DATA="$PG_DIR/data"
PG_RUN="$PG_DIR/run"
PG_LOG_DIR="$PG_DIR/log"
PG_LOG="$PG_LOG_DIR/postgresql.log"
PG_PORT="${STATIONS_PG_PORT:-55432}"
PG_SUPERUSER="stations"
CLUSTER_STARTED=0
_APT_UPDATED=0

log() { printf '\033[1m[stations]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[stations] error:\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root for: $* (run as root or install sudo)"
    fi
}

apt_update_once() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install the packages by hand (this script knows Debian/Ubuntu)"
    if [ "$_APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed"
        _APT_UPDATED=1
    fi
}

apt_install() {
    apt_update_once
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 \
        || die "apt-get install $* failed"
}

# ---------------------------------------------------------------------------------------------------
# Python

# pip, quiet, without the per-package warnings a machine-wide find-links to a missing folder causes.
_pip() {
    "$VENV_PY" -m pip -q --disable-pip-version-check "$@" 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
    return "${PIPESTATUS[0]}"
}

install_python_env() {
    if ! command -v python3 >/dev/null 2>&1; then
        apt_install python3 python3-venv
    fi
    if [ ! -x "$VENV_PY" ] || ! "$VENV_PY" -m pip --version >/dev/null 2>&1; then
        log "creating the virtualenv in .venv"
        rm -rf "$VENV"
        if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
            rm -rf "$VENV"
            local pyver
            pyver="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            # Debian splits ensurepip out of python3; the versioned package exists on every release.
            apt_install python3-venv "python${pyver}-venv"
            python3 -m venv "$VENV" || die "python3 -m venv failed even after installing python3-venv"
        fi
    fi
    # Exact versions from the committed lock (requirements.lock, refreshed by bin/lock). PIP_CONSTRAINT
    # also reaches pip's isolated build environments, so the build backend is locked too.
    local stamp="$VENV/.stations-install.sha256" want
    want="$(cat "$ROOT/pyproject.toml" "$LOCK_FILE" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        log "installing Python packages into .venv from requirements.lock (pip install -e '.[dev]')"
        PIP_CONSTRAINT="$LOCK_FILE" _pip install pip setuptools wheel || die "pip install of pip/setuptools failed"
        (cd "$ROOT" && PIP_CONSTRAINT="$LOCK_FILE" _pip install -e '.[dev]') || die "pip install -e '.[dev]' failed"
        check_lock_matches || die "the virtualenv differs from requirements.lock (see above): run bin/lock"
        printf '%s\n' "$want" >"$stamp"
    fi
}

# Every installed distribution (but the project itself) is in the lock at its locked version, and
# nothing the lock names is missing: a dependency added to pyproject.toml without bin/lock fails here.
check_lock_matches() {
    "$VENV_PY" - "$LOCK_FILE" <<'PY'
import sys
from importlib import metadata

def norm(name):
    return name.lower().replace("_", "-").replace(".", "-")

locked = {}
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if line:
        name, _, version = line.partition("==")
        locked[norm(name)] = version
installed = {norm(d.metadata["Name"]): d.version for d in metadata.distributions()}
installed.pop("stations-service", None)
bad = [f"{n}: installed {installed.get(n)}, locked {locked.get(n)}"
       for n in sorted(set(locked) | set(installed)) if installed.get(n) != locked.get(n)]
for line in bad:
    print("  " + line, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# ---------------------------------------------------------------------------------------------------
# PostgreSQL + PostGIS binaries

# Highest installed major that has both the server binaries and PostGIS; empty when there is none.
_installed_pg_major() {
    local ctl major best=""
    for ctl in /usr/share/postgresql/*/extension/postgis.control; do
        [ -e "$ctl" ] || continue
        major="$(basename "$(dirname "$(dirname "$ctl")")")"
        if [ -x "/usr/lib/postgresql/$major/bin/initdb" ]; then
            if [ -z "$best" ] || [ "$major" -gt "$best" ] 2>/dev/null; then best="$major"; fi
        fi
    done
    printf '%s' "$best"
}

# Sets PG_BIN to a directory holding initdb, pg_ctl and postgres, with PostGIS available to that server.
_find_pg_bin() {
    local major bindir
    major="$(_installed_pg_major)"
    if [ -n "$major" ]; then
        PG_BIN="/usr/lib/postgresql/$major/bin"
        return 0
    fi
    # Non-Debian layouts: trust pg_config when its share dir has PostGIS.
    if command -v pg_config >/dev/null 2>&1; then
        bindir="$(pg_config --bindir 2>/dev/null)"
        if [ -x "$bindir/initdb" ] && [ -e "$(pg_config --sharedir)/extension/postgis.control" ]; then
            PG_BIN="$bindir"
            return 0
        fi
    fi
    return 1
}

install_postgis() {
    _find_pg_bin && return 0
    local major=""
    # A server without PostGIS: add PostGIS for that major. Otherwise the distro's default major.
    for d in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$d" ] && major="$(basename "$(dirname "$(dirname "$d")")")"
    done
    if [ -z "$major" ]; then
        apt_update_once
        major="$(apt-cache depends postgresql 2>/dev/null | grep -oE 'postgresql-[0-9]+' | head -n1 | cut -d- -f2)"
        [ -n "$major" ] || die "cannot tell which PostgreSQL major this distribution ships (apt-cache depends postgresql)"
    fi
    apt_install postgresql "postgresql-$major-postgis-3"
    _find_pg_bin || die "PostGIS still not found after installing postgresql-$major-postgis-3"
}

# ---------------------------------------------------------------------------------------------------
# The project-local cluster

# The unprivileged user that owns and runs the cluster (PostgreSQL refuses to run as root).
_choose_pg_user() {
    if ! is_root; then
        PG_USER="$(id -un)"
        return
    fi
    if id postgres >/dev/null 2>&1; then
        PG_USER="postgres"
    else
        PG_USER="stations-pg"
        if ! id "$PG_USER" >/dev/null 2>&1; then
            log "creating system user $PG_USER to run PostgreSQL"
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER" \
                || die "useradd $PG_USER failed"
        fi
    fi
}

# Run a command as the cluster's user, from inside .pg so that its working directory is readable.
as_pg() {
    if is_root; then
        (cd "$PG_DIR" && runuser -u "$PG_USER" -- "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

_pg_running() { as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1; }

# Port of the running cluster, from postmaster.pid (line 4), so a cluster started earlier on another
# STATIONS_PG_PORT is still found.
_running_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null; }

_prepare_pg_dir() {
    _choose_pg_user
    mkdir -p "$PG_DATA" "$PG_RUN" "$PG_LOG_DIR"
    if is_root; then
        chown -R "$PG_USER" "$PG_DIR"
        if ! runuser -u "$PG_USER" -- test -x "$PG_DIR" -a -w "$PG_DIR"; then
            die "user '$PG_USER' cannot reach $PG_DIR: every parent folder of $ROOT must be searchable by it (chmod o+x), or move the project"
        fi
    fi
    chmod 700 "$PG_DATA"
}

_initdb() {
    log "initdb: new cluster in .pg/data (superuser $PG_SUPERUSER, trust auth, run by $PG_USER)"
    local locale="C.UTF-8"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" --auth=trust -E UTF8 --locale="$locale" \
        >"$PG_LOG_DIR/initdb.log" 2>&1; then
        log "initdb with locale C.UTF-8 failed; retrying with locale C"
        as_pg find "$PG_DATA" -mindepth 1 -delete 2>/dev/null || true
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" --auth=trust -E UTF8 --locale=C \
            >"$PG_LOG_DIR/initdb.log" 2>&1 || { cat "$PG_LOG_DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    # Unix sockets have a ~107-byte path limit; deep checkouts use TCP only.
    local sockdir="$PG_RUN"
    [ "${#PG_RUN}" -gt 90 ] && sockdir=""
    as_pg sh -c "cat >>'$PG_DATA/postgresql.conf'" <<EOF

# --- added by bin/lib.sh (project-local cluster) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
max_connections = 200
shared_buffers = 256MB
effective_cache_size = 1GB
work_mem = 16MB
maintenance_work_mem = 256MB
log_min_duration_statement = 1000
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

# cluster_start [extra postgres -c options...]: init if needed, start if not running.
# Sets PG_PORT to the port the cluster listens on and CLUSTER_STARTED=1 when this call started it.
cluster_start() {
    install_postgis
    _prepare_pg_dir
    # Several commands may share one checkout's cluster: serialise init and start.
    exec 9>"$PG_DIR/.lock"
    flock 9
    [ -f "$PG_DATA/PG_VERSION" ] || _initdb
    if _pg_running; then
        PG_PORT="$(_running_port)"
        log "reusing the running cluster in .pg (port $PG_PORT)"
        flock -u 9
        exec 9>&-
        return 0
    fi
    local opts="-p $PG_PORT" o
    for o in "$@"; do opts="$opts -c $o"; done
    log "starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT, log in .pg/log"
    if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -o "$opts" >/dev/null 9>&-; then
        flock -u 9
        exec 9>&-
        tail -n 20 "$PG_LOG" >&2 2>/dev/null || true
        die "PostgreSQL did not start (is port $PG_PORT taken? set STATIONS_PG_PORT)"
    fi
    CLUSTER_STARTED=1
    flock -u 9
    exec 9>&-
}

# Other client connections (another bin/run or bin/test sharing this cluster); 0 when none or unknown.
_other_clients() {
    "$VENV_PY" - "$(local_url postgres)" <<'PY' 2>/dev/null || echo 0
import sys
import psycopg2
conn = psycopg2.connect(sys.argv[1], connect_timeout=5)
with conn.cursor() as cur:
    cur.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    print(cur.fetchone()[0])
conn.close()
PY
}

# Stop the cluster if this process started it, unless others are still connected to it.
cluster_stop_if_started() {
    [ "$CLUSTER_STARTED" -eq 1 ] || return 0
    CLUSTER_STARTED=0
    local others
    others="$(_other_clients)"
    if [ "${others:-0}" -gt 0 ]; then
        log "leaving the PostgreSQL cluster running: $others other connection(s) still use it"
        return 0
    fi
    log "stopping the PostgreSQL cluster this command started"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null 2>&1 \
        || log "pg_ctl stop failed; see $PG_LOG"
}

local_url() { printf 'postgresql://%s@127.0.0.1:%s/%s' "$PG_SUPERUSER" "$PG_PORT" "$1"; }

# ---------------------------------------------------------------------------------------------------
# Databases (through the venv's psycopg2: works for the local cluster and for any DATABASE_URL)

# url_with_db URL DBNAME: the same server and credentials, another database.
url_with_db() {
    "$VENV_PY" - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit
parts = urlsplit(sys.argv[1])
print(urlunsplit(parts._replace(path="/" + sys.argv[2])))
PY
}

# _db_admin SERVER_URL ACTION DBNAME  (ACTION: create-if-missing | drop)
_db_admin() {
    "$VENV_PY" - "$@" <<'PY'
import sys
import psycopg2
from psycopg2 import sql

url, action, name = sys.argv[1:4]
if url.startswith("postgresql+psycopg2://"):
    url = "postgresql://" + url[len("postgresql+psycopg2://"):]
conn = psycopg2.connect(url, connect_timeout=10)
conn.autocommit = True
with conn.cursor() as cur:
    if action == "create-if-missing":
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}", file=sys.stderr)
    elif action == "drop":
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    else:
        raise SystemExit(f"unknown action {action}")
conn.close()
PY
}

db_create() { _db_admin "$(url_with_db "$1" postgres)" create-if-missing "$2"; }
db_drop() { _db_admin "$(url_with_db "$1" postgres)" drop "$2"; }
