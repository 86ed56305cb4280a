#!/usr/bin/env bash
# Installs the system packages Quiesce builds and tests with (Debian/Ubuntu, as root).
# Swift itself comes with the machine; see the README.
set -euo pipefail

packages=(
    libcurl4-openssl-dev # the coordinator's HTTP transport
    libsqlite3-dev       # the coordinator's history database, through GRDB
    e2fsprogs            # mkfs.ext4 and e2fsck for the loop-mounted test images and the demo
    util-linux           # mount, losetup, fsfreeze, mountpoint
    mount
    btrfs-progs          # mkfs.btrfs and btrfs, for the btrfs snapshot provider's tests
    openssl              # the tests' throwaway certificate authority
    curl                 # a TLS client independent of ours, in the mutual TLS tests
    iproute2             # the fault matrix's network namespaces, veths and bridge
    procps               # pgrep, to find a freeze guard to kill
    mariadb-server       # private MariaDB servers for the mariadb recipe's tests (never the service)
    mariadb-client
    postgresql-15        # private PostgreSQL clusters and pgbench for the postgresql recipe's tests
    dpkg-dev             # dpkg-shlibdeps, for the packages' dependencies (scripts/package.sh)
    lintian              # checks the packages (no errors allowed)
    debootstrap          # a Debian 12 root to install the agent package into (scripts/package-check.sh)
    chromium             # headless, to load every dashboard page and check it through its DOM
    fonts-dejavu-core    # a font for the dashboard's screenshots
)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing packages: ${missing[*]}; run this script as root or apt-get install them" >&2
        exit 1
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
