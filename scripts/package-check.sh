#!/usr/bin/env bash
# Installs the agent package into a fresh Debian 12 root made with debootstrap (no Swift runtime
# in it) and checks it there: the binary needs nothing the root lacks, the postinst makes the
# framework's directories with their modes, `quiesce-agent check` runs and reports, and an
# upgrade keeps the operator's settings. As root; needs network access to a Debian mirror.
#
#   scripts/package-check.sh [dist/quiesce-agent_VERSION_ARCH.deb] [--mirror URL] [--root DIR]
#   scripts/package-check.sh --prepare DIR [--mirror URL]
#
# --prepare only makes the root in DIR (scripts/test.sh does it while the packages build);
# --root DIR checks in a root made that way instead of making one. The root is removed after
# the check either way.
set -euo pipefail
cd "$(dirname "$0")/.."

deb=
mirror=http://deb.debian.org/debian
root=
prepare=
while (($#)); do
    case $1 in
    --mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --prepare) prepare=${2:?--prepare needs a directory}; shift 2 ;;
    *) deb=$1; shift ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "package-check.sh must run as root (debootstrap, chroot)" >&2; exit 1; }
fail() { echo "package-check: FAILED: $*" >&2; exit 1; }

make_root() {
    command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install debootstrap"
    echo "debootstrap bookworm (minbase) into $1"
    debootstrap --variant=minbase bookworm "$1" "$mirror" > "$1.log" 2>&1 || {
        tail -20 "$1.log" >&2
        fail "debootstrap did not finish"
    }
    rm -f "$1.log"
}

if [[ -n $prepare ]]; then
    make_root "$prepare"
    exit 0
fi
deb=${deb:-$(ls dist/quiesce-agent_*.deb | tail -1)}
if [[ -z $root ]]; then
    root=$(mktemp -d /tmp/quiesce-debootstrap.XXXXXX)
    made=yes
fi
# Whatever is mounted in the root (our /proc; debootstrap's own, if it was cut short) is
# unmounted first, and rm never crosses into a mount: the host's /dev or /proc stay whole.
cleanup() {
    findmnt -rn -o TARGET | grep -F "$root/" | sort -r | xargs -r umount -l || true
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT
[[ -z ${made:-} ]] || make_root "$root"
[[ -x $root/usr/bin/dpkg ]] || fail "$root is not a Debian root (make one with --prepare)"
if ls "$root"/usr/lib/*/libswift* "$root"/usr/lib/swift 2>/dev/null; then fail "the root has a Swift runtime"; fi

cp "$deb" "$root/tmp/agent.deb"
mount -t proc proc "$root/proc"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

in_root dpkg -i /tmp/agent.deb || fail "dpkg -i"
missing=$(in_root ldd /usr/bin/quiesce-agent | grep "not found" || true)
[[ -z $missing ]] || fail "libraries missing in the root: $missing"
for expected in "/etc/quiesce 755" "/etc/quiesce/scripts 700" "/etc/azure 755" "/var/log/quiesce 700" \
    "/etc/quiesce/agent.json 600" "/etc/quiesce/agent.token 600"; do
    read -r path mode <<< "$expected"
    actual=$(stat -c %a "$root$path" 2>/dev/null) || fail "$path was not made"
    [[ $actual == "$mode" ]] || fail "$path has mode $actual, not $mode"
done

# No plugin config yet, so not application consistent: check says why and exits 1. (What it
# would freeze depends on the host's mounts, which the root's /proc shows.)
status=0
report=$(in_root quiesce-agent check --json) || status=$?
[[ $status -eq 1 ]] || fail "quiesce-agent check exited $status (expected 1: no plugin config yet): $report"
grep -q '"configState" *: *"notConfigured"' <<< "$report" || fail "check said: $report"
grep -q '"reason" *: *"' <<< "$report" || fail "check said: $report"
echo "quiesce-agent check in the root: $(in_root quiesce-agent check | head -1)"

# An upgrade (the same package again) keeps edited settings: they are a conffile.
echo '{"listen": "127.0.0.1:7799"}' > "$root/etc/quiesce/agent.json"
in_root dpkg -i /tmp/agent.deb > /dev/null || fail "reinstall"
grep -q 7799 "$root/etc/quiesce/agent.json" || fail "the upgrade replaced the operator's settings"
in_root dpkg --purge quiesce-agent > /dev/null || fail "purge"
[[ ! -e $root/usr/bin/quiesce-agent && ! -e $root/etc/quiesce/agent.token ]] || fail "purge left files"
echo "package-check: $deb installs, runs, upgrades and purges in a Debian 12 root without Swift"
