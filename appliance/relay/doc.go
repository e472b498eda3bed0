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
// A source URL whose path ends in /json-delta (DeltaPath) names
// Routinator's or another rovd's HTTP service, and the feed follows it
// by deltas: it keeps the session and serial of the set it holds, asks
// /json-delta?session=S&serial=N, applies what is announced and
// withdrawn, and takes the whole set when the answer says reset (the
// first fetch, a new session, a history that does not reach back). An
// answer that cannot be read, or a delta that does not fit the set held
// (withdraws an item it does not hold, announces one it holds, starts
// from another serial), is refused, the last good set stays, and the
// next fetch asks for the whole set. /json-delta names no trust anchor,
// so relayed items have none.
//
// It depends on engine/payload and on netio's HTTP client; the server
// package turns a Feed into a source of its refresh loop.
package relay
