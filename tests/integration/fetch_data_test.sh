#!/usr/bin/env bash
# fetch_data_test.sh SHARED_DATA_DIR -- test scripts/fetch-data against a local HTTP server.
#
# SHARED_DATA_DIR holds the real codepo_gb.zip and uk_os_OSTN15_NTv2_OSGBtoETRS.tif. A small
# python server on 127.0.0.1 (ephemeral port) stands in for the OS Downloads API and the PROJ
# CDN, so the test needs no internet; it also serves the broken answers a real network gives:
# a redirect, a 404, a cut-off transfer, an HTML page instead of the file. Prints one line
# per check and finally "N passed, M failed"; exits non-zero if any check failed.
set -uo pipefail

shared=${1:?usage: $0 SHARED_DATA_DIR}
readonly ZIP=codepo_gb.zip GRID=uk_os_OSTN15_NTv2_OSGBtoETRS.tif
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
fetch=$repo/scripts/fetch-data

passed=0 failed=0
check() {  # check LABEL COMMAND...: run COMMAND, count it as passed if it succeeds
    local label=$1; shift
    if "$@"; then echo "ok   - $label"; passed=$((passed + 1))
    else echo "FAIL - $label"; failed=$((failed + 1)); fi
}
summary() { echo "$passed passed, $failed failed"; }

for f in "$ZIP" "$GRID"; do
    if [[ ! -f $shared/$f ]]; then
        echo "FAIL - $shared/$f is missing (give the directory holding the real data files)"
        failed=1; summary; exit 1
    fi
done

# The loopback server must not be reached through a proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

work=$(mktemp -d "${TMPDIR:-/tmp}/fetch_data_test.XXXXXX")
server_pid=
cleanup() {
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the server's files ---------------------------------------------------------------------
www=$work/www
mkdir -p "$www"
ln -s "$(cd "$shared" && pwd -P)/$ZIP" "$www/$ZIP"
ln -s "$(cd "$shared" && pwd -P)/$GRID" "$www/$GRID"
echo '<html><body>Service unavailable</body></html>' >"$www/page.html"  # a captive portal, say
head -c 1000 "$shared/$GRID" >"$www/tiny.tif"                          # TIFF header, far too short
python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z: z.writestr("readme.txt", "not Code-Point\n")' \
    "$www/unrelated.zip"

# /redirect/NAME?... answers 302 to /NAME, as the OS API redirects to its download host.
# /truncated/NAME promises the whole of NAME in Content-Length, sends half and hangs up.
# Anything else is a plain file (with Content-Length) or a 404. Requests go to server.log.
cat >"$work/server.py" <<'EOF'
import functools, http.server, os, sys

root, port_file = sys.argv[1], sys.argv[2]

class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", "/" + path[len("/redirect/"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path.startswith("/truncated/"):
            with open(os.path.join(root, path[len("/truncated/"):]), "rb") as f:
                data = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
        else:
            super().do_GET()

server = http.server.ThreadingHTTPServer(
    ("127.0.0.1", 0), functools.partial(Handler, directory=root))
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)  # the test waits for this file: write it whole
server.serve_forever()
EOF
python3 "$work/server.py" "$www" "$work/port" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
if [[ ! -s $work/port ]]; then
    echo "FAIL - the local HTTP server did not start:"; cat "$work/server.log"
    failed=1; summary; exit 1
fi
base=http://127.0.0.1:$(cat "$work/port")
# A port nobody listens on: bind one, then let it go.
dead_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dead=http://127.0.0.1:$dead_port

# ---- helpers ----------------------------------------------------------------------------------
# run DEST ZIP_URL GRID_URL [VAR=VALUE...]: run fetch-data, bounded in time; sets $rc,
# output in $work/out and $work/err.
run() {
    local dest=$1 zip_url=$2 grid_url=$3; shift 3
    rc=0
    env HLOC_CODEPOINT_URL="$zip_url" HLOC_GRID_URL="$grid_url" "$@" \
        timeout 120 bash "$fetch" "$dest" >"$work/out" 2>"$work/err" || rc=$?
}
gets() { grep -c '"GET ' "$work/server.log"; }
# holds_only DIR NAME...: DIR holds exactly these names (so no partial or temporary files).
holds_only() {
    local dir=$1; shift
    [[ "$(find "$dir" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)" == "$(printf '%s\n' "$@" | sed '/^$/d' | sort)" ]]
}
advises() {  # the offline advice: both real URLs, where to put the files
    grep -qF 'https://api.os.uk/downloads/v1/products/CodePointOpen/downloads?area=GB&format=CSV&redirect' "$work/err" &&
        grep -qF "https://cdn.proj.org/$GRID" "$work/err" &&
        grep -qF -- '--data DIR' "$work/err" && grep -qF 'HLOC_DATA' "$work/err"
}
same() { cmp -s "$1" "$2"; }
failed_run() { [[ $rc -ne 0 && $rc -ne 124 ]]; }  # 124: timeout killed it, i.e. it hung

