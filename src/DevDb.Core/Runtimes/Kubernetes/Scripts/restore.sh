#!/bin/sh
# DevDb image build: the `restore` container of the restore Job (official postgres:<major> image, uid 999).
# Restores the dump that the `fetch` init container left in DEVDB_DUMP_DIR (files `dump` and `format`)
# into a new cluster at PGDATA, runs the post-restore SQL, ANALYZEs and shuts down cleanly, so the
# volume can be snapshotted as the image. Idempotent: a Job retry starts over from an empty PGDATA.
#
# Environment: PGDATA, DEVDB_DUMP_DIR, DEVDB_DATABASE_NAME, DEVDB_POST_RESTORE_SQL (optional),
# DEVDB_RESTORE_JOBS (pg_restore -j; default: the number of CPUs), DEVDB_MAINTENANCE_WORK_MEM (default 512MB), DEVDB_TERMINATION_LOG
# (default /dev/termination-log). Exit 0 on success; on failure exit 1 with
# {"code":...,"message":...,"recommendedAction":...} in the termination log (Kubernetes shows it in the pod's status).
set -u
# The tools' messages in English, so the markers below (looks_corrupt) match whatever the image's locale.
export LC_MESSAGES=C

TERMINATION_LOG="${DEVDB_TERMINATION_LOG:-/dev/termination-log}"
SERVER_STARTED=

# Turns text into the inside of a JSON string: at most the last 12 lines (pod termination messages
# are capped at 4 KiB), control characters dropped, backslashes, quotes and tabs escaped, lines joined by \n.
json_string() {
    printf '%s' "$1" | tail -n 12 | cut -c 1-240 | tr -d '\000-\010\013\014\016-\037' \
        | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' -e 's/\r/\\r/g' \
        | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'
}

# fail CODE MESSAGE ACTION: stops the server if this script started it, reports, exits 1.
fail() {
    if [ -n "$SERVER_STARTED" ]; then
        pg_ctl stop -D "$PGDATA" -m immediate -w >/dev/null 2>&1
    fi
    [ -n "${WORK:-}" ] && rm -rf "$WORK"
    printf 'devdb restore failed: %s: %s\n%s\n' "$1" "$2" "$3" >&2
    printf '{"code":"%s","message":"%s","recommendedAction":"%s"}' \
        "$1" "$(json_string "$2")" "$(json_string "$3")" >"$TERMINATION_LOG" 2>/dev/null || true
    exit 1
}

step() { printf 'devdb restore: %s\n' "$*"; }

# The error lines a tool wrote (progress chatter left out), for messages.
error_lines() {
    grep -v -e '^pg_restore: \(creating\|processing\|launching\|finished\|connecting\|executing\|entering\|setting\)' "$1" \
        | grep -v '^[[:space:]]*$' | tail -n 8
}

# pg_restore, psql or gunzip saying the input is damaged or cut off (the same markers as the local runtime's).
looks_corrupt() {
    grep -q -i -e 'not appear to be a valid archive' -e 'end of file' -e 'could not read from input file' \
        -e 'could not read input file' -e 'did not find magic string' -e 'could not find block' -e 'unsupported version' \
        -e 'could not uncompress' -e 'invalid distance' -e 'unexpected EOF' -e 'corrupt' -e 'crc error' "$1"
}

# restore_failed ERRORFILE WHAT: DumpCorrupt when the tool says the input is damaged, else RestoreFailed.
restore_failed() {
    cat "$1" >&2
    lines="$(error_lines "$1")"
    if looks_corrupt "$1"; then
        fail DumpCorrupt "The dump is corrupt or truncated: $lines" \
            "Make a new dump with pg_dump (e.g. pg_dump -Fc --no-owner --no-acl), check it was copied completely, and refresh the project."
    fi
    fail RestoreFailed "$2 failed: $lines" \
        "Fix the dump or the problem the restore tool names (often an extension that is not installed), then refresh the project."
}

for name in PGDATA DEVDB_DUMP_DIR DEVDB_DATABASE_NAME; do
    eval "value=\${$name:-}"
    [ -n "$value" ] || fail RestoreFailed "The environment variable $name is not set." \
        "This script is run by the DevDb restore Job, which sets it: check the Job's environment."
done
DUMP="$DEVDB_DUMP_DIR/dump"
if [ ! -f "$DUMP" ] || [ ! -f "$DEVDB_DUMP_DIR/format" ]; then
    fail RestoreFailed "There is no dump in $DEVDB_DUMP_DIR (expected the files dump and format that the fetch init container writes)." \
        "Check the fetch init container's log and the restore Job's volume mounts."
