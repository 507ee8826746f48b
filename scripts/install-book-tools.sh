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
