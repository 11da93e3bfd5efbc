#!/bin/bash
# Thread scaling on a many-core machine (issue 19: >= 12x at 16 threads), from the folder that
# bench/device/pack.sh makes (build/devpack): the audit binary with its own dynamic loader and
# libraries, the data generator, and the 500-tree model with its 100,000 rows. Nothing else is
# needed there (no Python, no Debian packages).
#   build/devpack/run.sh OUTDIR [THREADS...]     (default threads: 1 2 4 8 16)
# Generates the large CSVs into $TMPDIR/adev (gen_data.c; and the 10-column profile and drift
# inputs of issue 19's measurements, cut from them), then runs each workload of
# bench_threads.py, and those two, at each thread count REPEAT times (default 3; the best kept),
# with --verbose.
# Writes OUTDIR/threads.txt (times, speed-ups over 1 thread, whether every output equals the
# 1-thread output byte for byte, and each run's serial share and Amdahl bound as --verbose
# prints them) and OUTDIR/verbose.txt (every run's --verbose stages). Two files: a device run
# returns at most 8.
set -u
D=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-/tmp/adev-out}
shift || true
THREADS=${*:-"1 2 4 8 16"}
REPEAT=${REPEAT:-3}
W=${TMPDIR:-/tmp}/adev
mkdir -p "$W" "$OUT"
A=("$D/lib/ld-linux-x86-64.so.2" --library-path "$D/lib" "$D/audit")
if [ ! -s "$W/fair.csv" ]; then
    s=$(date +%s.%N)
    "$D/lib/ld-linux-x86-64.so.2" --library-path "$D/lib" "$D/gen_data" "$W" || { echo "gen_data failed" >&2; exit 1; }
    echo "generated the CSVs in $(awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s" > "$OUT/threads.txt"
fi
for f in prof ref cur; do   # issue 19's 10-column profile and drift: the first 10 columns
    [ -s "$W/${f}10.csv" ] || cut -d, -f1-10 "$W/$f.csv" > "$W/${f}10.csv" || { echo "cut failed" >&2; exit 1; }
done
{
    echo "cores: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg); repeats: $REPEAT (best kept)"
    "${A[@]}" --version | head -1
} >> "$OUT/threads.txt"
: > "$OUT/verbose.txt"
C=2026-01-01T00:00:00Z
workload() {   # NAME T: the command line of NAME at T threads, output into $W/NAME-T.*
    local t=$2
    case $1 in
    profile)  echo profile --data "$W/prof.csv" --json "$W/profile-$t.json" --created $C --threads "$t" ;;
    profile10) echo profile --data "$W/prof10.csv" --json "$W/profile10-$t.json" --created $C --threads "$t" ;;
    drift10)  echo drift --reference "$W/ref10.csv" --current "$W/cur10.csv" --json "$W/drift10-$t.json" --created $C --threads "$t" --csv-threads "$t" ;;
    drift)    echo drift --reference "$W/ref.csv" --current "$W/cur.csv" --json "$W/drift-$t.json" --created $C --threads "$t" --csv-threads "$t" ;;
    fairness) echo fairness --data "$W/fair.csv" --sensitive sex,race --score score --threshold 0.5 --label label --bootstrap 200 --json "$W/fairness-$t.json" --created $C --threads "$t" --csv-threads "$t" ;;
    predict)  echo predict --model "$D/model.json" --data "$D/rows.csv" --out "$W/predict-$t.csv" --threads "$t" --csv-threads "$t" ;;
    explain)  echo explain --model "$D/model.json" --data "$D/rows.csv" --rows 10000 --method tree --out "$W/explain-$t.csv" --threads "$t" --csv-threads "$t" ;;
    esac
}
printf '%-9s %7s %9s %8s %5s  %s\n' workload threads "best s" speed-up same "serial share, Amdahl bound (--verbose)" >> "$OUT/threads.txt"
for name in profile profile10 drift drift10 fairness predict explain; do
    one=
    for t in $THREADS; do
        best=
        worst_rc=0
        rm -f "$W/$name-$t".*   # no output of an earlier run can pass for this one's
        for r in $(seq "$REPEAT"); do
            s=$(date +%s.%N)
            # shellcheck disable=SC2046
            "${A[@]}" $(workload $name "$t") --verbose > /dev/null 2> "$W/err"
            rc=$?
            [ "$rc" -gt 1 ] && worst_rc=$rc   # 1 is a FAIL verdict, not a failed run
            e=$(awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}')
            { echo "== $name threads $t run $r: exit $rc, $e s"; cat "$W/err"; } >> "$OUT/verbose.txt"
            best=$(awk -v a="$best" -v b="$e" 'BEGIN{print (a == "" || b < a) ? b : a}')
        done
        [ -z "$one" ] && one=$best
        out=$(ls "$W/$name-$t".* 2>/dev/null | head -1)
        first=$(ls "$W/$name-$(echo $THREADS | cut -d' ' -f1)".* 2>/dev/null | head -1)
        same=no
        [ -n "$out" ] && [ -n "$first" ] && cmp -s "$out" "$first" && same=yes   # --created fixed
        amdahl=$(grep 'serial share' "$W/err" | sed 's/.*serial share *//')
        [ "$worst_rc" != 0 ] && amdahl="FAILED (exit $worst_rc; verbose.txt) $amdahl"
        printf '%-9s %7s %9s %7.2fx %5s  %s\n' "$name" "$t" "$best" \
            "$(awk -v a="$one" -v b="$best" 'BEGIN{print a / b}')" "$same" "$amdahl" >> "$OUT/threads.txt"
    done
done
cat "$OUT/threads.txt"
