#!/bin/sh
# The official image's behaviour that the compose files rely on: `redis-server [args]` runs without protected mode,
# as the redis user, in /data.
set -e
if [ "$1" = "redis-server" ]; then
  shift
  exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no "$@"
fi
exec "$@"
