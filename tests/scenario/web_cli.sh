#!/usr/bin/env bash
# web_cli.sh - accounts and the web page's HTTP rules, with curl
#
#   bash tests/scenario/web_cli.sh build/wings
#
# `wings user` directly and through a serving daemon (only the hash is
# forwarded; --password-hash is refused from a command line), its usage and
# input errors; then, against `serve --http` on 127.0.0.1 with free ports:
# sign-in sets an HttpOnly SameSite=Strict session, the idle timeout ends it
# (WINGS_WEB_IDLE=5), a viewer may read but not write, a removed user's
# password no longer works, an oversized form is refused, a file is taken
# only by the import page and only up to 16 MB (a viewer may not import; a
# file with a bad line writes nothing), the chart is an image never kept
# and the workbook an attachment, every page carries the security headers,
# and no answer is markup from a record or a file.
# Prints one line per check and ends with "N passed, 0 failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lib_start "$@"
lib_need curl
lib_need jq
unset WINGS_USER_PASSWORD

# code_of COMMAND...: its exit code; its output in out and err.
code_of() {
    run "$@"
    echo "$RC"
}
free_port
HTTP=$PORT
new_node n 450224

# ---- accounts, no daemon ----
check "user add reads \$WINGS_USER_PASSWORD" \
    [ "$(WINGS_USER_PASSWORD=Longan-3p-weir-slate code_of "$W" --dir n user add wei)" = 0 ]
check "and says who was added" grep -qx "added wei (clerk); they sign in to the page as wei" out
check "a short password is refused (exit 3)" \
    [ "$(WINGS_USER_PASSWORD=short code_of "$W" --dir n user add li)" = 3 ]
check "no password and no terminal is exit 3" \
    [ "$(code_of "$W" --dir n user add li)" = 3 ]
check "naming it" grep -q "no password: set WINGS_USER_PASSWORD" err
check "an unknown role is a usage error" \
    [ "$(WINGS_USER_PASSWORD=Longan-3p-weir-slate code_of "$W" --dir n user add li --role boss)" = 2 ]
check "a bad name is refused (exit 3)" \
    [ "$(WINGS_USER_PASSWORD=Longan-3p-weir-slate code_of "$W" --dir n user add 'Li Na')" = 3 ]
check "a taken name is refused (exit 3)" \
    [ "$(WINGS_USER_PASSWORD=Longan-3p-weir-slate code_of "$W" --dir n user add wei)" = 3 ]
check "--password-hash is not an option of the command line" \
    [ "$(code_of "$W" --dir n user add li --password-hash '$argon2id$v=19$x')" = 2 ]
check "removing an unknown user is exit 5" [ "$(code_of "$W" --dir n user remove nobody)" = 5 ]

# ---- through the daemon ----
export WINGS_WEB_IDLE=5
start_daemon n --http "127.0.0.1:$HTTP" --interval 3600
for _ in $(seq 1 100); do
    grep -q "web page on" n.serve.log 2>/dev/null && break
    sleep 0.1
done
check "serve --http says where the page is" \
    grep -qx "web page on http://127.0.0.1:$HTTP/" n.serve.log
check "user add through the daemon" \
    [ "$(WINGS_USER_PASSWORD=Loquat-6n-moss-lantern code_of "$W" --dir n user add li.na --role viewer)" = 0 ]
check "user list --json through the daemon" \
    [ "$("$W" --dir n --json user list | jq -c '[.[] | [.name, .role]]')" = '[["li.na","viewer"],["wei","clerk"]]' ]
check "no password reached the daemon's arguments or log" \
    not grep -q Loquat n.serve.log
check "user passwd through the daemon" \
    [ "$(WINGS_USER_PASSWORD=Longan-3p-weir-slate-2 code_of "$W" --dir n user passwd wei)" = 0 ]
check "a second serve --http on a non-loopback address is refused (exit 2)" \
    [ "$(code_of "$W" --dir n serve --http 0.0.0.0:1)" = 2 ]

