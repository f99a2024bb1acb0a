#!/usr/bin/env bash
# Start the local Redis and PostgreSQL servers when they are not running, and create the test database.
set -euo pipefail

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/intake-ci.log
fi

if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  version=$(ls /etc/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    pg_createcluster "$version" main >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi

for _ in $(seq 1 50); do
  redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -q && break
  sleep 0.2
done
redis-cli -h 127.0.0.1 ping >/dev/null || { echo "services: Redis did not start" >&2; exit 1; }
pg_isready -h 127.0.0.1 -q || { echo "services: PostgreSQL did not start" >&2; exit 1; }

# The tests connect as the postgres role over TCP; make sure it can (trust on this machine, else a password).
if ! psql -h 127.0.0.1 -U postgres -tAc "select 1" >/dev/null 2>&1; then
  su postgres -c "psql -tAc \"alter role postgres password 'postgres'\"" >/dev/null
  export PGPASSWORD=postgres
fi
if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='intake_test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -qc "create database intake_test" >/dev/null
fi
echo "services: Redis and PostgreSQL ready" >&2
