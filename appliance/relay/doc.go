// Package relay is the server's relay mode (ours): instead of validating,
// the server polls another validator's JSON VRP list over HTTP and serves
// it. It reads the json (and jsonext) output of Routinator and rovd,
// rpki-client's JSON and StayRTR's (and its predecessor GoRTR's) JSON
// cache files.
//
// A document is refused whole, and the last good one kept, when it is not
// valid JSON (a truncated document never is), lacks the roas list, has an
// entry that does not parse, carries no generation time, or is too old
// (see Document.Check).
//
// It depends on engine/payload and on netio's HTTP client; the server
// package turns a Feed into a source of its refresh loop.
package relay
