#!/usr/bin/env bash
# Usage: tests/install/run.sh BUILD_DIR WORK_DIR VERSION LIBDIR [CMAKE]
#
# Installs the build into WORK_DIR/prefix and uses it the two ways the README
# tells users to:
#   1. a C program, and a C++ program using the wrapper conv1d.hpp, compiled
#      with nothing but the flags pkg-config gives;
#   2. a CMake project using find_package(conv1d 1) and conv1d::conv1d, with
#      one C API and one conv1d.hpp program.
# Also checks that `pkg-config --modversion conv1d` is VERSION. The build's
# install_manifest.txt (which `cmake --install` rewrites) is restored after,
# so the `uninstall` target still refers to the last real installation.
# LIBDIR is CMAKE_INSTALL_LIBDIR (relative to the prefix, e.g. "lib").
set -euo pipefail

build_dir="$(cd "${1:?build dir}" && pwd)"
work_dir="${2:?work dir}"
version="${3:?version}"
libdir="${4:-lib}"
cmake="${5:-cmake}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

rm -rf "$work_dir"
mkdir -p "$work_dir"
work_dir="$(cd "$work_dir" && pwd)"
manifest="$build_dir/install_manifest.txt"
if [[ -f "$manifest" ]]; then cp "$manifest" "$work_dir/install_manifest.saved"; fi
cleanup() {
  if [[ -f "$work_dir/install_manifest.saved" ]]; then
    cp "$work_dir/install_manifest.saved" "$manifest"
  else
    rm -f "$manifest"
  fi
  rm -rf "$work_dir"
}
trap cleanup EXIT

prefix="$work_dir/prefix"
echo "== cmake --install $build_dir --prefix $prefix"
"$cmake" --install "$build_dir" --prefix "$prefix"

# Both public headers ship side by side.
for header in conv1d.h conv1d.hpp; do
  [[ -f "$prefix/include/conv1d/$header" ]] || { echo "FAIL: include/conv1d/$header was not installed" >&2; exit 1; }
done

# The pkg-config file must exist where the build said it would go.
pcdir="$prefix/$libdir/pkgconfig"
[[ -f "$pcdir/conv1d.pc" ]] || { echo "FAIL: $pcdir/conv1d.pc was not installed" >&2; exit 1; }
export PKG_CONFIG_PATH="$pcdir"

echo "== pkg-config --modversion conv1d"
modversion="$(pkg-config --modversion conv1d)"
echo "$modversion"
if [[ "$modversion" != "$version" ]]; then
  echo "FAIL: pkg-config reports version '$modversion', expected '$version'" >&2
  exit 1
fi

flags="$(pkg-config --cflags --libs conv1d)"
echo "== pkg-config --cflags --libs conv1d: $flags"
# The flags must point into this prefix, not at some other installation.
if [[ "$flags" != *"-I$prefix/"* || "$flags" != *"-L$prefix/"* ]]; then
  echo "FAIL: pkg-config flags do not point into $prefix" >&2
  exit 1
fi

# A static link's flags (Libs.private) must resolve too, whatever the
# library was built with (HDF5 adds -lhdf5 and zlib -lz).
static_flags="$(pkg-config --static --libs conv1d)"
echo "== pkg-config --static --libs conv1d: $static_flags"

echo "== C consumer built with pkg-config flags only"
# shellcheck disable=SC2086  # the flags are meant to split
cc "$here/main.c" -o "$work_dir/pkgconfig_app" $flags -Wl,-rpath,"$prefix/$libdir"
"$work_dir/pkgconfig_app"

echo "== C++ consumer of conv1d.hpp built with pkg-config flags only"
# shellcheck disable=SC2086
c++ -std=c++17 -Wall -Wextra -Werror "$here/consumer/main_hpp.cpp" -o "$work_dir/pkgconfig_cxx_app" $flags \
  -Wl,-rpath,"$prefix/$libdir"
"$work_dir/pkgconfig_cxx_app"

echo "== CMake consumer using find_package(conv1d 1)"
"$cmake" -S "$here/consumer" -B "$work_dir/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$work_dir/consumer-build"
"$work_dir/consumer-build/conv1d_consumer"
"$work_dir/consumer-build/conv1d_cxx_consumer"

echo "install test: all checks passed"
