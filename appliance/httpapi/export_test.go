package httpapi

import (
	"github.com/valyala/fasthttp"
)

// Handle runs the request handler on ctx, without a connection.
func (s *Service) Handle(ctx *fasthttp.RequestCtx) { s.handle(ctx) }

// SetTweak sets a function that adjusts each fasthttp server before it
// serves.
func (s *Service) SetTweak(f func(*fasthttp.Server)) { s.tweak = f }

// OpenConns returns the number of HTTP connections open now.
func (s *Service) OpenConns() uint64 { return s.connsOpened.Load() - s.connsClosed.Load() }

// UIRuns is how many runs /ui/data.json lists.
const UIRuns = uiRuns

var (
	EtagMatches = etagMatches
	AcceptsGzip = acceptsGzip
	ISODuration = isoDuration
	BytesString = bytesString
)
