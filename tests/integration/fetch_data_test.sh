#!/usr/bin/env bash
# fetch_data_test.sh SHARED_DATA_DIR -- test scripts/fetch-data against a local HTTP server.
#
# SHARED_DATA_DIR holds the real codepo_gb.zip and uk_os_OSTN15_NTv2_OSGBtoETRS.tif. A small
# python server on 127.0.0.1 (ephemeral port) stands in for the OS Downloads API and the PROJ
# CDN, so the test needs no internet; it also serves the broken answers a real network gives:
# a redirect, a 404, a cut-off transfer, an HTML page instead of the file. The ONSPD (fetched
# only with --onspd) is stood in for by a small invented zip in its layout, served the same way
# and also given as a local file and a file:// URL. Prints one line per check and finally
# "N passed, M failed"; exits non-zero if any check failed.
set -uo pipefail

shared=${1:?usage: $0 SHARED_DATA_DIR}
readonly ZIP=codepo_gb.zip GRID=uk_os_OSTN15_NTv2_OSGBtoETRS.tif ONSPD=ONSPD_UK.zip
readonly ONSPD_SEARCH=https://geoportal.statistics.gov.uk/search?q=PRD_ONSPD
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

# A stand-in for the ONSPD: invented rows in its layout (one UK CSV under Data/, area CSVs under
# Data/multi_csv/, documents beside them). Its rows: a live and a terminated GB postcode, a
# Northern Ireland one, and a Jersey one without a grid reference (osgrdind 9). Also broken
# variants: only the area CSVs, a column misnamed, and one with a byte of the UK CSV changed
# (its CRC then fails, though the transfer itself is whole).
python3 - "$www" <<'EOF'
import sys, zipfile
www = sys.argv[1]
header = '"pcd","pcd2","pcds","dointr","doterm","oseast1m","osnrth1m","osgrdind","ctry","lat","long"\n'
rows = [
    '"ZZ1 1AA","ZZ1  1AA","ZZ1 1AA","198001","","530001","180002","1","E92000001",51.500011,-0.120022\n',
    '"ZZ1 1AB","ZZ1  1AB","ZZ1 1AB","198001","200312","530101","180102","1","E92000001",51.500911,-0.118522\n',
    '"ZZ9 9ZZ","ZZ9  9ZZ","ZZ9 9ZZ","199506","","257003","356004","1","E92000001",53.057733,-4.088844\n',
    '"BT991AA","BT99 1AA","BT99 1AA","200101","","333005","374006","1","N92000002",54.597755,-5.930166\n',
    '"JE991AA","JE99 1AA","JE99 1AA","200101","","","","9","L93000001",99.999999,0.000000\n',
]
uk, area = "Data/ONSPD_NOV_2026_UK.csv", "Data/multi_csv/ONSPD_NOV_2026_UK_ZZ.csv"
docs = {"Documents/readme.txt": "An invented ONSPD for tests.\n",
        "User Guide/guide.txt": "Nothing here.\n"}
