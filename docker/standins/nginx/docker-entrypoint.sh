#!/bin/sh
# The official image's 20-envsubst-on-templates.sh step: each $dir/*$suffix under /etc/nginx/templates becomes
# $NGINX_ENVSUBST_OUTPUT_DIR/<name without suffix>, substituting only the environment variables whose names match
# $NGINX_ENVSUBST_FILTER (all, when unset), so nginx's own $variables stay intact.
set -eu
if [ "${1:-}" = "nginx" ] || [ "${1:-}" = "nginx-debug" ]; then
  dir=/etc/nginx/templates
  suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
  out=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
  filter=${NGINX_ENVSUBST_FILTER:-}
  vars=$(env | cut -d= -f1 | grep -E "${filter:-.}" | sed 's/^/${/; s/$/}/' | tr '\n' ' ')
  if [ -d "$dir" ]; then
    find "$dir" -follow -type f -name "*$suffix" | while read -r template; do
      rel=${template#"$dir"/}
      target="$out/${rel%"$suffix"}"
      mkdir -p "$(dirname "$target")"
      echo "$0: rendering $template to $target" >&2
      envsubst "$vars" < "$template" > "$target"
    done
  fi
fi
exec "$@"
