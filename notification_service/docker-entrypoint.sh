#!/bin/sh
# The notification image's entrypoint: runs the command as the user who may write the notification log.
#
# As the image's user (`app`, uid 1000; Kubernetes sets it), it just runs the command. Started as root (compose sets
# `user: "0:0"`, because ./notification_logs is bind-mounted from the host and any host uid may own it), it looks at
# who owns the log directory:
#   - a user other than root (whoever cloned the repository): the command runs as that uid and gid, so the log is
#     theirs on the host (a log left inside by another uid, from an earlier run, is given to them too);
#   - root (a root-owned clone, or a directory Docker created): it hands the directory to `app` and runs as `app`.
# Either way the command never runs as root, and setpriv keeps no capability. If the directory still cannot be
# written, the service starts anyway and its /health reports the log file down: nothing here hides that.
set -eu

if [ "$(id -u)" != 0 ]; then
    exec "$@"
fi

log_directory=$(dirname "${NOTIFICATION_LOG_FILE:-/app/logs/notifications.log}")
mkdir -p "$log_directory"
owner=$(stat -c %u "$log_directory")
group=$(stat -c %g "$log_directory")
if [ "$owner" = 0 ]; then
    owner=$(id -u app)
    group=$(id -g app)
fi
chown -R "$owner:$group" "$log_directory"
exec setpriv --reuid="$owner" --regid="$group" --clear-groups --inh-caps=-all -- "$@"
