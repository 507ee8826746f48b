#!/usr/bin/env bash
# A RUSTC_WRAPPER for scripts/first-feedback/run.sh: runs rustc and appends a line to
# $RUSTC_CPU_LOG: package, crate name, crate type, user and system CPU seconds.
rustc=$1
shift
name=? kind=lib prev=
for arg in "$@"; do
    case $prev in
    --crate-name) name=$arg ;;
    --crate-type) kind=$arg ;;
    esac
    [ "$arg" = --test ] && kind=test
    prev=$arg
done
times=$(mktemp)
/usr/bin/time -f "%U %S" -o "$times" "$rustc" "$@"
status=$?
echo "${CARGO_PKG_NAME:-?} $name $kind $(tail -n 1 "$times")" >>"$RUSTC_CPU_LOG"
rm -f "$times"
exit $status
