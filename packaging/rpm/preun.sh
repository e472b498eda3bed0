#!/bin/sh
# %preun of the rovd RPM: on erase ($1 is 0, not an upgrade) stop and
# disable the units while their files are still there.
if [ "$1" -eq 0 ]; then
	systemctl --no-reload disable --now rovd.service rovd-rtr.socket rovd-http.socket >/dev/null 2>&1 || :
fi
exit 0
