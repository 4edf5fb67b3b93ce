#!/bin/sh
# zoo check-plugin on one plugin, as ctest runs it for every shipped plugin
# (tests/cli/cli.cmake): every check must PASS or SKIP but the KNOWN ones,
# which must FAIL. A known failure is a bug found and reported, not a check
# weakened: once it is fixed the check passes, this script fails, and the
# entry comes out of cli.cmake.
#   check_plugin.sh ZOO REGISTRY NAME [KNOWN_CHECK]...
set -u
zoo=$1 registry=$2 name=$3
shift 3
out=$("$zoo" check-plugin "$name" --registry "$registry")
code=$?
printf '%s\n' "$out"
status=0
for check in $(printf '%s\n' "$out" | sed -n 's/^FAIL \([^:]*\):.*/\1/p'); do
    case " $* " in
    *" $check "*) echo "known failure of $name: $check" ;;
    *) echo "FAILED: $name: $check" >&2 && status=1 ;;
    esac
done
for known in "$@"; do
    printf '%s\n' "$out" | grep -q "^FAIL $known: " ||
        { echo "FAILED: $name: $known passes now: take it out of the known failures in tests/cli/cli.cmake" >&2 && status=1; }
done
want=0
[ $# -gt 0 ] && want=1
[ "$code" = "$want" ] || { echo "FAILED: zoo check-plugin $name exited $code, expected $want" >&2 && status=1; }
exit $status
