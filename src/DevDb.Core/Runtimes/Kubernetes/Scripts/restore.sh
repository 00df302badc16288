#!/bin/sh
# DevDb image build: the `restore` container of the restore Job (official postgres:<major> image, uid 999).
# Restores the dump that the `fetch` init container left in DEVDB_DUMP_DIR (files `dump` and `format`)
# into a new cluster at PGDATA, runs the post-restore SQL, ANALYZEs and shuts down cleanly, so the
# volume can be snapshotted as the image. Idempotent: a Job retry starts over from an empty PGDATA.
#
# Environment: PGDATA, DEVDB_DUMP_DIR, DEVDB_DATABASE_NAME, DEVDB_HBA and DEVDB_IDENT (the cluster's pg_hba.conf and
# pg_ident.conf, from DevDb's ClientAuthentication), DEVDB_POST_RESTORE_SQL (optional),
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
        "Fix the dump or the problem the restore tool names (the restore runs as the database's owner, not a superuser: untrusted extensions, event triggers and C functions cannot be restored), then refresh the project."
}

for name in PGDATA DEVDB_DUMP_DIR DEVDB_DATABASE_NAME DEVDB_HBA DEVDB_IDENT; do
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
# The bootstrap superuser is DevDb's admin (not "postgres", so a script's OWNER TO postgres names an ordinary role).
initdb -D "$PGDATA" -U devdb_admin -E UTF8 --locale=C --auth=reject --no-sync \
    >"$WORK/initdb.out" 2>&1 || { cat "$WORK/initdb.out" >&2; fail ServerSetupFailed "initdb failed: $(tail -n 5 "$WORK/initdb.out")" \
    "Check that the volume is writable by uid $(id -u) and has free space."; }
# Who may connect, written by DevDb's one rule (no trust): the container's user through the socket as the admin
# or, for the restore, the owner; everyone else over TCP with a password. Database pods listen on every address.
printf '%s' "$DEVDB_HBA" >"$PGDATA/pg_hba.conf" && printf '%s' "$DEVDB_IDENT" >"$PGDATA/pg_ident.conf" \
    || fail ServerSetupFailed "Could not write the cluster's client authentication files." "Check the restore volume."
printf "\n# DevDb: database pods listen on every address.\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

step "starting the restore server (restore-only settings, no TCP)"
# On the command line only, so none of them outlives the restore.
pg_ctl start -D "$PGDATA" -w -t 300 -l "$LOG" -o "-c listen_addresses='' -k $WORK -c fsync=off -c synchronous_commit=off \
-c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=16GB -c checkpoint_timeout=1h \
-c autovacuum=off -c maintenance_work_mem=$MAINTENANCE_WORK_MEM" >"$WORK/pg_ctl.out" 2>&1 \
    || { cat "$WORK/pg_ctl.out" "$LOG" >&2; SERVER_STARTED=1; fail ServerStartFailed "The restore server did not start: $(tail -n 5 "$LOG")" \
    "Check the restore container's memory and the volume's free space."; }
SERVER_STARTED=1
export PGHOST="$WORK" PGPORT=5432
# DevDb's admin does the set-up; the dump's SQL and the post-restore SQL run as the owner, which is no superuser.
ADMIN="-U devdb_admin"
OWNER="-U devdb_owner"

# shellcheck disable=SC2086 # $ADMIN and $OWNER are two words on purpose
{ psql -X -q -v ON_ERROR_STOP=1 $ADMIN -d postgres -c "CREATE ROLE devdb_owner LOGIN" \
    && createdb $ADMIN -O devdb_owner -T template0 -E UTF8 "$DEVDB_DATABASE_NAME"; } 2>"$WORK/createdb.err" \
    || restore_failed "$WORK/createdb.err" "Creating the database"

