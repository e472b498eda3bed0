package der

import (
	"errors"
	"strconv"
)

// The kinds of decoding failure. Every *Error wraps one of them, so callers
// can branch with errors.Is.
var (
	// ErrTruncated means a length or an element runs past the end of the data.
	ErrTruncated = errors.New("truncated")
	// ErrNotDER means a BER-only form (indefinite length, non-minimal length
	// octets, constructed string) appeared in Strict mode.
	ErrNotDER = errors.New("BER encoding where DER is required")
	// ErrTooDeep means the nesting exceeds MaxDepth.
	ErrTooDeep = errors.New("nesting too deep")
	// ErrUnexpectedTag means an element had another tag than the one required.
	ErrUnexpectedTag = errors.New("unexpected tag")
	// ErrTrailingData means bytes are left after the last expected element.
	ErrTrailingData = errors.New("trailing data")
	// ErrMalformed covers every other violation of X.690 or of a type's
	// rules (bad integer, bad time, bad characters).
	ErrMalformed = errors.New("malformed")
)

// Error describes where and why decoding failed.
type Error struct {
	// Offset is the byte position, within the data given to Parse, of the
	// element (or header) that failed.
	Offset int
	// Kind is one of the Err* values of this package.
	Kind error
	// Detail says what exactly was wrong.
	Detail string
}

func (e *Error) Error() string {
	s := "der: offset " + strconv.Itoa(e.Offset) + ": " + e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the kind, so errors.Is(err, der.ErrTruncated) works.
func (e *Error) Unwrap() error { return e.Kind }

func newError(offset int, kind error, detail string) *Error {
	return &Error{Offset: offset, Kind: kind, Detail: detail}
}
