# Node.js for the generated-client contract test (tests/contract/test_typescript_client.py).
# Sourced by bin/test after bin/lib.sh: `install_node_env` installs nodejs and npm with apt-get when
# `node` is missing (apt_install, as for PostGIS), then the pinned devDependencies of tests/contract/ts
# (package-lock.json) with `npm ci`, again only when that lock changes.

NODE_PROJECT="${NODE_PROJECT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/contract/ts}"

install_node_env() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    local stamp="$NODE_PROJECT/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || [ "$NODE_PROJECT/package-lock.json" -nt "$stamp" ]; then
        log "npm ci in ${NODE_PROJECT#"$ROOT"/} (the generated-client contract test)"
        (cd "$NODE_PROJECT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
    fi
}