case "$FORMAT" in
    Custom | Tar)
        [ "$FORMAT" = Tar ] && JOBS=1 # pg_restore cannot restore a tar archive in parallel
        step "restoring the $FORMAT dump with pg_restore -j $JOBS"
        # shellcheck disable=SC2086
        pg_restore $OWNER --no-owner --no-acl --exit-on-error -j "$JOBS" -d "$DEVDB_DATABASE_NAME" "$DUMP" 2>"$WORK/restore.err" \
            || restore_failed "$WORK/restore.err" "pg_restore"
        ;;
    PsqlScript)
        # The fetch step read the script whole (it refused any psql command pg_dump does not write) and wrote it for
        # psql's restricted mode, with the SQL that makes the roles it names.
        if [ -s "$DEVDB_DUMP_DIR/roles.sql" ]; then
            step "creating the roles the script names"
            # shellcheck disable=SC2086
            psql -X -q -v ON_ERROR_STOP=1 $ADMIN -d "$DEVDB_DATABASE_NAME" -f "$DEVDB_DUMP_DIR/roles.sql" >/dev/null 2>"$WORK/roles.err" \
                || restore_failed "$WORK/roles.err" "Creating the roles the script names"
        fi
        step "restoring the plain SQL dump with psql"
        # shellcheck disable=SC2086
        psql -X -q -v ON_ERROR_STOP=1 $OWNER -d "$DEVDB_DATABASE_NAME" <"$DUMP" >/dev/null 2>"$WORK/restore.err" || {
            if grep -q 'backslash commands are restricted' "$WORK/restore.err"; then
                cat "$WORK/restore.err" >&2
                fail DumpUnsafe "The restore of the dump was stopped: it holds a psql command, which psql's restricted mode refused before it ran." \
                    "Make the dump with pg_dump (best: pg_dump -Fc --no-owner --no-acl) rather than by hand."
            fi
            restore_failed "$WORK/restore.err" "psql"
        }
        ;;
    *)
        fail RestoreFailed "The fetch step wrote an unknown dump format '$FORMAT'." \
            "Use the same DevDb version for the fetch init container and this script."
        ;;
esac

if [ -n "${DEVDB_POST_RESTORE_SQL:-}" ]; then
    step "running the post-restore SQL"
    # SQL, never psql commands: -c sends the text to the server as one transaction; the leading line break keeps
    # psql from reading a first backslash as a command of its own.
    # shellcheck disable=SC2086
    psql -X -q -v ON_ERROR_STOP=1 $OWNER -d "$DEVDB_DATABASE_NAME" -c "
$DEVDB_POST_RESTORE_SQL" >/dev/null 2>"$WORK/post.err" \
        || { cat "$WORK/post.err" >&2; fail PostRestoreSqlFailed \
        "The post-restore SQL failed, so no image was published: $(error_lines "$WORK/post.err")" \
        "Fix the project's postRestoreSql and refresh the project."; }
fi

step "analyzing"
# shellcheck disable=SC2086
{ psql -X -q -v ON_ERROR_STOP=1 $ADMIN -d "$DEVDB_DATABASE_NAME" -c ANALYZE \
    && psql -X -q -v ON_ERROR_STOP=1 $ADMIN -d postgres -c "ALTER ROLE devdb_owner NOLOGIN"; } 2>"$WORK/analyze.err" \
    || restore_failed "$WORK/analyze.err" "ANALYZE"

rm -rf "$DEVDB_DUMP_DIR"
step "shutting down cleanly"
pg_ctl stop -D "$PGDATA" -m fast -w -t 600 >"$WORK/stop.out" 2>&1 \
    || { cat "$WORK/stop.out" "$LOG" >&2; fail ServerStopFailed "The restore server did not shut down cleanly: $(tail -n 5 "$WORK/stop.out")" \
    "Refresh the project to try again."; }
SERVER_STARTED=
# The restore ran with fsync off: flush everything before the volume is snapshotted.
sync
rm -rf "$WORK"
step "done"
exit 0
