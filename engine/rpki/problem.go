package rpki

import (
	"errors"
	"fmt"
	"strings"
)

// Stage says how far an object got before it broke a rule.
type Stage uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=Stage -output=stage_string.go
//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=Type -trimprefix=Type -output=type_string.go
//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=CertKind -trimprefix=Cert -output=certkind_string.go

const (
	// Decode: the encoding is broken, nothing more could be read.
	Decode Stage = iota
	// Inspect: the object decoded but breaks its profile.
	Inspect
	// Verify: the object fails against its issuer (signature, validity,
	// resources, revocation) or the time of validation.
	Verify
)

// Problem is one rule an object breaks. It names the object (URI, which
// the caller fills in when it knows it), the field, and the section of the
// specification, the way rpki-client's messages do.
type Problem struct {
	URI   string
	Stage Stage
	// Field locates the offending part, e.g. "tbsCertificate.extensions.keyUsage".
	Field string
	// Ref is the section broken, e.g. "RFC 6487 §4.8.4".
	Ref string
	Err error
}

func (p *Problem) Error() string {
	var sb strings.Builder
	if p.URI != "" {
		sb.WriteString(p.URI)
		sb.WriteString(": ")
	}
	if p.Field != "" {
		sb.WriteString(p.Field)
		sb.WriteString(": ")
	}
	sb.WriteString(p.Err.Error())
	if p.Ref != "" {
		sb.WriteString(" (")
		sb.WriteString(p.Ref)
		sb.WriteString(")")
	}
	return sb.String()
}

// Unwrap gives access to the underlying error, e.g. a *der.Error.
func (p *Problem) Unwrap() error { return p.Err }

// ErrNotRPKI marks input that decodes as something other than an RPKI
// repository object: RFC 6492/8181 protocol messages, CSRs, unknown
// content types.
var ErrNotRPKI = errors.New("not an RPKI repository object")

// problemf builds a problem; the message is formatted only on this slow path.
func problemf(stage Stage, field, ref, format string, args ...any) Problem {
	return Problem{Stage: stage, Field: field, Ref: ref, Err: fmt.Errorf(format, args...)}
}

// decodeErr wraps a decoding failure (usually a *der.Error) as a problem.
func decodeErr(field, ref string, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		// Already located by a lower layer; keep its field if it has one.
		q := *p
		if q.Field == "" {
			q.Field = field
		}
		if q.Ref == "" {
			q.Ref = ref
		}
		return &q
	}
	return &Problem{Stage: Decode, Field: field, Ref: ref, Err: err}
}

// findings is embedded in every object type and holds the profile
// problems decoding found.
type findings struct {
	problems []Problem
}

// Problems lists the profile violations found while decoding.
func (f *findings) Problems() []Problem { return f.problems }

// Valid reports whether decoding found no problem.
func (f *findings) Valid() bool { return len(f.problems) == 0 }

// report collects the profile problems found while decoding an object.
type report struct {
	problems []Problem
	// prefix locates a nested structure (the EE certificate of a signed
	// object). It is joined to a field name only when a problem is
	// recorded, so the common, problem-free path builds no strings.
	prefix string
}

func (r *report) add(stage Stage, field, ref, format string, args ...any) {
	r.problems = append(r.problems, problemf(stage, r.prefix+field, ref, format, args...))
}

func (r *report) inspect(field, ref, format string, args ...any) {
	r.add(Inspect, field, ref, format, args...)
}

// Join turns a list of problems into one error, or nil when there are none.
func Join(ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, len(ps))
	for i := range ps {
		errs[i] = &ps[i]
	}
	return errors.Join(errs...)
}

// errTooMany reports that a list passed one of the package's limits.
func errTooMany(what string, limit int) error {
	return fmt.Errorf("more than %d %s", limit, what)
}
