#!/bin/sh
# Creates one random password per compose user (the agents and the controller) in deploy/compose/secrets/.
# Run once before `docker compose up`; existing files are kept. The files never enter git or the image.
set -eu
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
mkdir -p "$dir"
# The directory is private; the files must be readable by the containers' non-root user (uid 1000),
# because compose bind-mounts file secrets with their host owner and mode.
chmod 0700 "$dir"
umask 022
for user in web-1 web-2 db-1 controller; do
  f="$dir/$user.pw"
  if [ ! -s "$f" ]; then
    # 24 random alphanumerics; tr/head are in every base image.
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$f"
    echo "created $f"
  fi
done
