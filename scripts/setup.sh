#!/usr/bin/env bash
# Installs everything DITA needs on a fresh Debian bookworm machine. Idempotent: packages
# already present are left alone, so a second run only refreshes the package lists.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi

# Build toolchain and C++ libraries (Debian packages only; nothing is vendored).
debian_packages=(
  build-essential cmake ninja-build g++ pkg-config git ca-certificates curl
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev
  libcurl4-openssl-dev libssl-dev libcpp-httplib-dev zlib1g-dev
  clang-format clang-tidy supervisor
  python3 python3-pip python3-venv
)

missing=()
for pkg in "${debian_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages already installed"
fi

# Python test tooling (PyPI).
if ! python3 -c "import pytest" 2>/dev/null; then
  echo "setup: installing pytest from PyPI"
  # A Debian system Python refuses plain pip ("externally managed"); fall back as
  # setup-servers.sh does.
  python3 -m pip install -q pytest || python3 -m pip install -q --break-system-packages pytest
fi

# Real servers for the sink tests: ClickHouse (Debian), Java + the Hazelcast jar (Maven
# Central), the official hazelcast-python-client and chdb (current ClickHouse) from PyPI.
"$(dirname "$0")/setup-servers.sh"
