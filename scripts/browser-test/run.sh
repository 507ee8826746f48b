#!/usr/bin/env bash
# The book's browser test (see check.mjs): every page of the built book opened in headless
# Chromium; fails on a JavaScript error, a diagram that did not render or is too small to
# read, an empty include, or a broken link inside the book.
#
#   bash scripts/browser-test/run.sh     # after `mdbook build`
#
# Installs what it needs when missing: Debian's chromium (with apt-get, when running as root,
# as CI does) and the pinned playwright-core (npm ci; it never downloads a browser of its own).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing Debian's chromium (apt-get; once)" >&2
        apt-get update -qq
        # fonts-liberation: Arial's metrics, which mermaid's labels fall back to, as on
        # most readers' machines (chromium pulls it in too; named so it stays).
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null
        if [ ! -x "$chromium" ]; then
            echo "browser test: installed Debian's chromium, but $chromium is still missing" >&2
            exit 1
        fi
    else
        echo "browser test: $chromium is missing; install Debian's chromium (apt-get install chromium) or set CHROMIUM" >&2
        exit 1
    fi
fi

if ! command -v node >/dev/null 2>&1; then
    echo "browser test: node (20 or newer) is missing" >&2
    exit 1
fi

# The pinned playwright-core, installed from package-lock.json only when it is not already there.
pinned="$(node -e 'console.log(require(process.argv[1]).packages["node_modules/playwright-core"].version)' "$here/package-lock.json")"
installed="$(node -e 'try { console.log(require(process.argv[1]).version) } catch { console.log("none") }' "$here/node_modules/playwright-core/package.json")"
if [ "$pinned" != "$installed" ]; then
    echo "installing playwright-core $pinned (npm ci; once)" >&2
    (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi

if [ ! -f "$root/book/index.html" ]; then
    echo "browser test: no book/index.html; run \`mdbook build\` first" >&2
    exit 1
fi

# The book is served under the path it is published at (book.toml's site-url), so the 404
# page's links are checked as GitHub Pages serves them.
base="$(sed -n 's/^site-url *= *"\(.*\)"/\1/p' "$root/book.toml")"
CHROMIUM="$chromium" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    node "$here/check.mjs" "$root/book" "${base:-/}" "$root/chapters"
