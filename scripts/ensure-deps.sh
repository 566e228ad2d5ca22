#!/usr/bin/env bash
# Installs what Slipway needs and is missing, and says so. Safe to run every time: a no-op
# when everything is there. Debian packages are installed only when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have bwrap || need_pkgs+=(bubblewrap)
have pasta || need_pkgs+=(passt)
have ip || need_pkgs+=(iproute2)
have haproxy || need_pkgs+=(haproxy)
have varnishd || need_pkgs+=(varnish)
have chromium || need_pkgs+=(chromium)
have chromedriver || need_pkgs+=(chromium-driver)
have git || need_pkgs+=(git)
# Images: base images from Debian packages (mmdebstrap), run with podman on runc (crun cannot
# run on hybrid cgroup hosts); uidmap for podman's user namespaces.
have mmdebstrap || need_pkgs+=(mmdebstrap)
have podman || need_pkgs+=(podman)
have runc || need_pkgs+=(runc)
have newuidmap || need_pkgs+=(uidmap)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_pkgs+=(postgresql)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "slipway: installing Debian packages: ${need_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "slipway: missing Debian packages: ${need_pkgs[*]} (run as root, or: sudo apt-get install ${need_pkgs[*]})" >&2
  fi
fi

# The unprivileged account that repository code runs as (builds, start commands, tests): no
# home, no login shell. Only root can create it, and only root-run Slipway uses it.
if [ "$(id -u)" = 0 ] && ! id -u slipway-run >/dev/null 2>&1; then
  echo "slipway: creating the sandbox user slipway-run"
  useradd --system --no-create-home --shell /usr/sbin/nologin slipway-run
fi

# npm packages: install when node_modules is missing or was installed from another lockfile
# (its hash is kept in node_modules after each install).
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.slipway-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "slipway: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.slipway-lock-hash
fi
