#!/usr/bin/env bash
# Lists the public items of the library whose doc comment has no example (no ``` block),
# one `file:line: item` a line, then the count. A cheap textual check, not rustdoc's view:
# it reads each `pub fn|struct|enum|trait|type|const|static` (not `pub(crate)`) and the
# `///` block just above it (attributes and plain `//` comments between are allowed). Items whose example sits on
# their type or module are listed too; read the list, do not chase the count to zero.
#
#   scripts/doc-examples.sh            # every file under src/ but the learner binary
#   scripts/doc-examples.sh src/fs     # one module
set -euo pipefail
cd "$(dirname "$0")/.."
paths=("${@:-src}")
find "${paths[@]}" -name '*.rs' -not -path 'src/bin/*' -not -name '*.orig' | sort |
    xargs awk '
        FNR == 1 { example = 0 }
        /^[[:space:]]*\/\/\// { if ($0 ~ /```/) example = 1; next }
        in_attr { if ($0 ~ /\][[:space:]]*$/) in_attr = 0; next }
        /^[[:space:]]*#\[/ { if ($0 !~ /\][[:space:]]*$/) in_attr = 1; next }
        /^[[:space:]]*\/\/([^\/!]|$)/ { next }
        /^[[:space:]]*pub (const |async |unsafe )*(fn|struct|enum|trait|type|const|static) / {
            if (!example) {
                line = $0; sub(/^[[:space:]]*/, "", line); sub(/[({<:=].*/, "", line)
                print FILENAME ":" FNR ": " line; missing++
            }
        }
        { example = 0 }
        END { print missing + 0 " public items without an example" > "/dev/stderr" }
    '
