#!/usr/bin/env bash
# Start the local Redis and PostgreSQL servers when they are not running, and create the test database.
set -euo pipefail

# Redis keeps the queues: with the append-only file synced every second, a restart loses at most
# the last second of messages, and the outbox's sweeper sends those again (README: "Nothing lost, nothing doubled").
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis/intake /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly yes --appendfsync everysec --dir /var/lib/redis/intake --logfile /var/log/redis/intake.log
elif [ "$(redis-cli -h 127.0.0.1 config get appendonly 2>/dev/null | tail -1)" = "no" ]; then
  echo "services: the running Redis keeps nothing on disk (appendonly no); for production use" \
       "appendonly yes and appendfsync everysec (README: Nothing lost, nothing doubled)" >&2
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
