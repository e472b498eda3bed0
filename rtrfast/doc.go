// Package rtrfast serves the RPKI to Router protocol: version 0 (RFC
// 6810), version 1 (RFC 8210) and version 2 with ASPA
// (draft-ietf-sidrops-8210bis-27), to thousands of routers at once.
//
// # Design
//
// The work of a response is done once per serial, not once per router.
// Publish turns a payload.Set into a snapshot: for each protocol version
// the full table (version 0 without router keys and timers, version 2
// with ASPAs) and the delta from each of the last history-size serials,
// each encoded once into immutable byte slices cut into 64 KiB chunks.
// Deltas come from payload.Compute, a merge of the two sorted sets, and
// deltas from older serials are composed from the kept ones by merging
// again, so no old set needs to be kept. A version no router has asked
// for is built on first use. The snapshot goes live with one atomic
// pointer store: a session answers from the old serial or the new one,
// never a mix, and never takes a lock to read.
//
// A session is one goroutine that reads queries and writes the shared
// slices with net.Buffers (writev), a few chunks per system call, and
// allocates nothing per PDU (see TestResponseAllocs). Each writev has
// its own deadline (Config.WriteTimeout): a router that stops reading is
// dropped and holds up neither Publish nor any other session. Serial
// Notify is sent by each session itself: Publish only flags the sessions
// and wakes them with a read deadline in the past.
//
// PDUs follow the order of draft-8210bis-27 §11.2 in every version.
// Session IDs are random per Server, one per version, never repeating
// those of the previous Server in the process; serials use RFC 1982
// arithmetic.
//
// rtrfast knows payload sets, not certificates: it imports only
// engine/payload from rovd, and never the validator, the store, netio or
// the appliance.
package rtrfast
