#!/bin/sh
# %post of the rovd RPM: the state directory, the TALs and the systemd
# units. $1 is 1 on a first install, 2 or more on an upgrade.
units="rovd.service rovd-rtr.socket rovd-http.socket"

install -d -o rovd -g rovd -m 0755 /var/lib/rovd

# rovd init as user rovd when the configured TAL directory does not exist
# yet; a TAL the operator removed stays removed across upgrades. The ARIN
# TAL is included, as in Routinator's packages: see
# /usr/share/doc/rovd/README.md.
taldir=$(/usr/bin/rovd -c /etc/rovd.conf config 2>/dev/null |
	sed -n 's/^tal-dir = "\(.*\)"$/\1/p')
if [ -z "$taldir" ]; then
	echo "rovd: /etc/rovd.conf does not load; TALs not installed" >&2
elif [ ! -e "$taldir" ]; then
	runuser -u rovd -- /usr/bin/rovd -q -c /etc/rovd.conf init --accept-arin-rpa ||
		echo "rovd: installing the TALs into $taldir failed" >&2
fi

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -eq 1 ]; then
	# Enabled on the first install, as the Debian package does; the
	# operator's choice is kept on upgrades.
	systemctl enable $units >/dev/null 2>&1 || :
	if [ -d /run/systemd/system ]; then
		systemctl start rovd-rtr.socket rovd-http.socket rovd.service >/dev/null 2>&1 || :
	fi
fi
exit 0
