// Package output renders a payload set in the output formats of the
// manual's vrps command: csv, csvcompat, csvext, json, jsonext, slurm
// (RFC 8416), openbgpd, bird1, bird2, rpsl, summary and none. Field
// names, their order, header lines and the json metadata block follow
// Routinator, so that scripts written for it read rovd's output unchanged.
//
// Every format streams through a bufio.Writer and appends each line with
// strconv and netip's Append functions: writing the global set (600,000
// VRPs) allocates nothing per VRP.
//
// It depends on engine/payload only.
package output
