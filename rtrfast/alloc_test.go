//go:build !race

package rtrfast_test

import (
	"io"
	"testing"
	"time"

	"github.com/rovd/rovd/rtrfast"
)

// TestResponseAllocs proves that answering a query allocates nothing: the
// server writes the snapshot's shared slices. AllocsPerRun counts every
// allocation of the process, so it covers the session goroutine that
// answers; the client side here reuses its buffers. The race detector
// allocates on its own, hence the build tag.
func TestResponseAllocs(t *testing.T) {
	srv, addr := startServer(t, rtrfast.Config{HistorySize: 2, EnableASPA: true, EnableBGPsec: true, WriteTimeout: ioTimeout})
	srv.Publish(bigSet(20000, 1))
	srv.Publish(bigSet(20100, 1))
	c := dial(t, addr)
	_, eod := c.sync(2)

	tests := []struct {
		name  string
		query rtrfast.PDU
	}{
		{"reset query, full table", rtrfast.PDU{Version: 2, Type: rtrfast.TypeResetQuery}},
		{"serial query, delta", rtrfast.PDU{Version: 2, Type: rtrfast.TypeSerialQuery, SessionID: eod.SessionID, Serial: eod.Serial - 1}},
		{"serial query, up to date", rtrfast.PDU{Version: 2, Type: rtrfast.TypeSerialQuery, SessionID: eod.SessionID, Serial: eod.Serial}},
		{"serial query, cache reset", rtrfast.PDU{Version: 2, Type: rtrfast.TypeSerialQuery, SessionID: eod.SessionID, Serial: eod.Serial - 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			query := rtrfast.AppendPDU(nil, &tc.query)
			// Learn the answer's length once, then read exactly that much.
			c.sendRaw(query)
			n := answerLength(t, c)
			buf := make([]byte, n)
			c.conn.SetDeadline(time.Now().Add(time.Minute))
			allocs := testing.AllocsPerRun(50, func() {
				if _, err := c.conn.Write(query); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c.conn, buf); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per query, want 0", allocs)
			}
		})
	}
}

// answerLength reads one answer (up to End of Data, or a Cache Reset) and
// returns its length in octets.
func answerLength(t *testing.T, c *client) int {
	t.Helper()
	n := 0
	for {
		p := c.read()
		n += len(rtrfast.AppendPDU(nil, &p))
		if p.Type == rtrfast.TypeEndOfData || p.Type == rtrfast.TypeCacheReset {
			return n
		}
	}
}
