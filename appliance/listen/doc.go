// Package listen sets up the listening sockets of the server command:
// RTR on the rtr-listen addresses, RTR over TLS on rtr-tls-listen, and
// with listen-systemd the sockets passed by systemd socket activation.
// Accepted RTR connections get the rtr-tcp-keepalive idle time. RTR is
// bound once the server is ready to serve, or at start (Bind) for a
// daemon that gives up its privileges afterwards.
//
// The manual has every TCP socket passed by systemd serve RTR. rovd
// differs in one point: a socket the unit names FileDescriptorName=http
// is kept apart for the HTTP service, so that one socket unit can hand
// over both ports.
//
// It uses netio for socket activation and keepalives and appliance/config
// for its options; only appliance/cli imports it.
package listen
