#!/usr/bin/env bash
# The main job on one machine: an application-consistent backup of a small running application.
#
# A writer appends numbered records to its log without pause. quiesce-agent runs the
# pre-script (pause the writer, write a checkpoint), freezes the file system, snapshots it by
# copying the disk image, thaws, and runs the post-script (resume the writer). The copy is then
# checked: it mounts cleanly and its log ends exactly at the checkpoint.
#
# As root the "disk" is a loop-mounted ext4 image that is really frozen with FIFREEZE. Without
# root, freezing is skipped (FIFREEZE and loop mounts need root) and the copy is of a directory.
# Everything is cleaned up on exit, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build --product quiesce-agent
agent="$(swift build --show-bin-path)/quiesce-agent"

work=$(mktemp -d /tmp/quiesce-demo.XXXXXX)
chmod 0700 "$work"
data="$work/disk"
copy="$work/snapshot"
writer=""
cleanup() {
    set +e
    if [[ -n $writer ]]; then kill -CONT "$writer" 2>/dev/null; kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null; fi
    for mount in "$data" "$copy"; do
        if mountpoint -q "$mount" 2>/dev/null; then fsfreeze -u "$mount" 2>/dev/null; umount "$mount"; fi
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=false
[[ $(id -u) -eq 0 ]] && root=true
mkdir -p "$data" "$copy"
if $root; then
    truncate -s 32M "$work/disk.img"
    mkfs.ext4 -q -F "$work/disk.img"
    mount -o loop "$work/disk.img" "$data"
    snapshot_body="cp --sparse=always '$work/disk.img' '$work/snapshot.img' && echo snapshot.img"
    freeze=true
    mounts="[\"$data\"]"
else
    echo "Not root: freezing is skipped (FIFREEZE and loop-mounted images need root); the scripts still run."
    snapshot_body="cp -a '$data/.' '$copy/' && echo snapshot-dir"
    freeze=false
    mounts="[]"
fi

# The application: numbered records, as fast as it can.
(i=0; while :; do i=$((i + 1)); echo "record $i" >> "$data/app.log"; sleep 0.002; done) &
writer=$!
sleep 0.5

# The framework's files, with the modes its rules demand.
install -m 0700 /dev/stdin "$work/pre.sh" <<SCRIPT
#!/bin/bash
kill -STOP $writer
echo "checkpoint after \$(tail -n 1 '$data/app.log')" >> '$data/app.log'
echo "application paused at: \$(tail -n 1 '$data/app.log')"
SCRIPT
install -m 0700 /dev/stdin "$work/post.sh" <<SCRIPT
#!/bin/bash
kill -CONT $writer
echo "application resumed (pre-script \$QUIESCE_PRE_RESULT, snapshot \$QUIESCE_SNAPSHOT_RESULT)"
SCRIPT
install -m 0700 /dev/stdin "$work/snapshot.sh" <<SCRIPT
#!/bin/bash
$snapshot_body
SCRIPT
install -m 0600 /dev/stdin "$work/VMSnapshotScriptPluginConfig.json" <<JSON
{"pluginName": "ScriptRunner", "preScriptLocation": "$work/pre.sh", "postScriptLocation": "$work/post.sh",
 "preScriptParams": ["", ""], "postScriptParams": ["", ""], "preScriptNoOfRetries": 0, "postScriptNoOfRetries": 0,
 "timeoutInSeconds": 30, "continueBackupOnFailure": true, "fsFreezeEnabled": $freeze}
JSON
install -m 0600 /dev/stdin "$work/agent.json" <<JSON
{"pluginConfigPath": "$work/VMSnapshotScriptPluginConfig.json", "pluginHostPath": "$work/VMSnapshotPluginHost.conf",
 "stateDirectory": "$work/state",
 "requiredOwnerUid": $(id -u), "freeze": {"mounts": $mounts, "timeoutSeconds": 30},
 "snapshot": {"provider": "command", "command": ["$work/snapshot.sh"], "timeoutSeconds": 20}}
JSON

echo
echo "\$ quiesce-agent check --settings $work/agent.json"
"$agent" check --settings "$work/agent.json" || true
echo
echo "\$ quiesce-agent run-once --settings $work/agent.json"
"$agent" run-once --settings "$work/agent.json"

echo
if $root; then
    e2fsck -fn "$work/snapshot.img" > /dev/null 2>&1
    mount -o loop,ro "$work/snapshot.img" "$copy"
    echo "The snapshot image passes e2fsck and mounts cleanly."
fi
last=$(tail -n 1 "$copy/app.log")
echo "The snapshot's log ends with: $last"
if [[ $last == checkpoint* ]]; then
    echo "Application consistent: the copy ends exactly at the application's checkpoint."
else
    echo "NOT application consistent: the copy does not end at the checkpoint." >&2
    exit 1
fi
echo "The application kept writing after the snapshot: its live log is now at $(tail -n 1 "$data/app.log")."
