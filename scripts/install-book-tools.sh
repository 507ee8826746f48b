#!/usr/bin/env bash
# Installs the book's tools at the versions the book is built with, only when they are
# missing or at another version. A cold install compiles both from source (about 6 minutes
# on two cores); afterwards this script returns in a fraction of a second.
set -euo pipefail

MDBOOK_VERSION=0.5.4
MERMAID_VERSION=0.17.1

# `cargo install` puts binaries here; make sure this shell (and CI) can see them.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# have <binary> <version>: true when `<binary> --version` reports exactly <version>.
have() {
    command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qw "v\?$2"
}

install() {
    echo "installing $1 $2 (cargo install --locked; this takes a few minutes once)" >&2
    cargo install --locked --quiet "$1" --version "$2"
}

have mdbook "$MDBOOK_VERSION" || install mdbook "$MDBOOK_VERSION"
have mdbook-mermaid "$MERMAID_VERSION" || install mdbook-mermaid "$MERMAID_VERSION"

mdbook --version
mdbook-mermaid --version

# mdbook-mermaid ships the mermaid.js it was tested with; write that copy where book.toml
# expects it (theme/, git-ignored), so diagrams render with the pinned version.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -f "$root/theme/mermaid.min.js" ] || [ ! -f "$root/theme/mermaid-init.js" ]; then
    scratch="$(mktemp -d)"
    printf '[book]\ntitle = "scratch"\n' > "$scratch/book.toml"
    mdbook-mermaid install "$scratch" >/dev/null 2>&1
    mkdir -p "$root/theme"
    cp "$scratch/mermaid.min.js" "$scratch/mermaid-init.js" "$root/theme/"
    rm -rf "$scratch"
    echo "wrote theme/mermaid.min.js and theme/mermaid-init.js" >&2
fi
