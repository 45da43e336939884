#!/usr/bin/env bash
# Make sure the servers the test suite talks to answer at their standard loopback ports:
# PostgreSQL 5432, Redis 6379, RabbitMQ 5672. Installs (apt) and starts whichever is missing.
# Also installs the Debian tools the tests start themselves: chromium, prometheus,
# prometheus-alertmanager (promtool, amtool), git, poppler-utils (pdftotext, pdftoppm).
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {  # wait_port PORT SECONDS
  local end=$((SECONDS + $2))
  until port_open "$1"; do
    [ $SECONDS -ge $end ] && { echo "port $1 did not open in $2 s" >&2; return 1; }
    sleep 0.5
  done
}

apt_updated=""
apt_install() {  # apt_install PACKAGE... (only those not installed yet)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install chromium prometheus prometheus-alertmanager git poppler-utils

if ! port_open 5432; then
  apt_install postgresql
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    pg_createcluster "$version" main >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 30
  # trust auth on loopback for the throwaway test cluster, as on the CI image
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q "portal-tests" "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust # portal-tests\nlocal all postgres trust # portal-tests' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
fi

if ! port_open 6379; then
  apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379 15
fi

if ! port_open 5672; then
  apt_install rabbitmq-server
  rabbitmq-server -detached
  wait_port 5672 90
fi
echo "services ready: postgresql:5432 redis:6379 rabbitmq:5672"
