#!/bin/sh
# Same as the official haproxy image's entrypoint.
set -e

# first arg is `-f` or `--some-option`
if [ "${1#-}" != "$1" ]; then
	set -- haproxy "$@"
fi

if [ "$1" = 'haproxy' ]; then
	shift # "haproxy"
	# -W: master-worker mode (reload with SIGUSR2), -db: stay in the foreground
	set -- haproxy -W -db "$@"
fi

exec "$@"