def write(path, members, method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", method) as z:
        for name, text in members.items():
            z.writestr(name, text)
write(www + "/onspd.zip", {uk: header + "".join(rows), area: header + "".join(rows[:3]), **docs})
write(www + "/onspd_areas.zip", {area: header + "".join(rows[:3]), **docs})
write(www + "/onspd_columns.zip", {uk: header.replace('"doterm"', '"dotrm"') + "".join(rows), **docs})
write(www + "/onspd_crc.zip", {uk: header + "".join(rows), **docs}, zipfile.ZIP_STORED)
with open(www + "/onspd_crc.zip", "r+b") as f:
    data = f.read()
    at = data.index(b"53.057733")  # only in the UK CSV's stored bytes
    f.seek(at)
    f.write(b"54")
EOF

# /redirect/NAME?... answers 302 to /NAME, as the OS API redirects to its download host.
# /truncated/NAME promises the whole of NAME in Content-Length, sends half and hangs up.
# /stall/NAME promises the whole of NAME, sends half, then sends nothing more for 30 s.
# Anything else is a plain file (with Content-Length) or a 404. Requests go to server.log.
cat >"$work/server.py" <<'EOF'
import functools, http.server, os, sys, time

root, port_file = sys.argv[1], sys.argv[2]

class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", "/" + path[len("/redirect/"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path.startswith(("/truncated/", "/stall/")):
            with open(os.path.join(root, path.split("/", 2)[2]), "rb") as f:
                data = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            if path.startswith("/stall/"):
                time.sleep(30)
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
# run DEST ZIP_URL GRID_URL [VAR=VALUE...]: run fetch-data with the options in $opts (none
# unless set), bounded in time; sets $rc, output in $work/out and $work/err.
opts=()
run() {
    local dest=$1 zip_url=$2 grid_url=$3; shift 3
    rc=0
    env HLOC_CODEPOINT_URL="$zip_url" HLOC_GRID_URL="$grid_url" "$@" \
        timeout 120 bash "$fetch" "${opts[@]}" "$dest" >"$work/out" 2>"$work/err" || rc=$?
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
not() { ! "$@"; }
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
check "fresh: no ONSPD request without --onspd" not grep -qi onspd "$work/server.log"
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

# ---- the ONSPD, only when asked for ----------------------------------------------------------
# Each run below starts from a directory already holding the two usual files (links to the
# originals), so that only the ONSPD is at stake. The stand-in has 5 rows: the real minimum
# (2,000,000) is lowered, except where the test is about it.
shared_abs=$(cd "$shared" && pwd -P)
seeded() { mkdir -p "$1" && ln -s "$shared_abs/$ZIP" "$shared_abs/$GRID" "$1/"; }
few=HLOC_ONSPD_MIN_ROWS=3
onspd_url="$base/redirect/onspd.zip"
# expect_onspd_failure LABEL DEST: the run failed properly for the ONSPD.
expect_onspd_failure() {
    local label=$1 dest=$2 failed_before=$failed
    check "$label: exits non-zero (rc=$rc)" failed_run
    check "$label: no $ONSPD and no temporary files left" holds_only "$dest" "$ZIP" "$GRID"
    check "$label: stderr names $ONSPD" grep -qF "$ONSPD: " "$work/err"
    check "$label: stderr gives the offline advice, ONSPD included" \
        eval 'advises && grep -qF "$ONSPD_SEARCH" "$work/err"'
    if [[ $failed -gt $failed_before ]]; then sed 's/^/    | /' "$work/err"; fi
}

d=$work/env-only
seeded "$d"
before=$(gets)
run "$d" "$zip_url" "$grid_url" HLOC_ONSPD_URL="$onspd_url" $few
check "HLOC_ONSPD_URL alone: exits 0 (rc=$rc)" test "$rc" -eq 0
check "HLOC_ONSPD_URL alone: no ONSPD fetched" test "$(gets)" -eq "$before"
check "HLOC_ONSPD_URL alone: no $ONSPD" holds_only "$d" "$ZIP" "$GRID"

d=$work/onspd
seeded "$d"
before=$(gets)
opts=(--onspd-url "$onspd_url")
run "$d" "$zip_url" "$grid_url" $few
check "ONSPD fresh: exits 0 (rc=$rc)" test "$rc" -eq 0
check "ONSPD fresh: $ONSPD identical to the served zip" same "$d/$ONSPD" "$www/onspd.zip"
check "ONSPD fresh: no temporary files left" holds_only "$d" "$ZIP" "$GRID" "$ONSPD"
check "ONSPD fresh: only the ONSPD fetched (redirect + file)" test "$(gets)" -eq $((before + 2))
check "ONSPD fresh: names the release's CSV and its rows" \
    grep -qF "Data/ONSPD_NOV_2026_UK.csv, 5 rows" "$work/out"
check "ONSPD fresh: states the Northern Ireland terms" grep -qF "Northern Ireland" "$work/out"
[[ $rc -eq 0 ]] || sed 's/^/    | /' "$work/err"

before=$(gets) mtime=$(stat -c %y "$d/$ONSPD")
opts=(--onspd)
run "$d" "$zip_url" "$grid_url" $few
check "ONSPD again (--onspd, no URL): exits 0 (rc=$rc)" test "$rc" -eq 0
check "ONSPD again: no request to the server" test "$(gets)" -eq "$before"
check "ONSPD again: file untouched" test "$(stat -c %y "$d/$ONSPD")" == "$mtime"
check "ONSPD again: says present and valid" grep -qF "$ONSPD: present and valid" "$work/out"

d=$work/onspd-env
seeded "$d"
opts=(--onspd)
run "$d" "$zip_url" "$grid_url" HLOC_ONSPD_URL="$base/onspd.zip" $few
check "ONSPD from HLOC_ONSPD_URL with --onspd: exits 0 (rc=$rc)" test "$rc" -eq 0
check "ONSPD from HLOC_ONSPD_URL with --onspd: fetched" same "$d/$ONSPD" "$www/onspd.zip"

d=$work/onspd-file
seeded "$d"
before=$(gets)
opts=("--onspd-url=$www/onspd.zip")
run "$d" "$zip_url" "$grid_url" $few
check "ONSPD from a local file: exits 0 (rc=$rc)" test "$rc" -eq 0
check "ONSPD from a local file: copied" same "$d/$ONSPD" "$www/onspd.zip"
check "ONSPD from a local file: no temporary files left" holds_only "$d" "$ZIP" "$GRID" "$ONSPD"
check "ONSPD from a local file: no request to the server" test "$(gets)" -eq "$before"

d=$work/onspd-fileurl
seeded "$d"
opts=(--onspd-url "file://$www/onspd.zip")
run "$d" "$zip_url" "$grid_url" $few
check "ONSPD from a file:// URL: exits 0 (rc=$rc)" test "$rc" -eq 0
check "ONSPD from a file:// URL: fetched" same "$d/$ONSPD" "$www/onspd.zip"
check "ONSPD from a file:// URL: no temporary files left" holds_only "$d" "$ZIP" "$GRID" "$ONSPD"
[[ $rc -eq 0 ]] || sed 's/^/    | /' "$work/err"

d=$work/onspd-replace
seeded "$d"
head -c 300 "$www/onspd.zip" >"$d/$ONSPD"
opts=(--onspd-url "$onspd_url")
run "$d" "$zip_url" "$grid_url" $few
check "ONSPD broken in place: exits 0 (rc=$rc)" test "$rc" -eq 0
check "ONSPD broken in place: replaced" same "$d/$ONSPD" "$www/onspd.zip"

# Failures: no ONSPD_UK.zip and no temporary file may be left, whatever went wrong.
d=$work/onspd-nourl
seeded "$d"
opts=(--onspd)
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "ONSPD without a URL" "$d"
check "ONSPD without a URL: says how to find one" \
    eval 'grep -qF -- "--onspd-url" "$work/err" && grep -qF "$ONSPD_SEARCH" "$work/err"'

d=$work/onspd-truncated
seeded "$d"
opts=(--onspd-url "$base/truncated/onspd.zip")
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "ONSPD cut off" "$d"

d=$work/onspd-404
seeded "$d"
opts=(--onspd-url "$base/redirect/ONSPD_MAY_2026.zip")
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "ONSPD HTTP 404" "$d"
check "ONSPD HTTP 404: curl's error shown" grep -qF "404" "$work/err"

d=$work/onspd-down
seeded "$d"
opts=(--onspd-url "$dead/onspd.zip")
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "ONSPD server down" "$d"

d=$work/onspd-html
seeded "$d"
opts=(--onspd-url "$base/page.html")
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "HTML page as ONSPD" "$d"
check "HTML page as ONSPD: says it is not a zip" grep -qF "not a readable zip" "$work/err"

d=$work/onspd-unrelated
seeded "$d"
opts=(--onspd-url "$base/unrelated.zip")
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "another zip as ONSPD" "$d"
check "another zip as ONSPD: says it is not the ONSPD" grep -qF "not the ONSPD" "$work/err"

d=$work/onspd-areas
seeded "$d"
opts=(--onspd-url "$base/onspd_areas.zip")
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "ONSPD without its UK CSV" "$d"
check "ONSPD without its UK CSV: says so" grep -qF "Data/ONSPD_<MON>_<YEAR>_UK.csv" "$work/err"

d=$work/onspd-columns
seeded "$d"
opts=(--onspd-url "$base/onspd_columns.zip")
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "ONSPD without a column the builder reads" "$d"
check "ONSPD without a column the builder reads: names it" \
    grep -qF "has no column doterm" "$work/err"

d=$work/onspd-crc
seeded "$d"
opts=(--onspd-url "$base/onspd_crc.zip")
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "ONSPD with a bad CRC" "$d"
check "ONSPD with a bad CRC: says corrupt" grep -qF "corrupt zip" "$work/err"

d=$work/onspd-rows
seeded "$d"
opts=(--onspd-url "$onspd_url")
run "$d" "$zip_url" "$grid_url"
expect_onspd_failure "ONSPD below the real minimum of rows" "$d"
check "ONSPD below the real minimum of rows: says so" \
    grep -qF "has only 5 rows, expected at least 2000000" "$work/err"

d=$work/onspd-nofile
seeded "$d"
opts=(--onspd-url "$work/no-such-onspd.zip")
run "$d" "$zip_url" "$grid_url" $few
expect_onspd_failure "ONSPD local file missing" "$d"

# Killed half way through the transfer, the whole process group at once as by Ctrl-C (SIGTERM:
# a background job ignores SIGINT): the temporary file must go too.
d=$work/onspd-interrupted
seeded "$d"
env HLOC_CODEPOINT_URL="$zip_url" HLOC_GRID_URL="$grid_url" $few \
    setsid bash "$fetch" --onspd-url "$base/stall/onspd.zip" "$d" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do
    grep -qF '"GET /stall/onspd.zip ' "$work/server.log" && break
    sleep 0.1
done
sleep 0.5  # let the first half arrive
part=$(find "$d" -name ".$ONSPD.*.part")
check "ONSPD interrupted: the transfer had started" test -n "$part"
kill -TERM -- "-$pid" 2>/dev/null
rc=0; wait "$pid" || rc=$?
check "ONSPD interrupted: exits non-zero (rc=$rc)" test "$rc" -ne 0
check "ONSPD interrupted: no $ONSPD and no temporary files left" holds_only "$d" "$ZIP" "$GRID"
opts=()

summary
[[ $failed -eq 0 ]]
