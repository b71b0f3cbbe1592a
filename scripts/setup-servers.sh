#!/usr/bin/env bash
# Installs the real servers the sink tests run against, on Debian bookworm, as root:
#   - Debian's clickhouse-server (18.16) and clickhouse-client,
#   - a Java 17 runtime and the Hazelcast member jar (com.hazelcast:hazelcast) from Maven Central,
#   - the official hazelcast-python-client from PyPI (read-back oracle for our C++ client),
#   - chdb from PyPI: current ClickHouse's engine as a library, served over HTTP by
#     tests/sink/chdb_http_server.py (scripts/start-chdb) so the ClickHouse tests also run
#     against current ClickHouse (Debian only has 18.16).
# Idempotent: whatever is already present (and verified) is left alone.
#
# Env: DITA_CACHE_DIR (default /var/cache/dita) holds hazelcast-<version>.jar;
#      DITA_HAZELCAST_VERSION (default 5.5.0); DITA_CHDB_VERSION (default 4.4.0).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi

cache_dir=${DITA_CACHE_DIR:-/var/cache/dita}
hz_version=${DITA_HAZELCAST_VERSION:-5.5.0}
hz_jar="$cache_dir/hazelcast-$hz_version.jar"
chdb_version=${DITA_CHDB_VERSION:-4.4.0}

log() { echo "setup-servers: $*"; }

# --- Debian packages ---------------------------------------------------------------------------
debian_packages=(clickhouse-server clickhouse-client openjdk-17-jre-headless maven curl python3-pip)
missing=()
for pkg in "${debian_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} > 0)); then
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  # The package's postinst would start a system-wide server; our scripts run private instances,
  # so policy-rc.d keeps apt from starting (and leaving running) the system service.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    added_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" || { [[ $added_policy == 1 ]] && $SUDO rm -f "$policy"; exit 1; }
  [[ $added_policy == 1 ]] && $SUDO rm -f "$policy"
else
  log "Debian packages already installed"
fi

# --- Hazelcast member jar ------------------------------------------------------------------------
# Maven resolves the artifact into its local repository and verifies the checksum published next
# to it (-C: fail on mismatch); we keep that .sha1 beside the cached jar and re-check it on every
# run, so a truncated or corrupted cache is detected and fetched again.
verify_jar() {
  [[ -s $hz_jar && -s $hz_jar.sha1 ]] || return 1
  local want got
  want=$(awk '{print $1; exit}' "$hz_jar.sha1")
  got=$(sha1sum "$hz_jar" | awk '{print $1}')
  [[ -n $want && $want == "$got" ]]
}

if verify_jar; then
  log "hazelcast $hz_version jar present and verified: $hz_jar"
else
  log "fetching com.hazelcast:hazelcast:$hz_version"
  $SUDO mkdir -p "$cache_dir"
  # A private local repository under the cache dir makes the resolved path predictable.
  m2_repo="$cache_dir/m2"
  $SUDO mvn -B -q -C -Dstyle.color=never -Dmaven.repo.local="$m2_repo" dependency:get \
    -Dartifact="com.hazelcast:hazelcast:$hz_version" -Dtransitive=false
  src="$m2_repo/com/hazelcast/hazelcast/$hz_version/hazelcast-$hz_version.jar"
  [[ -s $src.sha1 ]] || { log "resolver kept no checksum next to $src"; exit 1; }
  $SUDO cp "$src" "$hz_jar.tmp"
  $SUDO cp "$src.sha1" "$hz_jar.sha1"
  $SUDO mv "$hz_jar.tmp" "$hz_jar"
  verify_jar || { log "sha1 mismatch for $hz_jar"; $SUDO rm -f "$hz_jar" "$hz_jar.sha1"; exit 1; }
  # The private repository (jar + Maven's own plugins) is no longer needed.
  $SUDO rm -rf "$m2_repo"
  log "hazelcast jar verified: $hz_jar"
fi

# --- Python read-back client ---------------------------------------------------------------------
if python3 -c 'import hazelcast' 2>/dev/null; then
  log "hazelcast-python-client already installed"
else
  log "installing hazelcast-python-client"
  python3 -m pip install -q hazelcast-python-client ||
    python3 -m pip install -q --break-system-packages hazelcast-python-client
fi

# --- chdb (current ClickHouse engine, in-process) -------------------------------------------------
# Pinned: the tests pin behaviour of the ClickHouse version it embeds (chdb 4.4.0: 26.9).
if [[ $(python3 -c 'import chdb; print(chdb.__version__)' 2>/dev/null) == "$chdb_version" ]]; then
  log "chdb $chdb_version already installed"
else
  log "installing chdb==$chdb_version"
  python3 -m pip install -q "chdb==$chdb_version" ||
    python3 -m pip install -q --break-system-packages "chdb==$chdb_version"
  python3 -c 'import chdb; print("setup-servers: chdb", chdb.__version__, "ClickHouse",
              chdb.query("SELECT version()", "TabSeparated").bytes().decode().strip())'
fi

log "done"
