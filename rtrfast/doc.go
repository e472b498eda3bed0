// Package rtrfast will serve RPKI-to-Router (RFC 6810, RFC 8210,
// draft-ietf-sidrops-8210bis) from PDU buffers built once per serial and
// shared by every session. It knows payload sets, never certificates, and
// imports only engine/payload. It is built with the RTR issue.
package rtrfast
