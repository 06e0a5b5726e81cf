#!/usr/bin/env bash
# tests/integration/test_install.sh BUILD_DIR -- `cmake --install` into a
# temporary prefix, then build a program against the installed library twice,
# once through pkg-config (myring.pc) and once through find_package(myring),
# and run both against the sandbox.
set -uo pipefail
build=${1:?build dir}
repo=$(cd "$(dirname "$0")/../.." && pwd)
: "${MYR_TEST_HOST:?run through scripts/test.sh (sandbox env missing)}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }

san=""
grep -q '^MYR_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && san="-fsanitize=address,undefined"

if cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1; then ok install; else bad "install: $(cat "$tmp/install.log")"; fi
libdir=$(dirname "$(find "$tmp/prefix" -name myring.pc | head -1)")/..
[[ -f $tmp/prefix/include/myring.h && -f $tmp/prefix/include/myring/errors.h ]] && ok headers || bad headers

# pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
if gcc $san -Wall -Werror -I"$repo/examples" "$repo/examples/basic_query.c" -o "$tmp/pc_demo" \
    $(pkg-config --cflags --libs myring) -Wl,-rpath,"$libdir" 2>"$tmp/pc.log"; then
    if out=$("$tmp/pc_demo" 2>&1) && [[ $out == *MariaDB* ]]; then ok "pkg-config consumer runs"; else bad "pkg-config consumer: $out"; fi
else
    bad "pkg-config build: $(cat "$tmp/pc.log")"
fi

# find_package
mkdir -p "$tmp/consumer"
cp "$repo/examples/basic_query.c" "$repo/examples/common.h" "$tmp/consumer/"
cat >"$tmp/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(myring 0.1 REQUIRED)
add_executable(demo basic_query.c)
target_compile_options(demo PRIVATE $san)
target_link_options(demo PRIVATE $san)
target_link_libraries(demo PRIVATE myring::myring)
CMAKE
if cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/cm.log" 2>&1 &&
    cmake --build "$tmp/consumer/build" >>"$tmp/cm.log" 2>&1; then
    if out=$("$tmp/consumer/build/demo" 2>&1) && [[ $out == *MariaDB* ]]; then ok "find_package consumer runs"; else bad "find_package consumer: $out"; fi
else
    bad "find_package build: $(tail -20 "$tmp/cm.log")"
fi

# Only the public API is exported from the shared library.
so=$(find "$libdir" -name 'libmyring.so.*' | head -1)
if nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^myr_' | grep -vq '^_'; then
    bad "non-public symbols exported: $(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^myr_' | head -5 | tr '\n' ' ')"
else
    ok "only myr_* symbols exported"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
