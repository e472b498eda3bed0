package output

import (
	"testing"
	"time"
)

// TestAppendTime compares the hand-written time layouts with
// time.Format, across years, months, the clock and time zones.
func TestAppendTime(t *testing.T) {
	east := time.FixedZone("east", 5*3600+1800)
	for _, tm := range []time.Time{
		{},
		time.Unix(0, 0),
		time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2027, 1, 1, 3, 4, 5, 0, east),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		for _, layout := range []string{isoTime, spaceUTC} {
			want := tm.UTC().Format(layout)
			if got := string(appendTime([]byte("x"), tm, layout)); got != "x"+want {
				t.Errorf("appendTime(%v, %q) = %q, want %q", tm, layout, got[1:], want)
			}
		}
	}
}
