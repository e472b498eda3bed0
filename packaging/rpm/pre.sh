#!/bin/sh
# %pre of the rovd RPM: the system user and group, made before the files
# are unpacked.
getent group rovd >/dev/null || groupadd --system rovd
getent passwd rovd >/dev/null ||
	useradd --system --gid rovd --home-dir /var/lib/rovd --no-create-home \
		--shell /sbin/nologin --comment "rovd RPKI relying party" rovd
exit 0
