#!/usr/bin/env bash
# CI check of the gateway's Debian package (issue 16 item 2; docs/edge-operations.md,
# "Installing on the gateway box"): builds feedlot-edge from the binary `cargo test` left
# (scripts/package-edge-deb.sh), installs it with dpkg, checks the installed binary's --version
# and config check, the system user and the data directory, runs the gateway for a few seconds
# as the service user (the outbox appears under /var/lib/feedlot-edge), then upgrades to a newer
# package version and checks the outbox, a marker file and an edited conffile survive, removes
# the package (binary gone, config and data kept) and purges it (both gone). Not checked: the
# systemd unit starting (CI has no systemd); `systemd-analyze verify` runs when present.
#
#   scripts/check-edge-deb.sh [BINARY]      (root only; elsewhere it says so and skips)
#
# Takes seconds. Safe to run twice: a leftover install of a failed run is purged first; an
# install that looks real (an outbox, or a config edited by someone else) stops the check.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "check-edge-deb: SKIPPED: installing a package needs root (CI runs as root)"
    exit 0
fi
start=$(date +%s)
binary=${1:-${CARGO_TARGET_DIR:-target}/debug/edge}
[ -x "$binary" ] || { echo "check-edge-deb: FAIL: no executable at $binary (cargo build -p edge first)" >&2; exit 1; }
binary=$(realpath "$binary")
conf=/etc/feedlot-edge/edge.toml
data=/var/lib/feedlot-edge
edit_line="# edited by scripts/check-edge-deb.sh"
fail() { echo "check-edge-deb: FAIL: $*" >&2; exit 1; }
# As the unit runs it: the service user and group, nothing else (setpriv execs, so SIGTERM
# reaches the gateway itself).
as_service() { setpriv --reuid=feedlot-edge --regid=feedlot-edge --init-groups -- "$@"; }
installed() { dpkg-query -W -f='${db:Status-Status}' feedlot-edge 2>/dev/null | grep -qv '^not-installed$'; }

if installed; then
    if [ -e "$data/outbox.redb" ] && [ ! -e "$data/check-edge-deb.marker" ]; then
        fail "feedlot-edge is installed here with an outbox ($data/outbox.redb): not purging a real gateway"
    fi
    if [ -f "$conf" ] && ! grep -qxF "$edit_line" "$conf" \
        && ! dpkg-query -W -f='${Conffiles}\n' feedlot-edge | grep -q " $(md5sum < "$conf" | cut -d' ' -f1)\$"; then
        fail "feedlot-edge is installed here with an edited $conf: not purging a real gateway"
    fi
    echo "check-edge-deb: purging the leftover install of an earlier run"
    dpkg --purge feedlot-edge >/dev/null
fi
trap 'dpkg --purge feedlot-edge >/dev/null 2>&1 || true' EXIT

upstream=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml)
outdir=$(mktemp -d)
trap 'dpkg --purge feedlot-edge >/dev/null 2>&1 || true; rm -rf "$outdir"' EXIT
deb1=$(DEB_VERSION="$upstream-1" bash scripts/package-edge-deb.sh "$binary" "$outdir")
deb2=$(DEB_VERSION="$upstream-2" bash scripts/package-edge-deb.sh "$binary" "$outdir")
echo "check-edge-deb: built $(basename "$deb1") and $(basename "$deb2")"

# The listed Depends cover what the binary links (when dpkg-shlibdeps is installed).
if command -v dpkg-shlibdeps >/dev/null; then
    shl=$(mktemp -d)
    mkdir "$shl/debian"
    printf 'Source: feedlot-edge\n\nPackage: feedlot-edge\nArchitecture: any\n' > "$shl/debian/control"
    needed=$(cd "$shl" && dpkg-shlibdeps -O -e "$binary" 2>/dev/null) || fail "dpkg-shlibdeps $binary"
    rm -rf "$shl"
    listed=$(dpkg-deb -f "$deb1" Depends)
    [ -n "$needed" ] || fail "dpkg-shlibdeps found no dependencies of $binary"
    for pkg in $(echo "${needed#shlibs:Depends=}" | tr ',' '\n' | sed 's/^ *//; s/ .*//'); do
        echo "$listed" | grep -qE "(^|, )$pkg( |,|$)" || fail "the binary needs $pkg, not in Depends: $listed"
    done
