#!/usr/bin/env bash
# Several Docker engines on this one machine, each a stand-in for a separate host: its own network
# namespace, dockerd (own data root, exec root, socket, bridge and iptables), joined by a private link
# (a bridge in a namespace of its own) on 192.168.77.0/24. The root namespace gets 192.168.77.254 on the
# same link, so the suite reaches what the engines publish on their private addresses, and nothing else
# is touched: all traffic stays between these namespaces.
#
#   engines.sh up N     start N engines: host i is 192.168.77.i, socket /run/kc-mh-h<i>/docker.sock
#   engines.sh stop I   stop engine I (dockerd stops its containers, as on a host shutdown)
#   engines.sh start I  start engine I again (containers with a restart policy come back)
#   engines.sh down     stop every engine and remove namespaces, links and data
#
# Needs root, iproute2 and nsenter. `ip netns exec` would remount /sys and hide the cgroup mounts dockerd
# needs, so dockerd enters only the network namespace (nsenter --net).
set -euo pipefail

PREFIX=kc-mh
LINK_NS=${PREFIX}-link
SUBNET_PREFIX=192.168.77
ROOT_ADDRESS=${SUBNET_PREFIX}.254

log() { printf 'engines.sh: %s\n' "$*" >&2; }

socket_of() { echo "/run/${PREFIX}-h$1/docker.sock"; }

start_engine() {
	local i=$1 run="/run/${PREFIX}-h$1"
	mkdir -p "$run" "/var/lib/${PREFIX}-h$i"
	nsenter --net="/var/run/netns/${PREFIX}-h$i" dockerd \
		--data-root "/var/lib/${PREFIX}-h$i" --exec-root "$run" --pidfile "$run/dockerd.pid" \
		-H "unix://$(socket_of "$i")" >"/tmp/${PREFIX}-h$i.dockerd.log" 2>&1 &
	for _ in $(seq 1 60); do
		docker -H "unix://$(socket_of "$i")" info >/dev/null 2>&1 && return 0
		sleep 1
	done
	log "engine $i did not start; its log:"
	tail -n 30 "/tmp/${PREFIX}-h$i.dockerd.log" >&2
	return 1
}

stop_engine() {
	local pidfile="/run/${PREFIX}-h$1/dockerd.pid" pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 90); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 1
	done
	kill -9 "$pid" 2>/dev/null || true
}

up() {
	local count=$1 i
	down_quietly
	ip netns add "$LINK_NS"
	ip -n "$LINK_NS" link add br0 type bridge
	ip -n "$LINK_NS" link set br0 up
	ip link add "${PREFIX}-root" type veth peer name root-port netns "$LINK_NS"
	ip -n "$LINK_NS" link set root-port master br0 up
	ip addr add "${ROOT_ADDRESS}/24" dev "${PREFIX}-root"
	ip link set "${PREFIX}-root" up
	for i in $(seq 1 "$count"); do
		ip netns add "${PREFIX}-h$i"
		ip -n "${PREFIX}-h$i" link set lo up
		ip link add "${PREFIX}-h$i" type veth peer name "h$i-port" netns "$LINK_NS"
		ip link set "${PREFIX}-h$i" netns "${PREFIX}-h$i"
		ip -n "${PREFIX}-h$i" addr add "${SUBNET_PREFIX}.$i/24" dev "${PREFIX}-h$i"
		ip -n "${PREFIX}-h$i" link set "${PREFIX}-h$i" up
		ip -n "$LINK_NS" link set "h$i-port" master br0 up
		start_engine "$i"
		log "engine $i: ${SUBNET_PREFIX}.$i, unix://$(socket_of "$i")"
	done
}

down_quietly() {
	local ns i
	for ns in $(ip netns list | awk '{print $1}' | grep "^${PREFIX}-h" || true); do
		i=${ns#"${PREFIX}-h"}
		stop_engine "$i"
		# The engine's managed containerd outlives a killed dockerd.
		pkill -f "containerd --config /run/${PREFIX}-h$i/" 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/var/lib/${PREFIX}-h$i" "/run/${PREFIX}-h$i"
	done
	ip link del "${PREFIX}-root" 2>/dev/null || true
	ip netns del "$LINK_NS" 2>/dev/null || true
}

case "${1:-}" in
up) up "${2:?engines.sh up N}" ;;
stop) stop_engine "${2:?engines.sh stop I}" ;;
start) start_engine "${2:?engines.sh start I}" ;;
down) down_quietly ;;
*)
	echo "usage: engines.sh up N | stop I | start I | down" >&2
	exit 2
	;;
esac
