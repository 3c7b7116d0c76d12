#!/usr/bin/env bash
# Runs the Pulumi CLI against this project with a local file backend (no Pulumi account) and a
# generated secrets passphrase, selecting (or creating) the stack first.
#   STACK        stack name (default: dev)
#   PULUMI_CONFIG_PASSPHRASE / PULUMI_CONFIG_PASSPHRASE_FILE   used as given when set
set -euo pipefail
cd "$(dirname "$0")/.."

command -v pulumi >/dev/null 2>&1 || {
    echo "pulumi-local: the Pulumi CLI is not on PATH; install it first (see README, Prerequisites)" >&2
    exit 127
}

state_dir="$PWD/.pulumi-state"
mkdir -p "$state_dir"
chmod 700 "$state_dir"
export PULUMI_BACKEND_URL="file://$state_dir"

if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    passphrase_file="$state_dir/passphrase"
    if [ ! -s "$passphrase_file" ]; then
        (umask 077 && head -c 32 /dev/urandom | base64 > "$passphrase_file")
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase_file"
fi

stack="${STACK:-dev}"
pulumi stack select --create "$stack" --non-interactive >/dev/null
exec pulumi "$@"
