#!/usr/bin/env bash
# Builds the agent as it ships to VMs and prints the built (unstripped) binary's path: a static
# Swift runtime, nothing exported, optimized for size, linked by the toolchain's lld without unwind
# tables (scripts/agent-without-unwind-tables.ld says why that is safe). docs/benchmarks.md
# ("Where the bytes are") measures each step. scripts/package.sh and scripts/agent-size.sh use it.
#
#   scripts/agent-build.sh [--debug] [extra swift build arguments]
#
# --debug keeps the debug configuration's optimization (none) and so its speed of building; the
# link is the same. Its own folder, .build-package/agent: objects built for a static Swift runtime
# cannot be linked into the dynamic build in .build, nor share flags with the coordinator's.
set -euo pipefail
cd "$(dirname "$0")/.."

configuration=release
optimize=(-Xswiftc -Osize)
if [[ ${1:-} == --debug ]]; then
    configuration=debug
    optimize=()
    shift
fi
scratch=.build-package/agent
flags=(
    -c "$configuration" --static-swift-stdlib --scratch-path "$scratch"
    # The link's flags (-use-ld) reach every compile too, so the coordinator builds elsewhere.
    -Xswiftc -use-ld=lld -Xlinker --no-export-dynamic
    -Xlinker -T -Xlinker "$PWD/scripts/agent-without-unwind-tables.ld"
)
swift build "${flags[@]}" "${optimize[@]}" --product quiesce-agent "$@" >&2
echo "$(swift build "${flags[@]}" "${optimize[@]}" --show-bin-path)/quiesce-agent"
