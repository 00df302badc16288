#!/bin/sh
# DevDb database pod: the `set-password` init container (official postgres:<major> image, uid 999).
# Before the server starts, in single-user mode (no network, so there is never a window with a
# default password): writes the cluster's client authentication files and turns the cluster's owner into
# the database's login with its password (SCRAM): it owns the database and everything restored into it and
# is no superuser unless DEVDB_SUPERUSER=on. Runs on every pod start and is idempotent.
#
# Environment: PGDATA, DEVDB_USERNAME, DEVDB_PASSWORD (from the database's Secret), DEVDB_DATABASE_NAME,
# DEVDB_HBA, DEVDB_IDENT, DEVDB_SUPERUSER (on/off), DEVDB_TERMINATION_LOG (default /dev/termination-log). Exit 0 on success; on failure exit 1 with
# {"code":"ServerSetupFailed","message":...,"recommendedAction":...} in the termination log.
#
# The password travels only through this shell's variables and postgres' stdin (printf is a shell
# builtin): never in argv (ps) and never in a log (statement logging is off, errors are logged tersely).
set -u

TERMINATION_LOG="${DEVDB_TERMINATION_LOG:-/dev/termination-log}"

json_string() {
    printf '%s' "$1" | tail -n 12 | cut -c 1-240 | tr -d '\000-\010\013\014\016-\037' \
        | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' -e 's/\r/\\r/g' \
        | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'
}

fail() {
    printf 'devdb set-password failed: %s\n%s\n' "$1" "$2" >&2
    printf '{"code":"ServerSetupFailed","message":"%s","recommendedAction":"%s"}' \
        "$(json_string "$1")" "$(json_string "$2")" >"$TERMINATION_LOG" 2>/dev/null || true
    exit 1
}

for name in PGDATA DEVDB_USERNAME DEVDB_PASSWORD DEVDB_DATABASE_NAME DEVDB_HBA DEVDB_IDENT; do
    eval "value=\${$name:-}"
    [ -n "$value" ] || fail "The environment variable $name is not set." \
        "The DevDb database pod sets it from the database's Secret: check the Secret and the pod's environment."
done
# Single-user mode ends a statement at each newline, so values must be one line; any other character is quoted.
for name in DEVDB_USERNAME DEVDB_PASSWORD DEVDB_DATABASE_NAME; do
    eval "value=\$$name"
    case "$value" in *[[:cntrl:]]*) fail "$name contains a line break or another control character." \
        "Use a value without control characters in the database's Secret." ;; esac
done
[ -f "$PGDATA/PG_VERSION" ] || fail "$PGDATA holds no PostgreSQL cluster." \
    "The database's volume should be a clone of its project's image: reset the database."
# The kubelet's fsGroup pass makes every folder of the volume group-writable and setgid (2770); Postgres
# refuses to start on such a PGDATA. Put it back to 0700 (00700 also clears setgid), as the official image's entrypoint does.
chmod 00700 "$PGDATA" || fail "Could not set the mode of $PGDATA to 0700 (uid $(id -u))." \
    "Check that the database's volume is owned by the pod's user (uid 999) or its fsGroup."

# A volume cloned from a snapshot of a running server (a checkpoint, a branch), or left by a server that was killed,
# holds that server's postmaster.pid. Its pid may be a live process of this pod's own PID namespace, so Postgres would
# refuse to start on it. No server runs on this volume now: a StatefulSet of one never runs two pods of the database,
# and this init container runs before the pod's server. So the file is stale: remove it.
rm -f "$PGDATA/postmaster.pid" || fail "Could not remove the stale $PGDATA/postmaster.pid." \
    "Check that the database's volume is writable by uid $(id -u)."

# A SQL string literal: single quotes doubled (standard_conforming_strings is on, so backslashes are plain).
literal() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

# Who may connect, from DevDb's one rule (no trust), written again on every start so a volume made by an older
# DevDb loses its old rules.
printf '%s' "$DEVDB_HBA" >"$PGDATA/pg_hba.conf" && printf '%s' "$DEVDB_IDENT" >"$PGDATA/pg_ident.conf" \
    || fail "Could not write the client authentication files in $PGDATA." "Check that the database's volume is writable by uid $(id -u)."

# DevDb's login rule (LoginRole in DevDb.Core, the same the local runtime runs): the cluster's owner becomes the
# database's login with this password, a superuser only when the project asks for it. Put in at build time.
login_sql=$(cat <<'DEVDB_LOGIN_SQL'
@LOGIN_SQL@
DEVDB_LOGIN_SQL
)
case "${DEVDB_SUPERUSER:-off}" in on) superuser=on ;; *) superuser=off ;; esac

# The values go into custom settings once, as literals; the rule quotes them itself with %I and %L.
sql="SELECT set_config('devdb.login', $(literal "$DEVDB_USERNAME"), false), set_config('devdb.database', $(literal "$DEVDB_DATABASE_NAME"), false), set_config('devdb.password', $(literal "$DEVDB_PASSWORD"), false), set_config('devdb.superuser', '$superuser', false);
$login_sql"

# Errors go to stderr; log_error_verbosity=terse leaves out the CONTEXT line that would quote the
# ALTER ROLE statement, log_min_error_statement=panic the failing statement itself.
output="$(printf '%s\n' "$sql" | postgres --single -D "$PGDATA" -c password_encryption=scram-sha-256 \
    -c log_statement=none -c log_min_error_statement=panic -c log_error_verbosity=terse postgres 2>&1 >/dev/null)"
# (single-user mode runs as the bootstrap superuser, devdb_admin)
status=$?
case "$output" in *ERROR:* | *FATAL:* | *PANIC:*) status=1 ;; esac
if [ "$status" -ne 0 ]; then
    printf '%s\n' "$output" >&2
    problem="$(printf '%s\n' "$output" | grep -E 'ERROR|FATAL|PANIC' | sed -E 's/^.*(ERROR|FATAL|PANIC): +//' | tail -n 3)"
    fail "Setting the password of '$DEVDB_USERNAME' failed (exit $status): ${problem:-$output}" \
        "Check the volume is this database's clone of its project's image; reset the database if it is damaged."
fi
printf 'devdb set-password: the role %s can log in to %s with its password.\n' "$DEVDB_USERNAME" "$DEVDB_DATABASE_NAME"
exit 0
