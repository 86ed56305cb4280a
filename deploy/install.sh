#!/bin/bash
# Installs the agent, its settings and unit, and on request an application's recipe (its plugin
# config and script, deploy/recipes/NAME), with the modes the permission rules demand: settings
# and plugin config 0600, scripts 0700, everything owned by root, in root-owned directories nobody
# else can write. Existing files are kept unless --force is given; credentials files always are.
#
#   sudo deploy/install.sh path/to/quiesce-agent [--recipe NAME] [--force]
set -euo pipefail

usage="usage: install.sh path/to/quiesce-agent [--recipe NAME] [--force]"
binary=${1:?$usage}
shift
force=
recipe=
while (($#)); do
    case $1 in
    --force) force=--force; shift ;;
    --recipe) recipe=${2:?--recipe needs a name: $(ls "$(dirname "$0")/recipes" | tr '\n' ' ')}; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
if [[ -n $recipe && ! -d $here/recipes/$recipe ]]; then
    echo "no recipe '$recipe'; there are: $(ls "$here/recipes" | tr '\n' ' ')" >&2
    exit 2
fi
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
if [[ -n $recipe ]]; then
    place "$here/recipes/$recipe/VMSnapshotScriptPluginConfig.json" /etc/azure/VMSnapshotScriptPluginConfig.json 0600
    for script in "$here/recipes/$recipe"/*.sh; do
        place "$script" "/etc/quiesce/scripts/$(basename "$script")" 0700
    done
    for example in "$here/recipes/$recipe"/*.example; do
        [[ -e $example ]] || continue
        credentials=/etc/quiesce/$(basename "$example" .example)
        if [[ -e $credentials ]]; then
            echo "kept     $credentials"
        else
            install -o root -g root -m 0600 "$example" "$credentials"
            echo "installed $credentials (mode 0600): put the real credentials in it"
        fi
    done
    echo "recipe $recipe: read $here/recipes/$recipe/README.md for the account it needs"
elif [[ ! -e /etc/azure/VMSnapshotScriptPluginConfig.json ]]; then
    echo "no plugin config: snapshots are frozen but no application is quiesced;" \
        "install a recipe with --recipe ($(ls "$here/recipes" | tr '\n' ' '))"
fi
if [[ ! -e /etc/quiesce/agent.token ]]; then
    # The token the coordinator presents; copy it to the coordinator's token file for this VM.
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > /etc/quiesce/agent.token)
    echo "created  /etc/quiesce/agent.token (mode 0600)"
fi
echo
echo "Now edit /etc/quiesce/agent.json (freeze, snapshot, listen, tls) and run: quiesce-agent check"
install -o root -g root -m 0644 "$here/quiesce-agent.service" /etc/systemd/system/quiesce-agent.service
echo "installed /etc/systemd/system/quiesce-agent.service; start the API with: systemctl enable --now quiesce-agent"