fi
FORMAT="$(cat "$DEVDB_DUMP_DIR/format")"
JOBS="${DEVDB_RESTORE_JOBS:-$(nproc 2>/dev/null || echo 1)}"
case "$JOBS" in '' | *[!0-9]* | 0) JOBS=1 ;; esac
# maintenance_work_mem of the restore server: each of the -j sessions may use it; the Job computes it from its
# memory limit (DEVDB_MAINTENANCE_WORK_MEM, e.g. 448MB) so jobs x it fits.
MAINTENANCE_WORK_MEM="${DEVDB_MAINTENANCE_WORK_MEM:-512MB}"
case "$MAINTENANCE_WORK_MEM" in *[!0-9]*MB | MB | *[!0-9A-Z]*) MAINTENANCE_WORK_MEM=512MB ;; *MB) ;; *) MAINTENANCE_WORK_MEM=512MB ;; esac

# A private folder for the restore server's socket, log and the tools' error output; never on the volume.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/devdb-restore.XXXXXX")" || fail RestoreFailed \
    "Could not create a temporary folder in ${TMPDIR:-/tmp}." "Give the restore container a writable /tmp (an emptyDir)."
LOG="$WORK/server.log"

step "removing any earlier attempt at $PGDATA"
rm -rf "$PGDATA" || fail RestoreFailed "Could not remove the earlier attempt at $PGDATA." "Delete the restore volume and refresh the project."

step "creating an empty cluster"
initdb -D "$PGDATA" -U postgres -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 --no-sync \
    >"$WORK/initdb.out" 2>&1 || { cat "$WORK/initdb.out" >&2; fail RestoreFailed "initdb failed: $(tail -n 5 "$WORK/initdb.out")" \
    "Check that the volume is writable by uid $(id -u) and has free space."; }
# Database pods take connections from any address (the router), always with a password. The postgres
# superuser has no password, so it can only connect over the local socket.
printf "\n# DevDb: database pods listen on every address.\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
printf '\n# DevDb: password logins from any address.\nhost all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"

step "starting the restore server (restore-only settings, no TCP)"
# On the command line only, so none of them outlives the restore.
pg_ctl start -D "$PGDATA" -w -t 300 -l "$LOG" -o "-c listen_addresses='' -k $WORK -c fsync=off -c synchronous_commit=off \
-c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=16GB -c checkpoint_timeout=1h \
-c autovacuum=off -c maintenance_work_mem=$MAINTENANCE_WORK_MEM" >"$WORK/pg_ctl.out" 2>&1 \
    || { cat "$WORK/pg_ctl.out" "$LOG" >&2; SERVER_STARTED=1; fail RestoreFailed "The restore server did not start: $(tail -n 5 "$LOG")" \
    "Check the restore container's memory and the volume's free space."; }
SERVER_STARTED=1
export PGHOST="$WORK" PGUSER=postgres PGPORT=5432

createdb -T template0 -E UTF8 "$DEVDB_DATABASE_NAME" 2>"$WORK/createdb.err" || restore_failed "$WORK/createdb.err" "Creating the database"

# Creates, NOLOGIN, the roles a plain SQL script makes owners or grantees, since psql replays it as written.
# A grep of the lines pg_dump writes (ALTER ... OWNER TO r; GRANT ... TO r; REVOKE ... FROM r;
# CREATE SCHEMA ... AUTHORIZATION r;). It misses statements split over lines or hand-written ones
# with several grantees; those fail the restore with psql's "role does not exist".
create_script_roles() {
    # $1: a command writing the script to stdout.
    $1 | sed -n -E \
        -e 's/^(ALTER|CREATE SCHEMA) .* (OWNER TO|AUTHORIZATION) ("([^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*);$/\3/p' \
        -e 's/^GRANT .* TO ("([^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)( WITH (GRANT|ADMIN) OPTION)?( GRANTED BY .*)?;$/\1/p' \
        -e 's/^REVOKE .* FROM ("([^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)( GRANTED BY .*)?;$/\1/p' \
        | sort -u >"$WORK/roles"
    while IFS= read -r role; do
        case "$role" in
            \"*) role="$(printf '%s' "$role" | sed -e 's/^"//' -e 's/"$//' -e 's/""/"/g')" ;;
            *) role="$(printf '%s' "$role" | tr '[:upper:]' '[:lower:]')" ;;
        esac
        case "$role" in public | current_user | session_user | current_role | group) continue ;; esac
        # psql quotes the name itself (:'role'); \gexec runs the CREATE only when the role is missing.
        printf '%s\n' "SELECT format('CREATE ROLE %I NOLOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec" \
            | psql -X -q -v ON_ERROR_STOP=1 -v role="$role" -d postgres >/dev/null 2>>"$WORK/roles.err" \
            || restore_failed "$WORK/roles.err" "Creating the role '$role' that the script names"
    done <"$WORK/roles"
}

