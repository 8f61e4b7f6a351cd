#!/usr/bin/env bash
# Usage: tests/check_exports.sh path/to/libconv1d.so
#
# Asserts that the shared library exports only the C API:
#   * every defined dynamic symbol is conv1d_* (the version nodes CONV1D_<n>[.<m>],
#     which nm lists as an absolute symbol, is the only exception);
#   * at least one symbol is exported;
#   * the SONAME is libconv1d.so.1.
set -euo pipefail

lib="${1:?usage: check_exports.sh path/to/libconv1d.so}"
[[ -f "$lib" ]] || { echo "FAIL: no such file: $lib" >&2; exit 1; }

# nm prints "ADDRESS TYPE NAME"; newer binutils append @@VERSION to NAME.
symbols="$(nm -D --defined-only "$lib")"

exported=0
bad=()
while read -r _address type name; do
  [[ -n "${name:-}" ]] || continue
  name="${name%%@*}"
  if [[ "$type" == "A" && "$name" =~ ^CONV1D_[0-9]+(\.[0-9]+)?$ ]]; then
    continue  # the version node of the version script
  fi
  if [[ "$name" == conv1d_* ]]; then
    exported=$((exported + 1))
  else
    bad+=("$type $name")
  fi
done <<<"$symbols"

status=0
if ((${#bad[@]} > 0)); then
  echo "FAIL: symbols outside conv1d_* are exported:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  status=1
fi
if ((exported == 0)); then
  echo "FAIL: no conv1d_* symbol is exported" >&2
  status=1
fi

soname="$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')"
if [[ "$soname" != "libconv1d.so.1" ]]; then
  echo "FAIL: SONAME is '${soname}', expected 'libconv1d.so.1'" >&2
  status=1
fi

if ((status == 0)); then
  echo "exported symbols: ${exported} conv1d_* symbols, nothing else; SONAME ${soname}"
fi
exit "$status"
