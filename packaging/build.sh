#!/bin/sh
# build.sh FORMAT BINARY OUTDIR: package the static rovd binary BINARY as
# a .deb (FORMAT deb) or .rpm (FORMAT rpm) into OUTDIR with nfpm, and
# print the package's path. The manual page comes from `BINARY man`, the
# version from `BINARY -V`, so the package always matches the binary
# inside it. Used by `make deb`, `make rpm` and packaging_test.go.
#
# Environment: NFPM, the nfpm command (default nfpm); GOARCH, the
# binary's architecture (default: go env GOARCH); PKG_MAINTAINER.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 deb|rpm BINARY OUTDIR" >&2
	exit 2
fi
format=$1
case $format in
deb | rpm) ;;
*)
	echo "$0: unknown package format $format" >&2
	exit 2
	;;
esac

abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
binary=$(abs "$2")
mkdir -p "$3"
outdir=$(abs "$3")
top=$(cd "$(dirname "$0")/.." && pwd)
nfpm=${NFPM:-nfpm}
case $nfpm in */*) nfpm=$(abs "$nfpm") ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# rovd -V prints "rovd VERSION"; nfpm reads VERSION as semver
# (0.1.0-dev+abc1234 becomes 0.1.0~dev+abc1234-1 in the .deb). RPM
# versions cannot hold a hyphen, so one in the build metadata (the
# -dirty of a build from a modified tree) becomes a dot.
version=$("$binary" -V | sed -n 's/^rovd //p')
if [ -z "$version" ]; then
	echo "$0: $binary -V printed no version" >&2
	exit 1
fi
case $version in
*+*) version=${version%%+*}+$(echo "${version#*+}" | tr - .) ;;
esac

"$binary" man -o "$work/rovd.1"
gzip -9n "$work/rovd.1"

ROVD_BINARY=$binary \
ROVD_MANPAGE=$work/rovd.1.gz \
ROVD_PKG_VERSION=$version \
ROVD_PKG_ARCH=${GOARCH:-$(go env GOARCH)} \
ROVD_PKG_MAINTAINER=${PKG_MAINTAINER:-rovd maintainers <maintainers@rovd.invalid>} \
	sh -c 'cd "$1" && exec "$2" package --config packaging/nfpm.yaml --packager "$3" --target "$4/"' \
	build "$top" "$nfpm" "$format" "$outdir" >"$work/log" 2>&1 ||
	{ cat "$work/log" >&2; exit 1; }
sed -n 's/.*created package: //p' "$work/log"
