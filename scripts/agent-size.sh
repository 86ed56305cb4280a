#!/usr/bin/env bash
# Where the static agent's bytes are: builds it as it ships (scripts/agent-build.sh) with a link
# map, strips it, and prints its size, its largest sections and the bytes each module or library
# put into it (code, constants, data, Swift metadata; relocations are the linker's, per section
# only).
#
#   scripts/agent-size.sh [extra swift build arguments]
#
# A clean build takes about 10 minutes on two cores, in .build-package/agent as packaging's.
set -euo pipefail
cd "$(dirname "$0")/.."
map=$(mktemp)
stripped=$(mktemp)
trap 'rm -f "$map" "$stripped"' EXIT
binary=$(scripts/agent-build.sh -Xlinker "-Map=$map" "$@")
strip --strip-unneeded -o "$stripped" "$binary"
printf 'quiesce-agent, static and stripped: %s bytes\n\nlargest sections:\n' "$(stat -c %s "$stripped")"
size -A "$stripped" | awk 'NR > 2 && $1 != "Total" && $2 > 100000 { printf "  %-20s %12d\n", $1, $2 }' | sort -k2 -n -r
python3 - "$map" <<'PY'
import collections, re, sys

# lld's map: "VMA LMA SIZE ALIGN" and, for an input section, "FILE:(SECTION)".
entry = re.compile(r'^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+(\S.*):\(([^)]+)\)$')
kinds = ('.text', '.rodata', '.data', 'swift5')

def owner(source):
    module = re.search(r'/([A-Za-z0-9_\-]+)\.build/.*\.o', source)
    if module:
        return module.group(1)
    library = re.search(r'lib([A-Za-z0-9_\-]+)\.a\(', source)
    return 'lib' + library.group(1) if library else source.rsplit('/', 1)[-1]

def kind(section):
    return next((k for k in kinds if section.startswith(k) or k in section), None)

sizes = collections.defaultdict(collections.Counter)
for line in open(sys.argv[1], errors='replace'):
    found = entry.match(line)
    if found:
        address, size, source, name = found.groups()
        if int(address, 16) and kind(name):
            sizes[owner(source)][kind(name)] += int(size, 16)

rows = sorted(((sum(c.values()), name, c) for name, c in sizes.items()), reverse=True)
total = sum(row[0] for row in rows)
print(f"\nbytes by module or library (of {total:,} in code, constants, data and Swift metadata):")
print(f"  {'':32} {'total':>11} {'.text':>11} {'.rodata':>10} {'.data':>9} {'swift5':>9}")
for bytes_, name, c in rows[:30]:
    print(f"  {name[:32]:32} {bytes_:11,} {c['.text']:11,} {c['.rodata']:10,} {c['.data']:9,} {c['swift5']:9,}")
rest_bytes = sum(row[0] for row in rows[30:])
print(f"  {'the other ' + str(len(rows) - 30):32} {rest_bytes:11,}")
PY
