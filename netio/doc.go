// Package netio will fetch repositories (RRDP over HTTPS, rsync as
// fallback) into the object store and provide the network listeners
// (systemd socket activation, TCP keepalive). It imports store only. It
// is built with the fetching issue.
package netio
