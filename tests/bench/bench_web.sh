#!/usr/bin/env bash
# bench_web.sh - how long the web page's pages take at the server
#
#   bash tests/bench/bench_web.sh build/wings [PERSONS]
#
# A throw-away node with PERSONS persons (default 50000, imported through
# the CLI), one clerk, `serve --http` on 127.0.0.1. Times each page over
# loopback with curl (median of 5; loopback adds well under a millisecond)
# beside the yardstick of the same run: `wings list person` through the
# same daemon. Also sums the bytes of a first load of the sign-in page.
set -euo pipefail
W=$1
N=${2:-50000}
case $W in /*) ;; *) W=$PWD/$W ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/wings-bench-web.XXXXXX")
DPID=
cleanup() {
    [[ -n $DPID ]] && { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
    rm -rf -- "$T"
}
trap cleanup EXIT
export LANG=C WINGS_TEST_KDF=1 WINGS_PASSPHRASE='Bench-7h-lotus-gate'
cd "$T"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(port)
SYNC=$(port)
"$W" --dir n init --name bench --county 450224 --kdf test \
    --listen "tcp://127.0.0.1:$SYNC" >/dev/null
python3 - "$N" >persons.csv <<'PY'
import datetime, sys
n = int(sys.argv[1])
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
print("name,gender,birth_date,id_number,disability_category,township")
for i in range(n):
    # every id_number unique: a day per thousand persons, a sequence within
    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=(i // 1000) * 97)
    body = "450224%s%03d" % (born.strftime("%Y%m%d"), i % 1000)
    c = "10X98765432"[sum(int(a) * b for a, b in zip(body, w)) % 11]
    print("人员%06d,%s,%s,%s%s,visual,长安镇" % (
        i, "male" if i % 2 else "female", born.isoformat(), body, c))
PY
"$W" --dir n import person persons.csv >/dev/null
WINGS_USER_PASSWORD=Bench-clerk-pass "$W" --dir n user add clerk >/dev/null
WINGS_USER_PASSWORD=Bench-admin-pass "$W" --dir n user add admin --role admin >/dev/null
"$W" --dir n serve --http "127.0.0.1:$HTTP" --interval 3600 >serve.log 2>&1 &
DPID=$!
for _ in $(seq 1 100); do grep -q "web page on" serve.log && break; sleep 0.1; done
B="http://127.0.0.1:$HTTP"
signin() { # JAR USER PASSWORD
    curl -s -c "$1" -b "$1" -o /dev/null "$B/signin"
    local pre
    pre=$(awk '$6 == "wings_pre" {print $7}' "$1")
    curl -s -c "$1" -b "$1" -o /dev/null --data-urlencode "csrf=$pre" \
        --data-urlencode "user=$2" --data-urlencode "password=$3" "$B/signin"
}
signin jar clerk Bench-clerk-pass
signin ajar admin Bench-admin-pass
ID=$("$W" --dir n --json list person --where "id_number=$(sed -n 2p persons.csv | cut -d, -f4)" | jq -r '.[0].id')
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_page() { # PATH [JAR]
    for _ in 1 2 3 4 5; do
        curl -s -b "${2:-jar}" -o /dev/null -w '%{time_total}\n' "$B$1"
    done | median | awk '{printf "%.1f", $1 * 1000}'
}
echo "persons: $N"
# Every page a clerk opens: the persons at the first, a middle and the last
# page; a search for one person, and one that every person matches (its
# first and its 500th page); a person, the forms; review, import, the
# report and its chart; sync status; the admin's audit trail and accounts.
# The workbook is a download, timed apart.
Q1=%E4%BA%BA%E5%91%98049999   # 人员049999: one person
QA=%E4%BA%BA%E5%91%98         # 人员: every person
worst=0
for p in "/persons" "/persons?page=500" "/persons?page=1000" "/persons?q=$Q1" \
         "/persons?q=$QA" "/persons?q=$QA&page=500" "/person/$ID" \
         "/new/person" "/new/training?person=$ID" "/edit/person/$ID" \
         "/review" "/import" "/report" "/report?by=gender" \
         "/report?by=township" "/report?by=employment_type" "/report?by=category" \
         "/report.svg?by=county" "/sync"; do
    ms=$(time_page "$p")
    echo "page $p: $ms ms"
    worst=$(awk -v a="$worst" -v b="$ms" 'BEGIN {print (b > a) ? b : a}')
done
for p in /audit /users; do   # an administrator's
    ms=$(time_page "$p" ajar)
    echo "page $p (admin): $ms ms"
    worst=$(awk -v a="$worst" -v b="$ms" 'BEGIN {print (b > a) ? b : a}')
done
echo "slowest page: $worst ms (bound: 100 ms)"
echo "download /report.xlsx (every table, a workbook): $(time_page /report.xlsx) ms"
yard() { # LABEL ARGS...
    local label=$1
    shift
    for _ in 1 2 3; do
        s=$(date +%s%N); "$W" --dir n list person "$@" >/dev/null; e=$(date +%s%N)
        echo $(( (e - s) / 1000000 ))
    done | median | awk -v l="$label" '{print "yardstick: wings list person " l " (through the daemon, whole command): " $1 " ms"}'
}
yard "--limit 50" --limit 50
yard "--sort name --limit 50" --sort name --limit 50
yard "--search 人员049999 --limit 50" --search 人员049999 --limit 50
# The first load: everything a browser fetches for a page it has never
# seen (the page, CSS, JS, icon; no font is fetched: the system's CJK
# fonts render Chinese), as transferred, headers included.
first_load() { # LABEL PAGE
    local bytes=0 n u
    for u in "$2" /static/style.css /static/app.js /static/icon.svg; do
        n=$(curl -s -b jar -o /dev/null -w '%{size_download} %{size_header}' "$B$u" |
            awk '{print $1 + $2}')
        bytes=$((bytes + n))
    done
    echo "first load of $1: $bytes bytes transferred (bound: 300 KB = 307200)"
}
first_load "the sign-in page" /signin
first_load "the persons page (50 rows)" /persons
first_load "the report page" /report
