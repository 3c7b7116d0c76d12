#!/usr/bin/env bash
# Minimal stand-in for the official postgres image's docker-entrypoint.sh: same environment
# variables (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, their *_FILE forms, POSTGRES_INITDB_ARGS,
# POSTGRES_HOST_AUTH_METHOD), same data directory handling, same /docker-entrypoint-initdb.d hook.
# Unlike the official script, the temporary init server listens on no TCP address and on a private
# unix socket directory, so pg_isready cannot go green before the real server is up.
set -Eeuo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# file_env VAR [DEFAULT]: VAR from $VAR or from the file named by $VAR_FILE.
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}"
	if [ -n "${!var:-}" ] && [ -n "${!fileVar:-}" ]; then
		echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
		exit 1
	fi
	local val="$def"
	if [ -n "${!var:-}" ]; then
		val="${!var}"
	elif [ -n "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

# `docker run image -c foo=bar` means `postgres -c foo=bar`.
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "${1:-}" != 'postgres' ]; then
	exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
	# A fresh named volume or bind mount may be owned by root: hand it to postgres.
	mkdir -p "$PGDATA"
	find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
	chmod 00700 "$PGDATA" || :
	install -d -o postgres -g postgres -m 3777 /var/run/postgresql
	export HOME=/var/lib/postgresql
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

chmod 00700 "$PGDATA" 2>/dev/null || :

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"

	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
		cat >&2 <<-'EOM'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
		EOM
		exit 1
	fi

	init_tmp="$(mktemp -d)"
	trap 'rm -rf "$init_tmp"' EXIT
	initdb_args=(--username="$POSTGRES_USER")
	if [ -n "$POSTGRES_PASSWORD" ]; then
		(umask 077; printf '%s\n' "$POSTGRES_PASSWORD" > "$init_tmp/pwfile")
		initdb_args+=(--pwfile="$init_tmp/pwfile")
	fi
	# Like the official image: local and loopback connections keep initdb's default (trust),
	# every other host must authenticate with $POSTGRES_HOST_AUTH_METHOD.
	eval 'initdb "${initdb_args[@]}" '"$POSTGRES_INITDB_ARGS"
	rm -f "$init_tmp/pwfile"
	{
		printf '\n'
		if [ "$POSTGRES_HOST_AUTH_METHOD" = 'trust' ]; then
			printf '# warning trust is enabled for all connections\n'
		fi
		printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
	} >> "$PGDATA/pg_hba.conf"

	# Temporary server: no TCP, private socket directory (invisible to pg_isready and to clients).
	pg_ctl -D "$PGDATA" -w start \
		-o "-c listen_addresses='' -c unix_socket_directories='$init_tmp' -p 5432"
	export PGHOST="$init_tmp" PGPORT=5432

	run_sql() {
		PGPASSWORD='' psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
	}
	if [ "$POSTGRES_DB" != 'postgres' ]; then
		run_sql --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
	fi

	shopt -s nullglob
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					echo "$0: running $f"; "$f"
				else
					echo "$0: sourcing $f"
					# shellcheck source=/dev/null
					. "$f"
				fi
				;;
			*.sql) echo "$0: running $f"; run_sql --dbname "$POSTGRES_DB" -f "$f" ;;
			*.sql.gz) echo "$0: running $f"; gunzip -c "$f" | run_sql --dbname "$POSTGRES_DB" ;;
			*) echo "$0: ignoring $f" ;;
		esac
	done
	shopt -u nullglob

	pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGHOST PGPORT
	rm -rf "$init_tmp"
	trap - EXIT
	echo
	echo 'PostgreSQL init process complete; ready for start up.'
	echo
else
	echo
	echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
	echo
fi

exec "$@"
