#!/bin/bash
# Packs build/devpack for bench/device/run.sh on a lent many-core machine (the `device` tool):
# build/audit with the dynamic loader and every library it links (run through that loader, so
# the machine's own libraries do not matter), gen_data (compiled here, run the same way), and
# bench_threads.py's 500-tree model and 100,000 rows (made here with Debian's python3-xgboost
# when absent from $TMPDIR). About 45 MB; the device takes 64 MiB of working tree in all. Then:
#   device run:  build/devpack/run.sh "$OUT"     carry: ["build/devpack"]     timeout_s: 480
set -eu
cd "$(dirname "$0")/../.."
make -j2 >/dev/null
P=build/devpack
rm -rf "$P"
mkdir -p "$P/lib"
cp build/audit bench/device/run.sh "$P/"
gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -o "$P/gen_data" \
    bench/device/gen_data.c -lm
for lib in $(ldd build/audit "$P/gen_data" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u); do
    cp -L "$lib" "$P/lib/"
done
read -r model rows < <(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "bench"); import bench_threads as b; print(*b.model_and_data())')
cp "$model" "$P/model.json"
cp "$rows" "$P/rows.csv"
echo "$P: $(du -sh "$P" | cut -f1)"
