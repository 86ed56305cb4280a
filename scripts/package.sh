#!/usr/bin/env bash
# Builds the Debian packages `quiesce-agent` (the static, stripped agent: no Swift runtime needed
# on the VM; its unit, default settings kept on upgrade, maintainer scripts) and `quiesce` (the
# coordinator) into dist/, then checks them with lintian (no errors allowed) when it is there.
#
#   scripts/package.sh [--debug] [--agent-only] [--out DIR]
#
# --debug builds in the debug configuration (what CI does, to save the release build's minutes);
# the default is a release build. --agent-only builds just the agent's package, the one that goes
# to every VM and that scripts/package-check.sh installs (what CI does: the coordinator's static
# build would double the packaging time). The agent is built as it ships by scripts/agent-build.sh,
# the coordinator in .build-package/coordinator: objects built for a static Swift runtime cannot be
# linked into the dynamic build in .build.
set -euo pipefail
cd "$(dirname "$0")/.."

configuration=release
out=dist
products=(quiesce-agent quiesce)
built=()
while (($#)); do
    case $1 in
    --debug) configuration=debug; shift ;;
    --agent-only) products=(quiesce-agent); shift ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    *) echo "usage: scripts/package.sh [--debug] [--agent-only] [--out DIR]" >&2; exit 2 ;;
    esac
done

version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/QuiesceAPI/AgentRoutes.swift)
arch=$(dpkg --print-architecture)
maintainer="Quiesce <packaging@quiesce.invalid>"
agent_flags=()
if [[ $configuration == debug ]]; then agent_flags=(--debug); fi
agent_binary=$(scripts/agent-build.sh "${agent_flags[@]}")
if [[ ${#products[@]} -eq 2 ]]; then
    # Nothing is exported: a static binary has no one to export to (docs/benchmarks.md, agent-size).
    coordinator=(-c "$configuration" --static-swift-stdlib --scratch-path .build-package/coordinator)
    swift build "${coordinator[@]}" --product quiesce -Xlinker --no-export-dynamic
    coordinator_binary=$(swift build "${coordinator[@]}" --show-bin-path)/quiesce
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"

# The shared libraries a binary needs, as a Depends line (dpkg-shlibdeps wants a debian/ tree).
depends() {
    mkdir -p "$stage/shlibs/debian"
    printf 'Source: quiesce\n\nPackage: quiesce\nArchitecture: any\n' > "$stage/shlibs/debian/control"
    (cd "$stage/shlibs" && dpkg-shlibdeps -O -e "$1" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

# package NAME BUILT-BINARY SUMMARY DESCRIPTION: the tree in $stage/NAME is filled by the caller
# first; the binary is installed stripped as /usr/bin/NAME.
package() {
    local name=$1 built_binary=$2 summary=$3 description=$4 tree=$stage/$1 binary=$1
    install -d -m 0755 "$tree/usr/bin" "$tree/usr/share/doc/$name" "$tree/DEBIAN"
    strip --strip-unneeded -o "$tree/usr/bin/$binary" "$built_binary"
    chmod 0755 "$tree/usr/bin/$binary"
    install -m 0644 deploy/debian/copyright "$tree/usr/share/doc/$name/copyright"
    # A native package's changelog.gz is a Debian changelog; the project's own goes beside it.
    printf '%s (%s) unstable; urgency=medium\n\n  * Built from commit %s; see changelog.md.gz.\n\n -- %s  %s\n' \
        "$name" "$version" "$(git rev-parse --short HEAD)" "$maintainer" "$(git log -1 --format=%aD)" |
        gzip -9n > "$tree/usr/share/doc/$name/changelog.gz"
    gzip -9n < CHANGELOG.md > "$tree/usr/share/doc/$name/changelog.md.gz"
    chmod 0644 "$tree/usr/share/doc/$name/changelog.gz" "$tree/usr/share/doc/$name/changelog.md.gz"
    cat > "$tree/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$tree" | cut -f1)
Depends: $(depends "$tree/usr/bin/$binary")
Section: admin
Priority: optional
Description: $summary
$(fold -s -w 78 <<< "$description" | sed 's/^/ /; s/ *$//')
CONTROL
    dpkg-deb --root-owner-group -Zxz --build "$tree" "$out/${name}_${version}_${arch}.deb" >/dev/null
    built+=("$out/${name}_${version}_${arch}.deb")
    echo "built $out/${name}_${version}_${arch}.deb ($(du -k "$out/${name}_${version}_${arch}.deb" | cut -f1) KiB)"
}

agent=$stage/quiesce-agent
install -d -m 0755 "$agent/lib/systemd/system" "$agent/etc/quiesce" "$agent/DEBIAN"
sed 's|/usr/local/bin/|/usr/bin/|g' deploy/quiesce-agent.service > "$agent/lib/systemd/system/quiesce-agent.service"
chmod 0644 "$agent/lib/systemd/system/quiesce-agent.service"
# Settings are a conffile: dpkg never overwrites the operator's edits on upgrade.
install -m 0600 deploy/debian/agent.json "$agent/etc/quiesce/agent.json"
echo /etc/quiesce/agent.json > "$agent/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "deploy/debian/$script-agent" "$agent/DEBIAN/$script"
done
package quiesce-agent "$agent_binary" "consistent snapshots of this VM, for the Quiesce coordinator" \
    "The Quiesce agent runs the pre- and post-scripts of the VM snapshot script framework, freezes file systems with FIFREEZE in a guard that always thaws, takes or waits for the snapshot, and serves an authenticated HTTP API (mutual TLS after enrollment) through which a coordinator pushes signed scripts and snapshots whole groups of VMs at one consistent cut."

if [[ ${#products[@]} -eq 2 ]]; then
    package quiesce "$coordinator_binary" "coordinator of Quiesce agents: pushes, sweeps, group snapshots" \
        "The Quiesce coordinator holds a fleet inventory, pushes plugin configs and signed scripts to the agents, sweeps them for compliance, enrolls them with the fleet's own CA, and sequences snapshots across groups of VMs so that a whole group is captured at one consistent cut."
fi

if command -v lintian >/dev/null; then
    lintian --fail-on error --suppress-tags no-manual-page "${built[@]}"
    echo "lintian: no errors"
else
    echo "lintian is not installed: the packages are not checked (apt-get install lintian)"
fi
