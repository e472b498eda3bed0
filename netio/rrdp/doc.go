// Package rrdp parses the three XML files of the RPKI Repository Delta
// Protocol (RRDP, RFC 8182): the update notification file, snapshots and
// deltas. It does no networking: the fetcher in netio hands it an
// io.Reader (an HTTP body) and checks the file's SHA-256 hash itself.
//
// ParseNotification reads a whole notification file into a Notification.
// A Reader streams a snapshot or a delta: Header returns the root element's
// attributes and each call to Next returns one publish or withdraw element
// with its base64 content already decoded. The element's URI and Data are
// slices of buffers the Reader reuses, so a whole snapshot is read with no
// allocation per element, and one Reader (see Reset) serves many files.
//
// # Why not encoding/xml
//
// Snapshots of the large repositories are half a gigabyte of base64 inside
// a trivial XML structure. encoding/xml builds a token (and allocates) for
// every piece of character data and is far too slow for that. This package
// scans the bytes directly and decodes the base64 text straight out of its
// read buffer in large chunks. It accepts only the small subset of XML that
// RRDP needs and rejects everything else: a DOCTYPE (and so every entity
// declaration, external entity and "billion laughs" expansion), processing
// instructions other than the XML declaration, CDATA sections, entity
// references other than the five predefined ones and character references,
// unknown or duplicate elements and attributes, text where the schema
// allows none, mismatched or unclosed tags and anything after the root
// element. The tests compare it with a slow reference parser built on
// encoding/xml: whatever this package accepts, the reference accepts too and
// reads the same way.
//
// # Limits
//
// Memory use does not depend on the size of the file, only on the largest
// single object in it. Limits bounds what a file can make the parser hold:
// the decoded size of one published object (MaxObjectSize, by default
// Routinator's max-object-size of 20,000,000 bytes; the check happens before
// the buffer grows), the length of a URI (MaxURILength) and the number of
// deltas kept from a notification file (MaxDeltas). Element and attribute
// names, entity references and the XML declaration have small fixed bounds,
// and the grammar allows no nesting beyond the root element's children, so
// whitespace or comment "bombs" cost time but no memory. No input makes the
// package panic.
//
// Problems in the file are reported as *Error values carrying the byte
// offset and, where known, the URI of the element being read. An object
// over the size limit gives an error matching ErrObjectTooLarge, every other
// problem in the file one matching ErrMalformed; a failing io.Reader's error
// is wrapped unchanged. The caller adds the file's URI.
//
// The package must not import anything but the standard library (and does
// not use encoding/xml outside its tests).
package rrdp
