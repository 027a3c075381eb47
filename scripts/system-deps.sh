#!/usr/bin/env bash
# Installs the Debian packages the system needs, when missing, and starts its services.
#   scripts/system-deps.sh run    Redis (what `make run` needs besides its own broker)
#   scripts/system-deps.sh test   also PostgreSQL, fonts, poppler and Chromium
# Mosquitto is installed but not started here: Debian's default configuration queues at most
# 1,000 messages for an absent subscriber and drops alarms beyond. `make run` starts the
# project's broker (scripts/broker.sh, broker/mosquitto.conf); the tests and benchmarks start
# their own from the same configuration.
set -euo pipefail
mode=${1:-run}

packages=(redis-server mosquitto mosquitto-clients python3-venv fonts-wqy-microhei)
if [ "$mode" = test ]; then
  packages+=(postgresql poppler-utils chromium chromium-driver)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 6379; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if [ "$mode" = test ] && ! port_open 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # A cluster installed here for tests: let local connections in without a password.
  if ! grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nlocal all all trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for i in $(seq 1 50); do
  port_open 6379 && { [ "$mode" != test ] || port_open 5432; } && exit 0
  sleep 0.2
done
echo "services did not come up (redis 6379${mode:+, postgres 5432 for tests})" >&2
exit 1
