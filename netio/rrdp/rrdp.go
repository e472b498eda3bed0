package rrdp

import (
	"errors"
	"math"
	"strconv"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=FileType -linecomment -output=filetype_string.go

// Namespace is the XML namespace of every RRDP element (RFC 8182 §3.5).
// The root element must declare it as its default namespace, spelled
// exactly like this: namespace names compare as strings, and rpki-client
// rejects any other spelling too.
const Namespace = "http://www.ripe.net/rpki/rrdp"

// Defaults for the zero fields of Limits.
const (
	// DefaultMaxObjectSize is the default of Routinator's max-object-size
	// option ("20,000,000 (i.e., 20 MBytes)" in the manual).
	DefaultMaxObjectSize = 20_000_000
	// DefaultMaxURILength is far above any URI seen in real repositories
	// (rpki-client accepts up to 2048 bytes) and still small enough to keep
	// a notification's delta list bounded.
	DefaultMaxURILength = 4096
	// DefaultMaxDeltas is generous: servers keep tens to hundreds of
	// deltas, and Routinator's rrdp-max-delta-count default is 100.
	DefaultMaxDeltas = 100_000
)

// Limits bounds what a file can make the parser hold in memory. A zero
// field takes its Default value.
type Limits struct {
	// MaxObjectSize is the largest decoded size, in bytes, of the content of
	// one publish element. A larger object fails the file with an error
	// matching ErrObjectTooLarge before the output buffer grows past the
	// limit. A negative value disables the limit (the manual's
	// max-object-size = 0); memory then grows with the largest object.
	MaxObjectSize int64
	// MaxURILength is the longest uri attribute accepted, in bytes after
	// entity decoding.
	MaxURILength int
	// MaxDeltas is the most delta elements a notification file may list.
	// Beyond it ParseNotification keeps none of them and sets
	// Notification.TooManyDeltas. A notification therefore holds at most
	// about MaxDeltas * (MaxURILength + 64) bytes.
	MaxDeltas int
}

// limits is Limits with the defaults applied.
type limits struct {
	maxObject int // "no limit" is a value that can never be reached
	maxURI    int
	maxDeltas int
}

func (l Limits) resolve() limits {
	r := limits{maxObject: DefaultMaxObjectSize, maxURI: DefaultMaxURILength, maxDeltas: DefaultMaxDeltas}
	switch {
	case l.MaxObjectSize < 0 || l.MaxObjectSize > math.MaxInt/2:
		// Half of MaxInt keeps the size arithmetic free of overflow.
		r.maxObject = math.MaxInt / 2
	case l.MaxObjectSize > 0:
		r.maxObject = int(l.MaxObjectSize)
	}
	if l.MaxURILength > 0 {
		r.maxURI = l.MaxURILength
	}
	if l.MaxDeltas > 0 {
		r.maxDeltas = l.MaxDeltas
	}
	return r
}

// FileType says which of the three RRDP files a document is. Its String
// is the name of the file's root element.
type FileType uint8

// The RRDP file types.
const (
	TypeNotification FileType = iota + 1 // notification
	TypeSnapshot                         // snapshot
	TypeDelta                            // delta
)

// Header holds the attributes of a file's root element.
type Header struct {
	Type FileType
	// Version is the protocol version; RFC 8182 defines only 1 and nothing
	// else is accepted.
	Version int
	// SessionID is the server's session UUID in its canonical lower-case
	// form, so headers of different files compare with ==.
	SessionID string
	// Serial is the file's serial number, at least 1.
	Serial uint64
}

// FileRef points to a snapshot or delta file from a notification file.
type FileRef struct {
	// Serial is the delta's serial number; it is zero for the snapshot.
	Serial uint64
	// URI is the file's location as written in the notification. The
	// parser checks its length and characters only; the scheme and origin
	// checks (https, same host as the notification) are the caller's.
	URI string
	// Hash is the SHA-256 hash of the file's bytes.
	Hash [32]byte
}

// Element is a publish or withdraw element of a snapshot or delta.
//
// URI and Data point into buffers owned by the Reader: they stay valid
// only until the next call to Next, Reset or Header on that Reader.
// Callers that keep them must copy them.
type Element struct {
	// Withdraw is true for a withdraw element, false for publish.
	Withdraw bool
	// URI is the object's uri attribute after entity decoding: non-empty,
	// at most MaxURILength bytes, printable ASCII without spaces (the set
	// rpki-client's valid_uri allows). Whether it is a well-formed rsync
	// URI inside the publication point, and safe to use as a path (no
	// "/." segments, as rpki-client also requires), is for the caller to
	// check.
	URI []byte
	// HasHash tells whether the element had a hash attribute: always for a
	// withdraw, for a publish in a delta when it replaces an object, never
	// in a snapshot.
	HasHash bool
	// Hash is the SHA-256 hash of the object being replaced or withdrawn
	// (not of Data).
	Hash [32]byte
	// Data is the base64-decoded content of a publish element; it may be
	// empty. It is empty for a withdraw.
	Data []byte
}

// ErrMalformed is matched, through errors.Is, by every *Error about a file
// that is not a valid RRDP file, apart from ErrObjectTooLarge.
var ErrMalformed = errors.New("malformed RRDP file")

// ErrObjectTooLarge is matched, through errors.Is, by the *Error returned
// when a publish element's content decodes to more than
// Limits.MaxObjectSize bytes, so the fetcher can report "over
// max-object-size".
var ErrObjectTooLarge = errors.New("object larger than max-object-size")

// Error reports why and where a file could not be read.
type Error struct {
	// Offset is the byte offset in the file at which the problem was
	// found.
	Offset int64
	// URI is the uri attribute of the publish or withdraw element being
	// read, if the problem lies inside one.
	URI string
	// Msg says what was wrong.
	Msg string
	// Err is ErrMalformed, ErrObjectTooLarge, or the error the io.Reader
	// returned.
	Err error
}

func (e *Error) Error() string {
	s := "offset " + strconv.FormatInt(e.Offset, 10)
	if e.URI != "" {
		s += " in " + strconv.Quote(e.URI)
	}
	s += ": " + e.Msg
	if e.Err != nil && e.Err != ErrMalformed && e.Err != ErrObjectTooLarge {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns e.Err, so errors.Is(err, rrdp.ErrObjectTooLarge) works.
func (e *Error) Unwrap() error { return e.Err }