B="http://127.0.0.1:$HTTP"
signin() { # USER PASSWORD JAR -> prints the HTTP status of the POST
    local pre
    curl -s -c "$3" -b "$3" -o /dev/null "$B/signin"
    pre=$(awk '$6 == "wings_pre" {print $7}' "$3")
    curl -s -c "$3" -b "$3" -o page.html -w '%{http_code}' \
        --data-urlencode "csrf=$pre" --data-urlencode "user=$1" \
        --data-urlencode "password=$2" "$B/signin"
}
check "the old password stopped working" [ "$(signin wei Longan-3p-weir-slate jar0)" = 401 ]
check "the new one signs in (303)" [ "$(signin wei Longan-3p-weir-slate-2 jar1)" = 303 ]
curl -s -D headers.txt -b jar1 -o persons.html "$B/persons"
check "a signed-in page answers 200" grep -q "^HTTP/1.1 200" headers.txt
check "with a CSP that forbids inline script" \
    grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self';" headers.txt
check "nosniff, no framing, no caching" bash -c \
    "grep -qi '^X-Content-Type-Options: nosniff' headers.txt && grep -qi '^X-Frame-Options: DENY' headers.txt && grep -qi '^Cache-Control: no-store' headers.txt"
curl -s -D signin-headers.txt -o /dev/null -c jar2 "$B/signin"
WPRE=$(awk '$6 == "wings_pre" {print $7}' jar2)
curl -s -D h2.txt -b jar2 -o /dev/null --data-urlencode "csrf=$WPRE" \
    --data-urlencode user=wei --data-urlencode password=Longan-3p-weir-slate-2 "$B/signin"
check "the session cookie is HttpOnly and SameSite=Strict" \
    grep -qiE "^Set-Cookie: wings_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict" h2.txt

# A record whose name is markup comes back escaped.
"$W" --dir n add person 'name=<img src=x onerror=alert(1)>' \
    id_number=11010519491231002X disability_category=physical >/dev/null
signin wei Longan-3p-weir-slate-2 jar1 >/dev/null
curl -s -b jar1 -o persons.html "$B/persons"
check "a name holding markup is shown escaped" \
    grep -q '&lt;img src=x onerror=alert(1)&gt;' persons.html
check "and never as markup" bash -c "! grep -q '<img src=x' persons.html"

# A viewer reads but may not write.
check "the viewer signs in" [ "$(signin li.na Loquat-6n-moss-lantern jar3)" = 303 ]
check "the viewer reads the persons (200)" \
    [ "$(curl -s -b jar3 -o /dev/null -w '%{http_code}' "$B/persons")" = 200 ]
check "the viewer may not open a form (403)" \
    [ "$(curl -s -b jar3 -o viewer.html -w '%{http_code}' "$B/new/person")" = 403 ]
CSRF3=$(curl -s -b jar3 "$B/persons" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}')
check "nor post one, with a valid token (403)" \
    [ "$(curl -s -b jar3 -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$CSRF3" \
        --data-urlencode name=X --data-urlencode id_number=11010519491231002X \
        --data-urlencode disability_category=physical "$B/new/person")" = 403 ]
check "so nothing was written" [ "$("$W" --dir n --json list person | jq length)" = 1 ]

# An oversized form is refused.
head -c 70000 /dev/zero | tr '\0' a >big.txt
signin wei Longan-3p-weir-slate-2 jar1 >/dev/null
check "a 70 KB form is refused (413)" \
    [ "$(curl -s -b jar1 -o /dev/null -w '%{http_code}' --data-urlencode "name@big.txt" "$B/new/person")" = 413 ]

# Uploads: only on the import page, bounded, and a viewer may not import.
CSRF1=$(curl -s -b jar1 "$B/persons" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}')
printf 'name,gender,id_number,disability_category\n' >one.csv
check "a file sent to another form is refused (413)" \
    [ "$(curl -s -b jar1 -o /dev/null -w '%{http_code}' -F "csrf=$CSRF1" \
        -F "file=@one.csv" "$B/new/person")" = 413 ]
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' a >huge.csv
check "a file over 16 MB is refused (413)" \
    [ "$(curl -s -b jar1 -o huge.html -w '%{http_code}' -F "csrf=$CSRF1" \
        -F table=person -F "file=@huge.csv" "$B/import")" = 413 ]
