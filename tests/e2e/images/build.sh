#!/usr/bin/env bash
# Builds the local stand-ins for the official images the end-to-end tests need (no container
# registry is reachable here). Idempotent: an image whose tag already carries the same build-input
# hash (label keycloak-cluster.e2e.inputs) is reused. See README.md in this folder.
#
#   keycloak-cluster-e2e/debian:trixie         debootstrap --variant=minbase trixie, imported
#   keycloak-cluster-e2e/postgres:17           behaves like postgres:17
#   keycloak-cluster-e2e/haproxy:3.0           behaves like haproxy:3.0
#   keycloak-cluster-e2e/keycloak:$KEYCLOAK_VERSION  behaves like quay.io/keycloak/keycloak
#
# Usage: tests/e2e/images/build.sh        (from any directory; needs root and a running dockerd)
set -euo pipefail

KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.7.3}"
DEBIAN_SUITE=trixie
POSTGRES_MAJOR=17
HAPROXY_BRANCH=3.0

PREFIX=keycloak-cluster-e2e
DEBIAN_TAG="$PREFIX/debian:$DEBIAN_SUITE"
POSTGRES_TAG="$PREFIX/postgres:$POSTGRES_MAJOR"
HAPROXY_TAG="$PREFIX/haproxy:$HAPROXY_BRANCH"
KEYCLOAK_TAG="$PREFIX/keycloak:$KEYCLOAK_VERSION"
LABEL=keycloak-cluster.e2e.inputs

export DOCKER_BUILDKIT=0
export LC_ALL=C

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"

