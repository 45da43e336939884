#!/usr/bin/env bash
# Install optional Debian packages the portal can run without, never failing:
#   scripts/install-optional.sh "WHAT IS MISSING WITHOUT THEM" PACKAGE[:BINARY]...
# A package counts as present when its binary (default: the package name) is on PATH or in
# /usr/sbin. Missing ones are installed with apt when it can (root, apt-get present, a
# reachable mirror); otherwise the script says what goes without them and carries on.
set -uo pipefail

consequence=$1
shift
missing=()
for spec in "$@"; do
  package=${spec%%:*}
  binary=${spec#*:}
  command -v "$binary" >/dev/null || [ -x "/usr/sbin/$binary" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: ${missing[*]} not installed; $consequence" \
       "(install them, e.g. sudo apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "installing ${missing[*]}..."
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
         --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "note: could not install ${missing[*]}; $consequence" >&2
fi
exit 0
