#!/bin/sh
# %postun of the rovd RPM. On an upgrade ($1 is 1 or more) a running
# server restarts on the new binary. On erase, as is usual for RPMs, the
# data under /var/lib/rovd and the user rovd stay, and rpm keeps a
# modified /etc/rovd.conf as /etc/rovd.conf.rpmsave.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -ge 1 ]; then
		systemctl try-restart rovd.service >/dev/null 2>&1 || :
	fi
fi
exit 0