log() { printf '%s\n' "$*" >&2; }
die() { log "build.sh: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, docker)"
command -v docker >/dev/null || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "cannot talk to the Docker daemon"

# Installs Debian packages for missing commands: need CMD PACKAGE [CMD PACKAGE...]
apt_updated=
need() {
	local missing=()
	while [ "$#" -gt 0 ]; do
		command -v "$1" >/dev/null 2>&1 || missing+=("$2")
		shift 2
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	log "installing ${missing[*]}"
	if [ -z "$apt_updated" ]; then
		apt-get update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Temporary directories (rootfs, build contexts, logs) live under /var/tmp and go away on exit.
TMP_DIRS=()
remove_tmp() {
	local dir="$1" m
	[ -f "$dir" ] && rm -f "$dir"
	[ -d "$dir" ] || return 0
	# debootstrap mounts proc/sys inside the target: never leave them mounted (nor delete through them).
	awk -v d="$dir" 'index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" || true
	done
	rm -rf --one-file-system "$dir"
}
cleanup() {
	local dir
	for dir in "${TMP_DIRS[@]}"; do remove_tmp "$dir"; done
}
trap cleanup EXIT
trap "exit 130" INT
trap "exit 143" TERM
# new_tmp NAME: sets TMP to a new directory (not via $(...): the list must live in this shell).
new_tmp() {
	TMP="$(mktemp -d "/var/tmp/keycloak-cluster-e2e-$1.XXXXXX")"
	TMP_DIRS+=("$TMP")
}

# One build at a time on this machine (parallel test runs share the images).
exec 9>/var/tmp/keycloak-cluster-e2e-images.lock
flock 9

# sha256 over build.sh, the given image's folder (contents and exec bits) and extra strings.
inputs_hash() {
	local dir="$1"; shift
	{
		printf '%s\n' "$@"
		find build.sh "$dir" -type f -print0 | sort -z | while IFS= read -r -d '' f; do
			printf '%s %s %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$([ -x "$f" ] && echo x || echo -)" "$f"
		done
	} | sha256sum | cut -d' ' -f1
}

current_hash() {
	docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true
}

image_id() { docker image inspect -f '{{.Id}}' "$1"; }

# build_image TAG DIR HASH BUILDER...: runs BUILDER unless TAG already carries HASH.
build_image() {
	local tag="$1" hash="$2"; shift 2
	local start=$SECONDS
	if [ "$(current_hash "$tag")" = "$hash" ]; then
		log "$tag: reused ($((SECONDS - start))s)"
		return 0
	fi
	"$@"
	[ "$(current_hash "$tag")" = "$hash" ] || die "$tag: built, but its $LABEL label is not $hash"
	log "$tag: built ($((SECONDS - start))s)"
}

# docker_build TAG HASH CONTEXT: legacy builder, host network (apt inside the build uses the host's
# resolver and routes), output kept in a log shown only on failure.
docker_build() {
	local tag="$1" hash="$2" context="$3" logfile
	logfile="$context.log"
	if ! docker build --network host --force-rm --label "$LABEL=$hash" -t "$tag" "$context" >"$logfile" 2>&1; then
		TMP_DIRS+=("$logfile")
		tail -n 60 "$logfile" >&2
		die "$tag: docker build failed (log above)"
	fi
	rm -f "$logfile"
	# A rebuilt tag leaves the previous image dangling: drop it if nothing else uses it.
	docker image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
}

build_debian() {
	need debootstrap debootstrap
	local rootfs logfile
	new_tmp rootfs
	rootfs="$TMP/rootfs"
	logfile="${rootfs%/rootfs}/debootstrap.log"
	# Default mirror on purpose: debootstrap and apt pick it; no host name is written here.
	if ! debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" >"$logfile" 2>&1; then
		tail -n 40 "$logfile" >&2
		[ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 40 "$rootfs/debootstrap/debootstrap.log" >&2
		die "debootstrap $DEBIAN_SUITE failed"
	fi
	install -m 0755 debian/policy-rc.d "$rootfs/usr/sbin/policy-rc.d"
	rm -rf "${rootfs:?}"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
		"$rootfs"/var/cache/apt/archives/partial/* "$rootfs"/var/log/apt/* "$rootfs"/var/log/dpkg.log \
		"$rootfs"/var/log/bootstrap.log "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf "${rootfs:?}"/dev/* \
		"$rootfs"/tmp/* "$rootfs"/var/tmp/*
	tar --numeric-owner -C "$rootfs" -c . | docker import \
		-c "LABEL $LABEL=$1" \
		-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		-c 'CMD ["bash"]' \
		-m "debootstrap --variant=minbase $DEBIAN_SUITE" \
		- "$DEBIAN_TAG" >/dev/null
	remove_tmp "${rootfs%/rootfs}"
}

build_from_folder() {
	local tag="$1" hash="$2" dir="$3" context
	new_tmp "$dir"
	context="$TMP"
	cp -a "$dir"/. "$context"/
	docker_build "$tag" "$hash" "$context"
	remove_tmp "$context"
}

build_keycloak() {
	local hash="$1" context zip
	need mvn maven unzip unzip
	new_tmp keycloak
	context="$TMP"
	cp -a keycloak/. "$context"/
	if ! mvn -B -q dependency:copy \
		"-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
		"-DoutputDirectory=$context" >"$context/mvn.log" 2>&1; then
		tail -n 40 "$context/mvn.log" >&2
		die "could not fetch org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip with Maven"
	fi
	zip="$context/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
	[ -f "$zip" ] || die "Maven did not produce $zip"
	unzip -q "$zip" -d "$context/unpacked"
	mv "$context/unpacked/keycloak-$KEYCLOAK_VERSION" "$context/dist"
	rm -rf "$zip" "$context/unpacked" "$context/mvn.log"
	# Official layout: /opt/keycloak/data exists; everything group-writable for group 0.
	mkdir -p "$context/dist/data"
	chmod 0755 "$context"/dist/bin/*.sh
	chmod -R g+rwX "$context/dist"
	docker_build "$KEYCLOAK_TAG" "$hash" "$context"
	remove_tmp "$context"
}

total_start=$SECONDS

debian_hash="$(inputs_hash debian "suite=$DEBIAN_SUITE" "variant=minbase")"
build_image "$DEBIAN_TAG" "$debian_hash" build_debian "$debian_hash"
debian_id="$(image_id "$DEBIAN_TAG")"

postgres_hash="$(inputs_hash postgres "base=$debian_id" "postgres=$POSTGRES_MAJOR")"
build_image "$POSTGRES_TAG" "$postgres_hash" build_from_folder "$POSTGRES_TAG" "$postgres_hash" postgres

haproxy_hash="$(inputs_hash haproxy "base=$debian_id" "haproxy=$HAPROXY_BRANCH")"
build_image "$HAPROXY_TAG" "$haproxy_hash" build_from_folder "$HAPROXY_TAG" "$haproxy_hash" haproxy

keycloak_hash="$(inputs_hash keycloak "base=$debian_id" "keycloak=$KEYCLOAK_VERSION")"
build_image "$KEYCLOAK_TAG" "$keycloak_hash" build_keycloak "$keycloak_hash"

log "images ready ($((SECONDS - total_start))s)"
