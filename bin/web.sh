# The station map page (/map): sourced by bin/run and bin/test after bin/lib.sh and install_python_env.
#   install_web_env   maplibre-gl from npm into web/node_modules (`npm ci`, only when web/package-lock.json
#                     changes), and the basemap: Debian's gmt-dcw (province outlines, LGPL-3+) via apt-get
#                     when missing, simplified by `python -m geo.basemap` into var/basemap/provinces.geojson
#                     when that file is missing or older than geo/basemap.py
#   install_browser   chromium, chromium-driver and a CJK font (fonts-wqy-microhei, so that the screenshots
#                     show the page's Chinese) for the browser test, via apt-get when missing

WEB_PROJECT="$ROOT/web"
DCW_FILE="/usr/share/gmt-dcw/dcw-gmt.nc"
BASEMAP_FILE="$ROOT/var/basemap/provinces.geojson"

install_web_env() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    local stamp="$WEB_PROJECT/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || [ "$WEB_PROJECT/package-lock.json" -nt "$stamp" ]; then
        log "npm ci in web/ (maplibre-gl for the map page)"
        (cd "$WEB_PROJECT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in web/ failed"
    fi
    [ -f "$DCW_FILE" ] || apt_install gmt-dcw
    if [ ! -f "$BASEMAP_FILE" ] || [ "$ROOT/geo/basemap.py" -nt "$BASEMAP_FILE" ]; then
        log "python -m geo.basemap (province outlines for the map page)"
        (cd "$ROOT" && "$VENV_PY" -m geo.basemap --dcw "$DCW_FILE" --out "$BASEMAP_FILE") \
            || die "python -m geo.basemap failed"
    fi
}

install_browser() {
    if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
        apt_install chromium chromium-driver
    fi
    [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || apt_install fonts-wqy-microhei
}
