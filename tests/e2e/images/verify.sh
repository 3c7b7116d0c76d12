#!/usr/bin/env bash
# Smoke-tests the images built by build.sh by running them the way the program and the e2e suite do.
# Creates only containers, volumes and networks named kc-e2e-imgcheck-<pid>-*, and removes them all.
# Usage: tests/e2e/images/verify.sh [postgres|haproxy|keycloak ...]   (default: all)
set -euo pipefail

KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.7.3}"
PG_IMAGE=keycloak-cluster-e2e/postgres:17
HAPROXY_IMAGE=keycloak-cluster-e2e/haproxy:3.0
KC_IMAGE="keycloak-cluster-e2e/keycloak:$KEYCLOAK_VERSION"

P="kc-e2e-imgcheck-$$"
CONTAINERS=() VOLUMES=() NETWORKS=() DIRS=()
cleanup() {
	local x
	for x in "${CONTAINERS[@]}"; do docker rm -f -v "$x" >/dev/null 2>&1 || true; done
	for x in "${VOLUMES[@]}"; do docker volume rm "$x" >/dev/null 2>&1 || true; done
	for x in "${NETWORKS[@]}"; do docker network rm "$x" >/dev/null 2>&1 || true; done
	for x in "${DIRS[@]}"; do rm -rf "$x"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0 failed=0
ok() { printf 'ok   %s\n' "$*"; passed=$((passed + 1)); }
fail() { printf 'FAIL %s\n' "$*"; failed=$((failed + 1)); }
check() { local what="$1"; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi; }
network() { docker network create "$P-$1" >/dev/null; NETWORKS+=("$P-$1"); }
volume() { docker volume create "$P-$1" >/dev/null; VOLUMES+=("$P-$1"); }
# logs_have CONTAINER TEXT (no grep -q: an early exit would SIGPIPE docker logs under pipefail)
logs_have() { docker logs "$1" 2>&1 | grep -F -- "$2" >/dev/null; }
run_d() { local name="$1"; shift; docker run -d --name "$P-$name" "$@" >/dev/null; CONTAINERS+=("$P-$name"); }

# wait_for SECONDS CMD...: polls CMD every 0.5 s; prints elapsed seconds.
wait_for() {
	local limit="$1" start; shift
	start=$(date +%s.%N)
	until "$@" >/dev/null 2>&1; do
		if (( $(date +%s) - ${start%.*} >= limit )); then return 1; fi
		sleep 0.5
	done
	echo "$(date +%s.%N) - $start" | bc | xargs printf '%.1f'
}

pg_ready() { docker exec "$P-$1" pg_isready -q -h 127.0.0.1 -U u -d d; }
psql_net() { # psql_net NETWORK HOST PASSWORD SQL
	docker run --rm --network "$P-$1" -e PGPASSWORD="$3" -e PGCONNECT_TIMEOUT=5 "$PG_IMAGE" \
		psql -h "$2" -U u -d d -v ON_ERROR_STOP=1 -tAc "$4"
}

verify_postgres() {
	echo "== $PG_IMAGE"
	network pg; volume pgdata
	run_d pg --network "$P-pg" -e POSTGRES_USER=u -e POSTGRES_PASSWORD=pw -e POSTGRES_DB=d \
		-v "$P-pgdata:/var/lib/postgresql/data" "$PG_IMAGE"
	# pg_isready must not go green while the init server runs (it only listens on a private socket).
	local start=$SECONDS
	until pg_ready pg || docker exec "$P-pg" pg_isready -q 2>/dev/null; do
		(( SECONDS - start < 60 )) || break
		sleep 0.2
	done
	if logs_have "$P-pg" 'init process complete'; then ok "first pg_isready success came after init ($((SECONDS - start))s)"; else fail "pg_isready answered before init completed"; fi
	check "pg_isready -h 127.0.0.1 -U u -d d" pg_ready pg
	check "server runs as postgres, PID 1" docker exec "$P-pg" bash -c '[ "$(stat -c %U /proc/1)" = postgres ] && grep -q postgres /proc/1/cmdline'
	local enc
	enc="$(psql_net pg "$P-pg" pw 'SHOW server_encoding' 2>&1)" || true
	[ "$enc" = UTF8 ] && ok "TCP login with password from another container; server_encoding=UTF8" || fail "server_encoding: $enc"
	check "wrong password is refused" bash -c "! docker run --rm --network $P-pg -e PGPASSWORD=wrong -e PGCONNECT_TIMEOUT=5 $PG_IMAGE psql -h $P-pg -U u -d d -tAc 'select 1'"
	check "no password is refused over TCP" bash -c "! docker run --rm --network $P-pg -e PGCONNECT_TIMEOUT=5 $PG_IMAGE psql -w -h $P-pg -U u -d d -tAc 'select 1'"
	check "listen_addresses is *" bash -c "[ \"\$(docker exec $P-pg psql -U u -d d -tAc 'SHOW listen_addresses')\" = '*' ]"
	check "create table" psql_net pg "$P-pg" pw "CREATE TABLE keep(v text); INSERT INTO keep VALUES ('kept')"
	local t0=$SECONDS code
	docker stop "$P-pg" >/dev/null
	code="$(docker inspect -f '{{.State.ExitCode}}' "$P-pg")"
	if [ "$code" = 0 ] && (( SECONDS - t0 < 8 )); then ok "docker stop: exit 0 in $((SECONDS - t0))s"; else fail "docker stop: exit $code after $((SECONDS - t0))s"; fi
	logs_have "$P-pg" 'fast shutdown request' && ok "SIGINT -> fast shutdown" || fail "no fast shutdown in log"
	run_d pg2 --network "$P-pg" -e POSTGRES_USER=u -e POSTGRES_PASSWORD=other -e POSTGRES_DB=d \
		-v "$P-pgdata:/var/lib/postgresql/data" "$PG_IMAGE"
	wait_for 60 pg_ready pg2 >/dev/null || fail "restart: not ready"
	logs_have "$P-pg2" 'Skipping initialization' && ok "restart with the same volume skips init" || fail "restart re-ran init"
	[ "$(psql_net pg "$P-pg2" pw 'SELECT v FROM keep' 2>&1)" = kept ] && ok "data kept across restart (old password still valid)" || fail "data lost"
	# Root-owned data directories: an empty named volume chowned to root, and a root-owned bind mount.
	volume rootvol
	docker run --rm -v "$P-rootvol:/d" --entrypoint bash "$PG_IMAGE" -c 'chown root:root /d && chmod 755 /d'
	local bind; bind="$(mktemp -d /var/tmp/kc-e2e-imgcheck.XXXXXX)"; DIRS+=("$bind"); chmod 755 "$bind"
	run_d pg3 -e POSTGRES_USER=u -e POSTGRES_PASSWORD=pw -e POSTGRES_DB=d -v "$P-rootvol:/var/lib/postgresql/data" "$PG_IMAGE"
	local initdir; initdir="$(mktemp -d /var/tmp/kc-e2e-imgcheck.XXXXXX)"; DIRS+=("$initdir"); chmod 755 "$initdir"
	echo 'CREATE TABLE from_sql(x int);' > "$initdir/01-table.sql"
	echo 'psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "CREATE TABLE from_sh(x int)"' > "$initdir/02-table.sh"
	chmod 644 "$initdir"/*
	run_d pg4 -e POSTGRES_USER=u -e POSTGRES_PASSWORD=pw -e POSTGRES_DB=d -v "$bind:/var/lib/postgresql/data" \
		-v "$initdir:/docker-entrypoint-initdb.d:ro" "$PG_IMAGE"
	wait_for 60 pg_ready pg3 >/dev/null && ok "root-owned named volume works" || fail "root-owned named volume: $(docker logs --tail 5 "$P-pg3" 2>&1)"
	wait_for 60 pg_ready pg4 >/dev/null && ok "root-owned bind mount works" || fail "root-owned bind mount: $(docker logs --tail 5 "$P-pg4" 2>&1)"
	check "/docker-entrypoint-initdb.d *.sql and *.sh ran" bash -c "[ \"\$(docker exec $P-pg4 psql -U u -d d -tAc \"select count(*) from pg_tables where tablename in ('from_sql','from_sh')\")\" = 2 ]"
	docker run --rm -e POSTGRES_USER=u "$PG_IMAGE" >/dev/null 2>&1 && fail "starts without POSTGRES_PASSWORD" || ok "refuses to init without POSTGRES_PASSWORD (like official)"
}

verify_haproxy() {
	echo "== $HAPROXY_IMAGE"
	local cfg; cfg="$(mktemp /var/tmp/kc-e2e-imgcheck.XXXXXX)"; DIRS+=("$cfg")
	cat > "$cfg" <<-'EOF'
		global
		    log stdout format raw local0 info
		defaults
		    mode http
		    timeout connect 2s
		    timeout client 10s
		    timeout server 10s
		frontend fe
		    bind :8080
		    http-request return status 200 content-type text/plain string ok
	EOF
	chmod 644 "$cfg"
	# Like the program: the config is uploaded into the created container before it starts.
	docker create --name "$P-ha" "$HAPROXY_IMAGE" >/dev/null; CONTAINERS+=("$P-ha")
	docker cp "$cfg" "$P-ha:/usr/local/etc/haproxy/haproxy.cfg"
	docker start "$P-ha" >/dev/null
	local probe='exec 3<>/dev/tcp/127.0.0.1/8080; printf "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3; read -r status <&3; [[ $status == *" 200 "* ]]'
	wait_for 20 docker exec "$P-ha" bash -c "$probe" >/dev/null && ok "answers 200 on :8080 (bash /dev/tcp probe)" || fail "no answer on 8080: $(docker logs "$P-ha" 2>&1 | tail -3)"
	check "PID 1 is 'haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg'" docker exec "$P-ha" bash -c '[ "$(tr "\0" " " </proc/1/cmdline)" = "haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg " ]'
	check "runs as non-root user haproxy" docker exec "$P-ha" bash -c '[ "$(id -u)" != 0 ] && [ "$(stat -c %U /proc/1)" = haproxy ]'
	local t0=$SECONDS
	docker stop "$P-ha" >/dev/null
	ok "docker stop (SIGUSR1): exit $(docker inspect -f '{{.State.ExitCode}}' "$P-ha") in $((SECONDS - t0))s"
}

verify_keycloak() {
	echo "== $KC_IMAGE"
	local out
	out="$(docker run --rm "$KC_IMAGE" --version 2>&1)"
	grep -q "Keycloak $KEYCLOAK_VERSION" <<<"$out" && ok "--version prints $KEYCLOAK_VERSION" || fail "--version: $out"
	check "no curl" bash -c "! docker run --rm --entrypoint bash $KC_IMAGE -c 'command -v curl'"
	check "no wget" bash -c "! docker run --rm --entrypoint bash $KC_IMAGE -c 'command -v wget'"
	out="$(docker run --rm --entrypoint id "$KC_IMAGE")"
	[[ $out == "uid=1000(keycloak) gid=0(root)"* ]] && ok "id: $out" || fail "id: $out"
	network kc; volume kcpg
	run_d kcpg --network "$P-kc" --network-alias postgres -e POSTGRES_USER=keycloak -e POSTGRES_PASSWORD=dbpw -e POSTGRES_DB=keycloak \
		-v "$P-kcpg:/var/lib/postgresql/data" "$PG_IMAGE"
	wait_for 60 docker exec "$P-kcpg" pg_isready -q -h 127.0.0.1 -U keycloak -d keycloak >/dev/null || fail "postgres for keycloak not ready"
	local t0; t0=$(date +%s)
	run_d kc --network "$P-kc" -e KC_DB=postgres -e KC_DB_URL=jdbc:postgresql://postgres:5432/keycloak \
		-e KC_DB_USERNAME=keycloak -e KC_DB_PASSWORD=dbpw -e KC_HTTP_ENABLED=true -e KC_HOSTNAME_STRICT=false \
		-e KC_HEALTH_ENABLED=true -e KC_METRICS_ENABLED=true \
		-e KC_BOOTSTRAP_ADMIN_USERNAME=admin -e KC_BOOTSTRAP_ADMIN_PASSWORD=admin-pw-1 "$KC_IMAGE" start
	local probe='exec 3<>/dev/tcp/127.0.0.1/9000; printf "GET /health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3; read -r status <&3; [[ $status == *" 200 "* ]]'
	local took
	if took="$(wait_for 300 docker exec "$P-kc" bash -c "$probe")"; then
		ok "start (first start, auto-build included): /health/ready 200 on :9000 after ${took}s"
	else
		fail "keycloak not ready: $(docker logs --tail 30 "$P-kc" 2>&1)"
	fi
	logs_have "$P-kc" 'Updating the configuration' && ok "auto-build ran on start (as on the official image)" || fail "no auto-build seen"
	check "metrics on :9000" docker exec "$P-kc" bash -c "${probe//health\/ready/metrics}"
	local t1=$SECONDS
	docker stop "$P-kc" >/dev/null
	ok "docker stop: exit $(docker inspect -f '{{.State.ExitCode}}' "$P-kc") in $((SECONDS - t1))s"
	t0=$(date +%s)
	docker start "$P-kc" >/dev/null
	if took="$(wait_for 300 docker exec "$P-kc" bash -c "$probe")"; then ok "restart of the same container: ready after ${took}s"; else fail "restart not ready"; fi
}

command -v bc >/dev/null || { apt-get update -qq && apt-get install -y -qq bc >/dev/null; }
targets=("$@"); [ "${#targets[@]}" -gt 0 ] || targets=(postgres haproxy keycloak)
for t in "${targets[@]}"; do "verify_$t"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