fi
if command -v systemd-analyze >/dev/null; then
    # Only the unit's own errors: the binary it names is not installed yet.
    if systemd-analyze verify packaging/deb/feedlot-edge.service 2>&1 | grep -v '/usr/bin/feedlot-edge' | grep .; then
        fail "systemd-analyze verify found problems in packaging/deb/feedlot-edge.service"
    fi
fi

check_installed() {
    local want=$1
    [ "$(dpkg-query -W -f='${Version}' feedlot-edge)" = "$want" ] || fail "installed version is not $want"
    [ "$(feedlot-edge --version)" = "edge $upstream" ] \
        || fail "feedlot-edge --version printed '$(feedlot-edge --version)', not 'edge $upstream'"
    feedlot-edge check-config --config "$conf" >/dev/null || fail "check-config of $conf"
    # The service user reads the config (root:feedlot-edge 0640) and owns the data directory.
    as_service /usr/bin/feedlot-edge check-config --config "$conf" >/dev/null \
        || fail "check-config of $conf as feedlot-edge"
    getent passwd feedlot-edge >/dev/null || fail "no feedlot-edge user"
    [ "$(stat -c '%U:%G %a' "$data")" = "feedlot-edge:feedlot-edge 750" ] \
        || fail "$data is $(stat -c '%U:%G %a' "$data")"
    [ "$(stat -c '%U:%G %a' "$conf")" = "root:feedlot-edge 640" ] || fail "$conf is $(stat -c '%U:%G %a' "$conf")"
    [ -f /lib/systemd/system/feedlot-edge.service ] || fail "no systemd unit"
}

echo "check-edge-deb: install $upstream-1"
dpkg -i "$deb1" >/dev/null
check_installed "$upstream-1"
grep -qx 'data_dir = "/var/lib/feedlot-edge"' "$conf" || fail "$conf does not put data_dir under /var/lib"

# Marks this install as the check's own (a leftover of a failed run is then purged next time).
echo marker > "$data/check-edge-deb.marker"

# The gateway as the unit runs it (user, config, working directory), for 3 s, then SIGTERM: a
# clean shutdown (exit 0) and the outbox in the data directory. Skipped if its port is taken.
listen=$(sed -n 's/^listen = "\(.*\)"/\1/p' "$conf" | head -1)
if (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; then
    echo "check-edge-deb: $listen is taken here: not running the gateway"
    touch "$data/outbox.redb"
else
    (cd "$data" && timeout --preserve-status -s TERM 3 \
        setpriv --reuid=feedlot-edge --regid=feedlot-edge --init-groups -- /usr/bin/feedlot-edge run --config "$conf" >"$outdir/run.log" 2>&1) \
        || { cat "$outdir/run.log" >&2; fail "feedlot-edge run as feedlot-edge did not stop cleanly"; }
    [ "$(stat -c %U "$data/outbox.redb")" = feedlot-edge ] || fail "no outbox owned by feedlot-edge in $data"
fi
outbox_sum=$(md5sum < "$data/outbox.redb")
echo "$edit_line" >> "$conf"

echo "check-edge-deb: upgrade to $upstream-2"
dpkg -i --force-confold "$deb2" >/dev/null
check_installed "$upstream-2"
[ "$(md5sum < "$data/outbox.redb")" = "$outbox_sum" ] || fail "the upgrade changed the outbox"
[ -f "$data/check-edge-deb.marker" ] || fail "the upgrade lost $data/check-edge-deb.marker"
grep -qxF "$edit_line" "$conf" || fail "the upgrade lost the edit of $conf"

echo "check-edge-deb: remove"
dpkg -r feedlot-edge >/dev/null
[ ! -e /usr/bin/feedlot-edge ] || fail "dpkg -r left /usr/bin/feedlot-edge"
[ -f "$data/outbox.redb" ] || fail "dpkg -r lost $data/outbox.redb"
[ -f "$data/check-edge-deb.marker" ] || fail "dpkg -r lost $data/check-edge-deb.marker"
grep -qxF "$edit_line" "$conf" || fail "dpkg -r lost $conf"

echo "check-edge-deb: purge"
dpkg --purge feedlot-edge >/dev/null
[ ! -e "$data" ] || fail "dpkg --purge left $data"
[ ! -e /etc/feedlot-edge ] || fail "dpkg --purge left /etc/feedlot-edge"
! installed || fail "feedlot-edge still known to dpkg after --purge"

echo "check-edge-deb: ok ($(( $(date +%s) - start )) s)"
