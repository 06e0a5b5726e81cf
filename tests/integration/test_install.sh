#!/usr/bin/env bash
# tests/integration/test_install.sh BUILD_DIR -- `cmake --install` into a
# temporary prefix, then build a program against the installed library twice,
# once through pkg-config (myring.pc) and once through find_package(myring),
# and run both against the sandbox. Then the same for a program linked
# statically against libmyring.a that defines functions named like myring's
# internals (install_static_user.c), and check with nm that both libraries
# expose only the public myr_* names.
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

# Static users: pkg-config --static and the myring::myring_static target must
# bring liburing, wolfssl and pthread along; the program defines its own
# ur_read and myr__free, which only links if libmyring.a keeps its internals
# local. readelf proves libmyring.so played no part.
uses_no_so() { ! readelf -d "$1" | grep -q 'libmyring\.so'; }
if libs=$(pkg-config --static --libs myring) && [[ $libs == *-lwolfssl* && $libs == *-luring* && $libs == *-lpthread* ]]; then
    ok "pkg-config --static lists liburing, wolfssl, pthread"
else
    bad "pkg-config --static --libs: $libs"
fi
if gcc $san -Wall -Werror "$repo/tests/integration/install_static_user.c" -o "$tmp/pc_static" \
    $(pkg-config --cflags myring) ${libs//-lmyring/-l:libmyring.a} 2>"$tmp/pcs.log"; then
    if out=$("$tmp/pc_static" 2>&1) && [[ $out == "static user ok"* ]] && uses_no_so "$tmp/pc_static"; then
        ok "static pkg-config consumer with its own ur_read/myr__free runs"
    else
        bad "static pkg-config consumer: $out"
    fi
else
    bad "static pkg-config build: $(cat "$tmp/pcs.log")"
fi
mkdir -p "$tmp/static_consumer"
cp "$repo/tests/integration/install_static_user.c" "$tmp/static_consumer/"
cat >"$tmp/static_consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(static_consumer C)
find_package(myring 0.1 REQUIRED)
add_executable(demo install_static_user.c)
target_compile_options(demo PRIVATE -Wall -Werror $san)
target_link_options(demo PRIVATE $san)
target_link_libraries(demo PRIVATE myring::myring_static)
CMAKE
if cmake -S "$tmp/static_consumer" -B "$tmp/static_consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/cms.log" 2>&1 &&
    cmake --build "$tmp/static_consumer/build" >>"$tmp/cms.log" 2>&1; then
    bin="$tmp/static_consumer/build/demo"
    if out=$("$bin" 2>&1) && [[ $out == "static user ok"* ]] && uses_no_so "$bin"; then
        ok "static find_package consumer with its own ur_read/myr__free runs"
    else
        bad "static find_package consumer: $out"
    fi
else
    bad "static find_package build: $(tail -20 "$tmp/cms.log")"
fi

# Only the public API is exported, from the shared library and from the
# archive alike: every global definition is a myr_ name, never myr__.
public_only() {   # stdin: symbol names; prints the first offenders
    grep -Ev '^myr_[a-z0-9]' | head -5 | tr '\n' ' '
}
so=$(find "$libdir" -name 'libmyring.so.*' | head -1)
syms=$(nm -D --defined-only "$so" | awk '{print $3}')
if [[ -z $syms ]]; then bad "no symbols in $so"
elif extra=$(public_only <<<"$syms") && [[ -n $extra ]]; then bad "libmyring.so exports non-public symbols: $extra"
else ok "libmyring.so: only myr_* symbols exported"; fi
ar="$libdir/libmyring.a"
# nm -g on an archive prints "value type name" per defined global symbol.
syms=$(nm -g --defined-only "$ar" | awk 'NF == 3 {print $3}')
if [[ -z $syms ]]; then bad "no symbols in $ar"
elif extra=$(public_only <<<"$syms") && [[ -n $extra ]]; then bad "libmyring.a exports non-public symbols: $extra"
else ok "libmyring.a: only myr_* global symbols"; fi
# Same public set from both (sorted names, sanitizer symbols left out).
so_set=$(nm -D --defined-only "$so" | awk '$3 ~ /^myr_/ {print $3}' | sort)
ar_set=$(nm -g --defined-only "$ar" | awk 'NF == 3 && $3 ~ /^myr_/ {print $3}' | sort)
if [[ $so_set == "$ar_set" && -n $so_set ]]; then ok "same public symbols in .so and .a"
else bad "public symbols differ: $(diff <(echo "$so_set") <(echo "$ar_set") | head -5 | tr '\n' ' ')"; fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
