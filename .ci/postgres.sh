#!/usr/bin/env bash
# Installs (from the distribution's packages) and starts a PostgreSQL server for the test suite,
# then prints the URL the tests take in BOT_TEST_DATABASE_URL.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >&2
pg_ctlcluster "$version" main start >&2 2>/dev/null || pg_ctlcluster "$version" main status >&2
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q" && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='bot'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE bot LOGIN SUPERUSER PASSWORD 'bot'\"" >&2
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='bot_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O bot bot_test" >&2
echo "postgresql+psycopg://bot:bot@127.0.0.1:5432/bot_test"
