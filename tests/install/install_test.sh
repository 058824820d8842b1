#!/usr/bin/env bash
# `cmake --install` and a program outside the tree built against the installed copy, with
# find_package(omnicoder) (C and C++) and with pkg-config (C): each greedy continuation
# equals `omnicoder run --temp 0`. The installed library exports only the public API.
#   install_test.sh BUILD_DIR MODEL WORK_DIR
set -euo pipefail
build=$1 model=$2 work=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for f in include/omnicoder/omnicoder_c.h include/omnicoder/omnicoder.h bin/omnicoder; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
lib=$(ls "$prefix"/lib*/libomnicoder.so 2>/dev/null | head -1 || true)
[ -n "$lib" ] || lib=$(find "$prefix" -name libomnicoder.so | head -1)
[ -n "$lib" ] || { echo "FAIL: libomnicoder.so not installed"; exit 1; }
# Nothing internal leaks out of the shared library.
leaked=$(nm -DC --defined-only "$lib" | awk '$2 ~ /^[TWDBVR]$/ {$1=""; $2=""; print}' |
         grep -v -E '^ *(oc_|omnicoder::(Engine|Model|Session|Sampler|OutputFile|Status)::|omnicoder::[A-Za-z0-9]+\(|omnicoder::[A-Za-z0-9]+\[abi:cxx11\]\(|OMNICODER_0)' || true)
if [ -n "$leaked" ]; then echo "FAIL: internal symbols exported:"; echo "$leaked" | head; exit 1; fi

prompt='def fibonacci(n):'
want=$work/want.txt
"$prefix/bin/omnicoder" run -m "$model" -p "$prompt" -n 16 --temp 0 > "$want" 2>/dev/null
cmake -S "$src/examples/outside" -B "$work/outside" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/outside" -j 2 > "$work/build.log"
for exe in greedy_c greedy_cpp; do
  "$work/outside/$exe" "$model" "$prompt" 16 > "$work/$exe.txt"
  cmp -s "$work/$exe.txt" "$want" || { echo "FAIL: $exe differs from omnicoder run"; exit 1; }
done
pc_dir=$(dirname "$(find "$prefix" -name omnicoder.pc | head -1)")
flags=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags --libs omnicoder)
libdir=$(PKG_CONFIG_PATH=$pc_dir pkg-config --variable=libdir omnicoder)
cc -std=c11 -Wall -Werror -o "$work/greedy_pc" "$src/examples/outside/greedy.c" $flags -Wl,-rpath,"$libdir"
"$work/greedy_pc" "$model" "$prompt" 16 > "$work/greedy_pc.txt"
cmp -s "$work/greedy_pc.txt" "$want" || { echo "FAIL: the pkg-config build differs from omnicoder run"; exit 1; }
echo "ok: installed to $prefix; find_package (C, C++) and pkg-config builds agree with omnicoder run"
