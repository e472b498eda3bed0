package server

import (
	"time"

	"github.com/rovd/rovd/engine/payload"
)

// EncodeState and DecodeState are the state file's content without its
// checksum, for the fuzz target.
func EncodeState(set *payload.Set, t time.Time) []byte { return encodeState(set, t) }

func DecodeState(data []byte, now time.Time) (*payload.Set, time.Time, error) {
	return decodeState(data, now)
}

// NextWait is the wait after a successful run that produced upd.
func (s *Server) NextWait(upd *Update) time.Duration { return s.nextWait(upd) }
