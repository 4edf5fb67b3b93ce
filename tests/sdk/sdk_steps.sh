# What the SDK tests share (sourced; set `label` first): a temporary
# directory, kept with ZOO_SDK_KEEP=1; steps that name themselves when they
# fail; the build tree installed into $tmp/prefix; and `zoo`, the installed
# host with only the drop-in directory $tmp/plugins as an extra source,
# printing its stdout and failing the step on a non-zero exit.
cmake=${CMAKE:-cmake}
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoo-$label.XXXXXX")
if [ "${ZOO_SDK_KEEP:-0}" = 1 ]; then
    echo "$label: keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi
prefix=$tmp/prefix
step=""
mkdir -p "$tmp/plugins"

fail() {
    echo "$label: FAILED at step '$step': $*" >&2
    exit 1
}
begin() {
    step=$1
    echo "$label: $step"
}

zoo() {
    env -u ZOO_REGISTRY ZOO_PLUGIN_PATH="$tmp/plugins" "$prefix/bin/zoo" "$@" \
        >"$tmp/zoo.out" 2>"$tmp/zoo.err" || {
        cat "$tmp/zoo.out" "$tmp/zoo.err" >&2
        fail "zoo $* exited non-zero"
    }
    cat "$tmp/zoo.out"
}

# install_prefix BUILD_DIR: the build tree installed into $prefix; sets $pc,
# the directory of zoo.pc.
install_prefix() {
    begin "install into a temporary prefix"
    "$cmake" --install "$1" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
        { cat "$tmp/install.log" >&2; fail "cmake --install"; }
    pc=$(find "$prefix" -name zoo.pc -path '*/pkgconfig/*' | head -n 1)
    [ -n "$pc" ] || fail "no zoo.pc installed"
    pc=$(dirname "$pc")
}
