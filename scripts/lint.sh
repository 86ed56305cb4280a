#!/usr/bin/env bash
# The style check: swift-format's lint with the project's .swift-format (4 spaces, 120 columns),
# and no line wider than its lineLength, which swift-format cannot enforce on a long string
# literal. `swift format format -i -r Sources Tests Benchmarks Package.swift` fixes most of it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find Sources Tests Benchmarks -name '*.swift' | sort; echo Package.swift)
swift format lint --strict --configuration .swift-format "${files[@]}"
python3 - "${files[@]}" <<'PY'
import json, sys
limit = json.load(open(".swift-format"))["lineLength"]
wide = [
    f"{path}:{number}: {len(line)} columns, more than {limit}"
    for path in sys.argv[1:]
    for number, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1)
    if len(line) > limit
]
if wide:
    print("\n".join(wide), file=sys.stderr)
    sys.exit(1)
PY
