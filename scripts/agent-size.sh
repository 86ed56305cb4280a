#!/usr/bin/env bash
# Where the static agent's bytes are: builds it as scripts/package.sh does (release, static Swift
# runtime, nothing exported) with a link map, strips it, and prints its size, its largest sections
# and the bytes each module or library put into it (code, constants, data, Swift metadata; unwind
# tables and relocations are the linker's, per section only).
#
#   scripts/agent-size.sh [extra swift build arguments, e.g. -Xswiftc -Osize]
#
# A clean build takes about 10 minutes on two cores; it uses .build-package, as packaging does.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-package
map=$(mktemp)
stripped=$(mktemp)
trap 'rm -f "$map" "$stripped"' EXIT
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product quiesce-agent \
    -Xlinker --no-export-dynamic -Xlinker "-Map=$map" "$@"
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
strip --strip-unneeded -o "$stripped" "$bin/quiesce-agent"
printf 'quiesce-agent, static and stripped: %s bytes\n\nlargest sections:\n' "$(stat -c %s "$stripped")"
size -A "$stripped" | awk 'NR > 2 && $1 != "Total" && $2 > 100000 { printf "  %-20s %12d\n", $1, $2 }' | sort -k2 -n -r
python3 - "$map" <<'PY'
import collections, re, sys

# gold's map: " SECTION ADDRESS SIZE FILE", or the section alone with the rest on the next line.
entry = re.compile(r'^ ([._a-zA-Z]\S*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$')
alone = re.compile(r'^ ([._a-zA-Z]\S*)$')
rest = re.compile(r'^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$')
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
section = None
for line in open(sys.argv[1], errors='replace'):
    found = entry.match(line)
    if found:
        name, address, size, source = found.groups()
    elif section and (found := rest.match(line)):
        name, (address, size, source) = section, found.groups()
    else:
        found = alone.match(line)
        section = found.group(1) if found else None
        continue
    section = None
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
