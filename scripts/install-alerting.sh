#!/usr/bin/env bash
# Alertmanager and Prometheus for `portal dev` (Debian packages prometheus-alertmanager and
# prometheus, as scripts/ensure-services.sh installs them for the tests). Installs the
# missing ones with apt when it can (root, apt-get present, a reachable mirror); otherwise
# it says so and `make run` carries on: the portal then starts without alerting and says
# so in a banner.
set -uo pipefail

missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null \
  || missing+=(prometheus-alertmanager)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: ${missing[*]} not installed; the portal will run without alerting" \
       "(install them, e.g. sudo apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "installing ${missing[*]} for the on-call pages..."
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
         --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "note: could not install ${missing[*]}; the portal will run without alerting" >&2
fi
exit 0
