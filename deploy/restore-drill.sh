#!/usr/bin/env bash
# Restore drill: restore a pg_dump backup into a scratch database, check it, then drop it.
#
#   deploy/restore-drill.sh BACKUP.dump
#
# BACKUP.dump is a custom-format dump (pg_dump --format=custom). The drill connects with the usual
# libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD or ~/.pgpass; PGDATABASE for the maintenance
# database, default "postgres") as a role that may CREATE DATABASE: use a scratch server, or the
# production server if it has room. It checks that
#   - the archive is readable and restores without a single error,
#   - every table's row count in the scratch database equals the rows the archive carries,
#   - the schema version (schema_migration) is there, and is DRILL_EXPECT_VERSION when that is set,
#   - the audit trail is still append-only (its guard triggers came back).
# DRILL_KEEP=1 keeps the scratch database for inspection. Exit 0 when every check passes.
set -euo pipefail

backup="${1:?usage: restore-drill.sh BACKUP.dump}"
maintenance="${PGDATABASE:-postgres}"
scratch="ohc_restore_drill_$(date -u +%Y%m%d%H%M%S)_$$"
work="$(mktemp -d)"
started=$(date +%s)

say() { printf 'restore-drill: %s\n' "$*"; }
fail() { say "FAILED: $*" >&2; exit 1; }
sql() { psql --no-psqlrc --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 --dbname="$1" --command="$2"; }

cleanup() {
    rm -rf "$work"
    if [ "${DRILL_KEEP:-}" = 1 ]; then
        say "kept scratch database $scratch"
    else
        sql "$maintenance" "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

[ -r "$backup" ] || fail "cannot read $backup"
pg_restore --list "$backup" > "$work/toc" 2>"$work/err" || fail "not a readable pg_dump archive: $(cat "$work/err")"

# Rows per table as the archive carries them (COPY text format: one line per row).
pg_restore --data-only --file=- "$backup" 2>"$work/err" | awk '
    /^COPY / { table = $2; rows[table] = 0; inside = 1; next }
    inside && $0 == "\\." { inside = 0; next }
    inside { rows[table]++ }
    END { for (t in rows) print t "\t" rows[t] }
' | sort > "$work/expected" || fail "cannot read the archive's data: $(cat "$work/err")"
[ -s "$work/expected" ] || fail "the archive holds no table data"

sql "$maintenance" "CREATE DATABASE \"$scratch\"" >/dev/null
say "restoring $backup into $scratch"
pg_restore --exit-on-error --no-owner --no-privileges --dbname="$scratch" "$backup" 2>"$work/err" \
    || fail "pg_restore: $(cat "$work/err")"

tables=0
total=0
while IFS=$'\t' read -r table expected; do
    actual="$(sql "$scratch" "SELECT count(*) FROM ONLY $table")"
    [ "$actual" = "$expected" ] || fail "$table has $actual rows, the archive carries $expected"
    tables=$((tables + 1))
    total=$((total + actual))
done < "$work/expected"
say "row counts match the archive: $tables tables, $total rows"

version="$(sql "$scratch" "SELECT max(version) FROM schema_migration")" || fail "no schema_migration table"
[ -n "$version" ] || fail "schema_migration is empty"
if [ -n "${DRILL_EXPECT_VERSION:-}" ] && [ "$version" -ne "$DRILL_EXPECT_VERSION" ]; then
    fail "schema version $version, expected $DRILL_EXPECT_VERSION"
fi
say "schema version $version"

guards="$(sql "$scratch" "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal")"
[ "$guards" -gt 0 ] || fail "audit_event lost its append-only triggers"
say "audit trail guarded by $guards triggers"

say "passed in $(( $(date +%s) - started )) s"