# A script pg_dump wrote ends with its "dump complete" footer; one cut short would otherwise restore
# "successfully" with part of the data. For a gzipped script this is also the integrity check.
check_script_complete() {
    if [ "$FORMAT" = GzipPlainSql ]; then
        gunzip -c "$DUMP" 2>"$WORK/gunzip.err" | tail -c 512 >"$WORK/script.tail"
        [ -s "$WORK/gunzip.err" ] && restore_failed "$WORK/gunzip.err" "gunzip"
        head_text="$(gunzip -c "$DUMP" 2>/dev/null | head -c 200)"
    else
        tail -c 512 "$DUMP" >"$WORK/script.tail"
        head_text="$(head -c 200 "$DUMP")"
    fi
    case "$head_text" in *'-- PostgreSQL database dump'*) ;; *) return 0 ;; esac
    grep -q -e '-- PostgreSQL database dump complete' "$WORK/script.tail" \
        || fail DumpCorrupt "The dump is corrupt or truncated: the script ends before pg_dump's \"dump complete\" footer." \
            "Make the dump again, check it was copied completely, and refresh the project."
}

# shellcheck disable=SC2317 # called through $SCRIPT
plain_script() { cat "$DUMP"; }
# shellcheck disable=SC2317

gzip_script() { gunzip -c "$DUMP"; }

case "$FORMAT" in
    Custom | Tar)
        [ "$FORMAT" = Tar ] && JOBS=1 # pg_restore cannot restore a tar archive in parallel
        step "restoring the $FORMAT dump with pg_restore -j $JOBS"
        pg_restore --no-owner --no-acl --exit-on-error -j "$JOBS" -d "$DEVDB_DATABASE_NAME" "$DUMP" 2>"$WORK/restore.err" \
            || restore_failed "$WORK/restore.err" "pg_restore"
        ;;
    PlainSql | GzipPlainSql)
        SCRIPT=plain_script
        [ "$FORMAT" = GzipPlainSql ] && SCRIPT=gzip_script
        check_script_complete
        step "creating the roles the script names"
        create_script_roles $SCRIPT
        step "restoring the $FORMAT dump with psql"
        $SCRIPT | psql -X -q -v ON_ERROR_STOP=1 -d "$DEVDB_DATABASE_NAME" >/dev/null 2>"$WORK/restore.err" \
            || restore_failed "$WORK/restore.err" "psql"
        ;;
    *)
        fail RestoreFailed "The fetch step wrote an unknown dump format '$FORMAT'." \
            "Use the same DevDb version for the fetch init container and this script."
        ;;
esac

if [ -n "${DEVDB_POST_RESTORE_SQL:-}" ]; then
    step "running the post-restore SQL"
    printf '%s\n' "$DEVDB_POST_RESTORE_SQL" | psql -X -q -v ON_ERROR_STOP=1 -1 -d "$DEVDB_DATABASE_NAME" >/dev/null 2>"$WORK/post.err" \
        || { cat "$WORK/post.err" >&2; fail PostRestoreSqlFailed \
        "The post-restore SQL failed, so no image was published: $(error_lines "$WORK/post.err")" \
        "Fix the project's postRestoreSql and refresh the project."; }
fi

step "analyzing"
psql -X -q -v ON_ERROR_STOP=1 -d "$DEVDB_DATABASE_NAME" -c ANALYZE 2>"$WORK/analyze.err" || restore_failed "$WORK/analyze.err" "ANALYZE"

rm -rf "$DEVDB_DUMP_DIR"
step "shutting down cleanly"
pg_ctl stop -D "$PGDATA" -m fast -w -t 600 >"$WORK/stop.out" 2>&1 \
    || { cat "$WORK/stop.out" "$LOG" >&2; fail RestoreFailed "The restore server did not shut down cleanly: $(tail -n 5 "$WORK/stop.out")" \
    "Refresh the project to try again."; }
SERVER_STARTED=
# The restore ran with fsync off: flush everything before the volume is snapshotted.
sync
rm -rf "$WORK"
step "done"
exit 0
