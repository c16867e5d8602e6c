#!/usr/bin/env bash
# Builds the gateway's Debian package, feedlot-edge_<version>_<arch>.deb, with Debian's own
# `dpkg-deb` (no cargo-deb): /usr/bin/feedlot-edge, the systemd unit, the default config
# /etc/feedlot-edge/edge.toml (a conffile: the example config with data_dir under /var/lib),
# and the maintainer scripts from packaging/deb/. Takes seconds; strips nothing.
#
#   scripts/package-edge-deb.sh [BINARY] [OUTDIR]
#
# BINARY: the `edge` binary to ship; default ${CARGO_TARGET_DIR:-target}/debug/edge (what
# `cargo test --workspace` leaves, which is what CI packages). For a gateway box build
# `cargo build --release -p edge --locked` and pass target/release/edge.
# OUTDIR: where the .deb goes; default ${CARGO_TARGET_DIR:-target}/deb.
# Environment: DEB_VERSION (default <edge's Cargo.toml version>-1), DEB_ARCH (default
# `dpkg --print-architecture`; set it for a cross-compiled BINARY).
# Prints the path of the .deb on stdout. docs/edge-operations.md, "Installing on the gateway box".
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
binary=${1:-$target/debug/edge}
outdir=${2:-$target/deb}
if [ ! -x "$binary" ]; then
    echo "package-edge-deb: no executable at $binary (cargo build -p edge first)" >&2
    exit 1
fi

# The workspace version (edge has version.workspace = true).
upstream=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml)
if [ -z "$upstream" ]; then
    echo "package-edge-deb: no [workspace.package] version in Cargo.toml" >&2
    exit 1
fi
version=${DEB_VERSION:-$upstream-1}
arch=${DEB_ARCH:-$(dpkg --print-architecture)}

stage=$(mktemp -d)
chmod 0755 "$stage"  # the package's ./ is the box's /
trap 'rm -rf "$stage"' EXIT
install -d -m 0755 "$stage/DEBIAN" "$stage/usr/bin" "$stage/etc/feedlot-edge" \
    "$stage/lib/systemd/system" "$stage/usr/share/doc/feedlot-edge"
install -m 0755 "$binary" "$stage/usr/bin/feedlot-edge"
install -m 0644 packaging/deb/feedlot-edge.service "$stage/lib/systemd/system/"

# The default config: the example config with the data under /var/lib. The conffile ships
# 0640; postinst gives it to group feedlot-edge (it may hold passwords).
{
    echo "# /etc/feedlot-edge/edge.toml: the gateway's config (package feedlot-edge), read by"
    echo "# feedlot-edge.service. The example config below (\`feedlot-edge print-config\`; \`edge\`"
    echo "# there is /usr/bin/feedlot-edge here) with data_dir under /var/lib: the only directory"
    echo "# the service may write (a data_dir elsewhere needs ReadWritePaths= in"
    echo "# \`systemctl edit feedlot-edge\`). Files named here (TLS key) must be readable by the"
    echo "# feedlot-edge user. Check after editing:"
    echo "#   feedlot-edge check-config --config /etc/feedlot-edge/edge.toml"
    echo "#"
    sed 's|^data_dir = .*|data_dir = "/var/lib/feedlot-edge"|' edge/edge.example.toml
} > "$stage/etc/feedlot-edge/edge.toml"
chmod 0640 "$stage/etc/feedlot-edge/edge.toml"
if ! grep -qx 'data_dir = "/var/lib/feedlot-edge"' "$stage/etc/feedlot-edge/edge.toml"; then
    echo "package-edge-deb: edge/edge.example.toml has no 'data_dir = ...' line to point at /var/lib" >&2
    exit 1
fi

cat > "$stage/usr/share/doc/feedlot-edge/copyright" <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: feedlot-edge

Files: *
License: Apache-2.0
 On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
chmod 0644 "$stage/usr/share/doc/feedlot-edge/copyright"

install -m 0644 packaging/deb/conffiles "$stage/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$stage/DEBIAN/"
installed_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@INSTALLED_SIZE@|$installed_kb|" \
    packaging/deb/control.in > "$stage/DEBIAN/control"

mkdir -p "$outdir"
deb="$outdir/feedlot-edge_${version}_${arch}.deb"
# gzip -1: a 50 MB debug binary packs in about two seconds (gzip -9 takes 9, xz tens).
dpkg-deb --build --root-owner-group -Zgzip -z1 "$stage" "$deb" >/dev/null
echo "$deb"
