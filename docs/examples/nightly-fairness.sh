#!/bin/sh
# nightly-fairness.sh - run a scheduled `audit run` and act on its exit code.
#
#   nightly-fairness.sh SPEC.json
#
# Every run gets its own new folder ARCHIVE/YYYYmmddTHHMMSSZ/ (never reused, so no earlier
# result and no input is ever overwritten) holding results.json, report.pdf, report.xlsx, the
# spec's run log and audit's stderr (audit.log).  One JSON line per run is appended to
# ARCHIVE/runs.jsonl (the job's audit trail); audit's own run-log lines, when the spec asks for
# one (outputs.log), are appended to ARCHIVE/audit-runs.jsonl.
#
# Exit codes of `audit run` (SPEC section 1) and what this job does:
#   0  every policy check passed            -> record, exit 0
#   1  a policy check failed (e.g. DI<0.8)  -> record, alert the model owners, exit 1
#   2  usage or input error (missing file,  -> record, alert the data owners, exit 2
#      malformed CSV, bad spec key)
#   3  internal error (a bug in audit)      -> record, alert the maintainers, exit 3
#   anything else (killed, not found)       -> treated as 3
# The script exits with audit's code so cron mail, systemd or a CI scheduler sees the outcome.
#
# Environment (all optional):
#   AUDIT         the audit binary                        (default: audit on PATH)
#   ARCHIVE       where run folders and the trail go      (default: ./audit-runs)
#   ALERT_CMD     command run for exit 1/2/3; gets SUBJECT as $1 and the message on stdin,
#                 e.g. 'mail -s "$1" risk@example.com' via ALERT_CMD='mail -s'  (default: logger)
#   AUDIT_ARGS    extra arguments for `audit run`, e.g. "--quiet"
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 SPEC.json" >&2
    exit 2
fi
SPEC=$1
AUDIT=${AUDIT:-audit}
ARCHIVE=${ARCHIVE:-./audit-runs}
AUDIT_ARGS=${AUDIT_ARGS:-}

if [ ! -r "$SPEC" ]; then
    echo "nightly-fairness: cannot read spec $SPEC" >&2
    exit 2
fi
umask 027
mkdir -p "$ARCHIVE" || exit 3

# One run at a time: a second invocation while one is running exits 3 instead of racing.
LOCK="$ARCHIVE/.lock"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK"
    if ! flock -n 9; then
        echo "nightly-fairness: another run holds $LOCK" >&2
        exit 3
    fi
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RUN_DIR="$ARCHIVE/$STAMP"
# mkdir without -p fails when the folder exists: a run never writes into an earlier run's folder.
if ! mkdir "$RUN_DIR"; then
    echo "nightly-fairness: $RUN_DIR already exists" >&2
    exit 3
fi

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# shellcheck disable=SC2086  # AUDIT_ARGS is a word list on purpose
"$AUDIT" run "$SPEC" --out "$RUN_DIR" $AUDIT_ARGS 2>"$RUN_DIR/audit.log"
RC=$?
RAW_RC=$RC
END=$(date -u +%Y-%m-%dT%H:%M:%SZ)

case $RC in
    0) STATUS=pass;           WHO="" ;;
    1) STATUS=policy-failed;  WHO="model owners" ;;
    2) STATUS=input-error;    WHO="data owners" ;;
    3) STATUS=internal-error; WHO="audit maintainers" ;;
    *) STATUS=internal-error; WHO="audit maintainers"; RC=3 ;;
esac

# audit's own run log (outputs.log in the spec), if it wrote one into the run folder
for f in "$RUN_DIR"/*.jsonl; do
    [ -f "$f" ] && cat "$f" >>"$ARCHIVE/audit-runs.jsonl"
done

RESULTS_SHA=""
if [ -f "$RUN_DIR/results.json" ]; then
    RESULTS_SHA=$(sha256sum "$RUN_DIR/results.json" | cut -d' ' -f1)
fi
# JSON-escape the few strings we write (backslash and double quote; no control characters here)
esc() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
printf '{"start":"%s","end":"%s","spec":"%s","run_dir":"%s","exit_code":%d,"audit_exit":%d,"status":"%s","results_sha256":"%s"}\n' \
    "$START" "$END" "$(esc "$SPEC")" "$(esc "$RUN_DIR")" "$RC" "$RAW_RC" "$STATUS" "$RESULTS_SHA" \
    >>"$ARCHIVE/runs.jsonl"

alert() {
    subject="audit $STATUS: $SPEC ($STAMP)"
    {
        echo "audit run of $SPEC finished with exit code $RC ($STATUS) at $END."
        echo "For: $WHO.  Run folder: $RUN_DIR"
        if [ "$RC" -eq 1 ] && [ -f "$RUN_DIR/results.json" ] && command -v python3 >/dev/null 2>&1; then
            echo
            echo "Failed checks:"
            python3 - "$RUN_DIR/results.json" <<'EOF' || true
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
for c in doc.get("checks", []):
    if not c.get("passed", True):
        where = c.get("group") or c.get("column") or ""
        bound = "min %s" % c["min"] if "min" in c else "max %s" % c.get("max")
        print("  %s %s %s: %s (%s)" % (c.get("metric"), c.get("attribute", ""), where,
                                       c.get("value"), bound))
EOF
        fi
        echo
        echo "Last lines of audit's messages:"
        tail -n 20 "$RUN_DIR/audit.log"
    } | if [ -n "${ALERT_CMD:-}" ]; then
        # shellcheck disable=SC2086
        $ALERT_CMD "$subject"
    elif command -v logger >/dev/null 2>&1; then
        logger -t audit-nightly -p user.err "$subject"; cat >&2
    else
        echo "$subject" >&2; cat >&2
    fi
}

if [ "$RC" -ne 0 ]; then
    alert
fi
echo "nightly-fairness: $STATUS (exit $RC), outputs in $RUN_DIR"
exit "$RC"
