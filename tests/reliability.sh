#!/usr/bin/env bash
# reliability.sh - run the fault suites and the fuzzers, print the figures
#
#   tests/reliability.sh [BUILD-DIR [FUZZ-BUILD-DIR]]
#
# BUILD-DIR (default build) holds a normal build of the suite; the suites
# labelled "fault" in ctest run there: simulated power cuts and injected
# disk faults (check_powercut, check_faults), network faults
# (check_netfault, netfault_cli.sh), and SIGKILL at random moments of a
# syncing pair and a relaying HQ (killpoints.sh). FUZZ-BUILD-DIR (default
# build-fuzz) holds the libFuzzer harnesses (cmake -DWINGS_FUZZ=ON, CC=clang);
# each runs FUZZ_SECONDS (default 60; 0 skips fuzzing) times its weight below
# (the slow ones get longer, so each reaches 1,000,000 executions;
# FUZZ_SECONDS_<name> overrides one), FUZZ_JOBS (default JOBS) at a time,
# longest first, over its seed corpus in tests/fuzz/corpus/, new inputs
# going to a scratch folder; each prints its executions. A crash is kept in
# tests/fuzz/crashes/ for a regression seed once fixed. SKIP_FAULTS=1 runs
# the fuzzers alone.
#
# Every suite prints "figure KEY=N" lines; they are summed per key and shown,
# and the run ends with one line:
#
#   reliability: power_cuts=N kill_points=N faults=N fuzz_execs=N lost=0 doubled=0 crashes=0
#
# Exit status: 0 when every suite passed and lost, doubled and crashes are 0;
# 1 otherwise.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${1:-build}
FUZZ_BUILD=${2:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

declare -A fig
failed=()
log=$(mktemp "${TMPDIR:-/tmp}/wings-reliability.XXXXXX")
trap 'rm -f "$log"' EXIT

add_figures() { # FILE: sum its "figure KEY=N" lines into fig[]
    local k v
    while IFS='=' read -r k v; do
        fig[$k]=$(( ${fig[$k]:-0} + v ))
    done < <(grep -oE 'figure [a-z_]+=[0-9]+' "$1" | sed 's/^figure //')
}

# ---- the fault suites ----------------------------------------------------------

if [ "${SKIP_FAULTS:-0}" = 1 ]; then
    echo "== fault suites skipped (SKIP_FAULTS=1)"
elif [ ! -d "$BUILD" ]; then
    echo "reliability: no build in '$BUILD' (scripts/dev build makes one)" >&2
    exit 1
else
    echo "== fault suites (ctest -L fault in $BUILD)"
    start=$SECONDS
    (cd "$BUILD" && ctest -L fault -V -j "$JOBS" --timeout 900) >"$log" 2>&1
    rc=$?
    grep -E '^ *[0-9]+/[0-9]+ Test|tests passed|tests failed' "$log"
    if [ "$rc" -ne 0 ]; then
        grep -E '^[0-9]+: .*(FAIL|fail|Assertion|error)' "$log" | head -n 40
        failed+=("fault suites")
    fi
    add_figures "$log"
    echo "   ($((SECONDS - start)) s)"
fi

# ---- fuzzing --------------------------------------------------------------

fuzz_execs=0
fuzz_crashes=0
FUZZ_JOBS=${FUZZ_JOBS:-$JOBS}
if [ "$FUZZ_SECONDS" -gt 0 ]; then
    if ! ls "$FUZZ_BUILD"/tests/fuzz_* >/dev/null 2>&1; then
        echo "reliability: no fuzz harnesses in '$FUZZ_BUILD'" >&2
        failed+=("fuzz build")
    fi
    # Executions a second differ twentyfold between harnesses. Measured
    # alone on two idle cores (each harness 15 s): fuzz_xlsx 14,600/s
    # (libzip, libxml2), fuzz_fields 15,100/s (every field of every table
    # per input), fuzz_csv 22,800/s, fuzz_keyfile 67,800/s, the others
    # 50,000-100,000/s; on the same cores loaded by other work, a third to
    # a sixth of that. A weight gives a harness FUZZ_SECONDS times it: at
    # FUZZ_SECONDS=40 (scripts/dev test) each makes about 1,800,000 or
    # more on idle cores, and 1,000,000 at a little over half those rates;
    # 640 s of fuzzing in all, about 320 s of wall time two at a time.
    declare -A weight=([xlsx]=4 [fields]=4 [csv]=3 [keyfile]=1)
    fuzz_dir=$(mktemp -d "${TMPDIR:-/tmp}/wings-fuzzlogs.XXXXXX")
    names=()
    declare -A secs_of
    for h in "$FUZZ_BUILD"/tests/fuzz_*; do
        [ -x "$h" ] || continue
        name=$(basename "$h")
        over=FUZZ_SECONDS_${name#fuzz_}
        secs_of[$name]=${!over:-$((FUZZ_SECONDS * ${weight[${name#fuzz_}]:-1}))}
        names+=("$name")
    done
    # The longest first, FUZZ_JOBS at a time: the phase lasts about the
    # sum of the times over FUZZ_JOBS rather than their sum.
    mapfile -t names < <(for n in "${names[@]}"; do
        echo "${secs_of[$n]} $n"; done | sort -rn | cut -d' ' -f2)
    fuzz_start=$SECONDS
    for name in "${names[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n; done
        corpus=tests/fuzz/corpus/${name#fuzz_}
        crashdir=tests/fuzz/crashes/${name#fuzz_}
        mkdir -p "$crashdir"
        (
            work=$(mktemp -d "${TMPDIR:-/tmp}/wings-fuzz.XXXXXX")
            "$FUZZ_BUILD/tests/$name" -max_total_time="${secs_of[$name]}" \
                -print_final_stats=1 -artifact_prefix="$crashdir/" \
                "$work" "$corpus" >"$fuzz_dir/$name.log" 2>&1
            echo $? >"$fuzz_dir/$name.rc"
            rm -rf "$work"
        ) &
    done
    wait
    for name in "${names[@]}"; do
        hlog=$fuzz_dir/$name.log
        hrc=$(cat "$fuzz_dir/$name.rc" 2>/dev/null || echo 1)
        crashdir=tests/fuzz/crashes/${name#fuzz_}
        n=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$hlog" |
            grep -oE '[0-9]+$' | tail -n 1)
        n=${n:-0}
        fuzz_execs=$((fuzz_execs + n))
        fig[fuzz_execs_${name#fuzz_}]=$n
        if [ "$hrc" -ne 0 ]; then
            tail -n 30 "$hlog"
            echo "reliability: $name found a crash (input kept in $crashdir/)"
            fuzz_crashes=$((fuzz_crashes + 1))
            failed+=("$name")
        else
            rmdir "$crashdir" 2>/dev/null
        fi
        secs=${secs_of[$name]}
        printf '== %-14s %10d executions in %ss (%d/s)%s\n' "$name" "$n" \
            "$secs" $((n / (secs > 0 ? secs : 1))) \
            "$([ "$n" -ge 1000000 ] || echo '  BELOW 1,000,000')"
    done
    echo "   (fuzzing: $((SECONDS - fuzz_start)) s, $FUZZ_JOBS at a time)"
    rm -rf "$fuzz_dir"
    rmdir tests/fuzz/crashes 2>/dev/null
fi

# ---- the figures ---------------------------------------------------------------

echo "== figures"
for k in $(printf '%s\n' "${!fig[@]}" | sort); do
    printf '   %-24s %d\n' "$k" "${fig[$k]}"
done

faults=0
for k in "${!fig[@]}"; do
    case $k in faults_*|net_faults) faults=$((faults + fig[$k])) ;; esac
done
lost=$(( ${fig[lost]:-0} + ${fig[partial]:-0} + ${fig[unexpected]:-0} ))
doubled=${fig[doubled]:-0}
crashes=$(( ${fig[crashes]:-0} + fuzz_crashes ))
if [ ${#failed[@]} -gt 0 ]; then
    echo "reliability: failed: ${failed[*]}"
fi
echo "reliability: power_cuts=${fig[power_cuts]:-0}" \
     "kill_points=${fig[kill_points]:-0} faults=$faults" \
     "fuzz_execs=$fuzz_execs lost=$lost doubled=$doubled crashes=$crashes"
[ ${#failed[@]} -eq 0 ] && [ "$lost" -eq 0 ] && [ "$doubled" -eq 0 ] &&
    [ "$crashes" -eq 0 ]