check "saying so, and that nothing was written" grep -q "16 MB" huge.html
check "a viewer may not import (403)" \
    [ "$(curl -s -b jar3 -o /dev/null -w '%{http_code}' -F "csrf=$CSRF3" \
        -F table=person -F "file=@one.csv" "$B/import")" = 403 ]
# (the idle time here is 5 s: a fresh session for what follows)
signin wei Longan-3p-weir-slate-2 jar1 >/dev/null
CSRF1=$(curl -s -b jar1 "$B/persons" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}')
printf 'name,gender,id_number,disability_category\n"<script>x</script>",male,%s,visual\nbad,male,1,visual\n' \
    "$(idnum 11010519491231001)" >mixed.csv
check "an import with a bad line is refused (422)" \
    [ "$(curl -s -b jar1 -o mixed.html -w '%{http_code}' -F "csrf=$CSRF1" \
        -F table=person -F "file=@mixed.csv" "$B/import")" = 422 ]
check "naming the line" grep -q "Line 3\|第 3 行" mixed.html
check "the name from the file never becomes markup" bash -c "! grep -q '<script>x' mixed.html"
check "and nothing of it was written" [ "$("$W" --dir n --json list person | jq length)" = 1 ]
curl -s -b jar1 -D svg-headers.txt -o chart.svg "$B/report.svg?by=county"
check "the chart is an image/svg+xml, never kept" bash -c \
    "grep -qi '^Content-Type: image/svg+xml' svg-headers.txt && grep -qi '^Cache-Control: no-store' svg-headers.txt"
check "and holds no script" bash -c "grep -q '<svg' chart.svg && ! grep -qi '<script' chart.svg"
curl -s -b jar1 -o /dev/null -D xlsx-headers.txt "$B/report.xlsx"
check "the workbook is an attachment" grep -qi '^Content-Disposition: attachment; filename="wings-report-' xlsx-headers.txt
check "no temporary file of the chart or workbook is left" \
    bash -c "! ls -d \"\${TMPDIR:-/tmp}\"/wings-report.* 2>/dev/null | grep -q ."

# Hostile requests get a clear refusal and leave the page serving.
check "PUT is refused (405)" \
    [ "$(curl -s -X PUT -b jar1 -o /dev/null -w '%{http_code}' "$B/persons")" = 405 ]
check "a path out of /static/ finds nothing (404)" \
    [ "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$B/static/../wings.key")" = 404 ]
check "a JSON post carries no token and is refused (403)" \
    [ "$(curl -s -b jar1 -H 'Content-Type: application/json' --data '{"name":"J"}' \
        -o /dev/null -w '%{http_code}' "$B/new/person")" = 403 ]
{ printf 'X-Big: '; head -c 200000 /dev/zero | tr '\0' b; echo; } >bighdr.txt
curl -s -o /dev/null -H @bighdr.txt "$B/signin" || true
printf 'NOT HTTP AT ALL\r\n\0\0\r\n\r\n' | timeout 5 bash -c "cat >/dev/tcp/127.0.0.1/$HTTP" 2>/dev/null || true
check "after a 200 KB header and garbage bytes the page still answers" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$B/signin")" = 200 ]
check "and nothing was written" [ "$("$W" --dir n --json list person | jq length)" = 1 ]

# A removed user cannot sign in again.
"$W" --dir n user remove li.na >/dev/null
check "a removed user cannot sign in" [ "$(signin li.na Loquat-6n-moss-lantern jar4)" = 401 ]

# Idle timeout: 5 s here.
signin wei Longan-3p-weir-slate-2 jar5 >/dev/null
check "a fresh session answers" \
    [ "$(curl -s -b jar5 -o /dev/null -w '%{http_code}' "$B/sync")" = 200 ]
sleep 7
check "after the idle time the session is over (303 to sign-in)" \
    [ "$(curl -s -b jar5 -o /dev/null -w '%{http_code} %{redirect_url}' "$B/persons")" = "303 $B/signin?ended=1" ]

lib_finish
