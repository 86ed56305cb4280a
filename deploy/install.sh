#!/bin/bash
# Installs the agent and the example framework files with the modes the permission rules demand:
# settings and plugin config 0600, scripts 0700, everything owned by root, in root-owned
# directories nobody else can write. Existing files are kept unless --force is given.
#
#   sudo deploy/install.sh path/to/quiesce-agent [--force]
set -euo pipefail

binary=${1:?usage: install.sh path/to/quiesce-agent [--force]}
force=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "install.sh must run as root: the framework's files must be owned by uid 0" >&2; exit 1; }

place() { # place SOURCE DEST MODE
    if [[ -e $2 && $force != --force ]]; then
        echo "kept     $2 (exists; --force replaces it)"
    else
        install -o root -g root -m "$3" "$1" "$2"
        echo "installed $2 (mode $3)"
    fi
}

install -d -o root -g root -m 0755 /etc/quiesce /etc/azure
install -d -o root -g root -m 0700 /etc/quiesce/scripts
install -o root -g root -m 0755 "$binary" /usr/local/bin/quiesce-agent
echo "installed /usr/local/bin/quiesce-agent"
place "$here/agent.json" /etc/quiesce/agent.json 0600
place "$here/VMSnapshotScriptPluginConfig.json" /etc/azure/VMSnapshotScriptPluginConfig.json 0600
place "$here/scripts/mysql-pre.sh" /etc/quiesce/scripts/mysql-pre.sh 0700
place "$here/scripts/mysql-post.sh" /etc/quiesce/scripts/mysql-post.sh 0700
if [[ ! -e /etc/quiesce/agent.token ]]; then
    # The token the coordinator presents; copy it to the coordinator's token file for this VM.
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > /etc/quiesce/agent.token)
    echo "created  /etc/quiesce/agent.token (mode 0600)"
fi
echo
echo "Now edit /etc/quiesce/agent.json (freeze, snapshot, listen, tls) and run: quiesce-agent check"
install -o root -g root -m 0644 "$here/quiesce-agent.service" /etc/systemd/system/quiesce-agent.service
echo "installed /etc/systemd/system/quiesce-agent.service; start the API with: systemctl enable --now quiesce-agent"