# expect_failure LABEL DEST BAD_FILE [GOOD_FILE]: the run failed properly for BAD_FILE.
expect_failure() {
    local label=$1 dest=$2 bad=$3 good=${4:-} failed_before=$failed
    check "$label: exits non-zero (rc=$rc)" failed_run
    check "$label: no $bad and no temporary files left" holds_only "$dest" "$good"
    check "$label: stderr names $bad" grep -qF "$bad" "$work/err"
    check "$label: stderr gives the offline advice" advises
    if [[ -n $good ]]; then check "$label: $good still fetched" same "$dest/$good" "$shared/$good"; fi
    if [[ $failed -gt $failed_before ]]; then sed 's/^/    | /' "$work/err"; fi
}

# ---- a fresh download, through a redirect like the OS API's ---------------------------------
zip_url="$base/redirect/$ZIP?area=GB&format=CSV&redirect"
grid_url=$base/$GRID
check "fetch-data is executable" test -x "$fetch"

d=$work/fresh
run "$d" "$zip_url" "$grid_url"
check "fresh: exits 0 (rc=$rc)" test "$rc" -eq 0
check "fresh: $ZIP identical to the original" same "$d/$ZIP" "$shared/$ZIP"
check "fresh: $GRID identical to the original" same "$d/$GRID" "$shared/$GRID"
check "fresh: no temporary files left" holds_only "$d" "$ZIP" "$GRID"
check "fresh: followed the redirect" grep -qF "\"GET /$ZIP " "$work/server.log"
[[ $rc -eq 0 ]] || sed 's/^/    | /' "$work/err"

# ---- again: both files are there and valid, so nothing is downloaded -------------------------
before=$(gets) mtimes=$(stat -c %y "$d/$ZIP" "$d/$GRID")
run "$d" "$zip_url" "$grid_url"
check "again: exits 0 (rc=$rc)" test "$rc" -eq 0
check "again: no request to the server" test "$(gets)" -eq "$before"
check "again: files untouched" test "$(stat -c %y "$d/$ZIP" "$d/$GRID")" == "$mtimes"

# ---- a broken file already in place is replaced ----------------------------------------------
d=$work/replace
mkdir -p "$d" && cp "$shared/$GRID" "$d/" && head -c 5000 "$shared/$ZIP" >"$d/$ZIP"
before=$(gets)
run "$d" "$zip_url" "$grid_url"
check "replace: exits 0 (rc=$rc)" test "$rc" -eq 0
check "replace: broken $ZIP replaced by the original" same "$d/$ZIP" "$shared/$ZIP"
check "replace: only the zip fetched (redirect + file)" test "$(gets)" -eq $((before + 2))
check "replace: no temporary files left" holds_only "$d" "$ZIP" "$GRID"

# ---- failures: each leaves no file under the final name and says what to do offline ---------
d=$work/down
run "$d" "$dead/$ZIP" "$dead/$GRID"
expect_failure "server down" "$d" "$ZIP"
check "server down: stderr names $GRID too" grep -qF "$GRID" "$work/err"

d=$work/truncated
run "$d" "$zip_url" "$base/truncated/$GRID"
expect_failure "truncated grid" "$d" "$GRID" "$ZIP"

d=$work/short
run "$d" "$zip_url" "$base/tiny.tif"
expect_failure "grid below minimum size" "$d" "$GRID" "$ZIP"

d=$work/html
run "$d" "$zip_url" "$base/page.html" HLOC_GRID_MIN_BYTES=10
expect_failure "HTML page as grid" "$d" "$GRID" "$ZIP"
check "HTML page as grid: says it is not a TIFF" grep -qF "not a TIFF" "$work/err"

d=$work/layout
run "$d" "$base/unrelated.zip" "$grid_url"
expect_failure "zip not in Code-Point layout" "$d" "$ZIP" "$GRID"
check "zip not in Code-Point layout: says so" grep -qF "not Code-Point Open" "$work/err"

d=$work/notzip
run "$d" "$base/page.html" "$grid_url"
expect_failure "HTML page as zip" "$d" "$ZIP" "$GRID"

d=$work/404
run "$d" "$base/redirect/missing.zip" "$grid_url"
expect_failure "HTTP 404" "$d" "$ZIP" "$GRID"
check "HTTP 404: curl's error shown" grep -qF "404" "$work/err"

summary
[[ $failed -eq 0 ]]
