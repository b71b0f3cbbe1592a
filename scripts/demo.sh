#!/usr/bin/env bash
# Installs what is needed, builds the release preset and runs the main job on embedded
# defaults: a scripted session through the kernel and the mock venue, then its replay.
set -euo pipefail
cd "$(dirname "$0")/.."
script=${1:-examples/full_cycle.jsonl}
./scripts/setup.sh
cmake --preset release
cmake --build --preset release --target dita
mkdir -p var/journals
journal="var/journals/demo-$(date -u +%Y%m%dT%H%M%SZ)-$$.journal"
build/release/src/cli/dita run --script "$script" --journal "$journal"
build/release/src/cli/dita replay "$journal"
