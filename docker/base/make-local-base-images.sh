#!/usr/bin/env bash
# Make the base images the compose stack builds on, on machines that cannot pull from
# an image registry (CI here): Debian root filesystems from debootstrap, imported into
# podman. Users with a registry keep the Dockerfiles' public defaults instead.
#
#   mwaa-kit/base:bookworm-py3.12  Debian 12 + MWAA's Python 3.12 (copied from pyenv)
#   mwaa-kit/base:trixie           Debian 13, whose Python 3.13 LocalStack needs
#
# Skips an image that already exists unless --force is given.
set -euo pipefail
ENGINE="${ENGINE:-podman}"
FORCE="${1:-}"
WORK="$(mktemp -d /tmp/mwaa-kit-rootfs.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# Shared libraries a CPython build links against, as Debian packages.
PYTHON_LIBS="ca-certificates,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,libreadline8,zlib1g,libncursesw6,libuuid1,libexpat1,libtirpc3,libnsl2,libcurl4,libpq5,tzdata,procps,curl"

exists() { [ -z "$FORCE" ] && "$ENGINE" image exists "$1"; }

make_image() {  # name suite packages [extra setup function]
  local name="$1" suite="$2" packages="$3" extra="${4:-}"
  if exists "$name"; then echo "==> $name exists"; return; fi
  local rootfs="$WORK/$suite"
  echo "==> debootstrap $suite"
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" \
    http://deb.debian.org/debian >"$WORK/$suite.log" 2>&1 || { tail -20 "$WORK/$suite.log"; exit 1; }
  # The machine's CA bundle, which trusts a corporate TLS proxy when there is one.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  if [ -n "$extra" ]; then "$extra" "$rootfs"; fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  echo "==> import $name"
  tar -C "$rootfs" -c . | "$ENGINE" import --change 'CMD ["/bin/bash"]' - "$name" >/dev/null
}

add_python312() {  # MWAA's Python, at the path its shared library was linked for
  local rootfs="$1" source
  source="$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.* | tail -1)"
  mkdir -p "$rootfs$source"
  cp -a "$source/." "$rootfs$source/"
  for tool in python3.12 python3 python pip3.12 pip3 pip; do
    ln -sf "$source/bin/$tool" "$rootfs/usr/local/bin/$tool" 2>/dev/null || true
  done
}

make_image mwaa-kit/base:bookworm-py3.12 bookworm "$PYTHON_LIBS" add_python312
make_image mwaa-kit/base:trixie trixie "ca-certificates,python3,python3-venv,tzdata,curl,procps"
"$ENGINE" images --filter reference='mwaa-kit/base*'
