package rtrfast_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/rtrfast"
	"github.com/rovd/rovd/rtrfast/rtrtest"
)

// changedSet drops every 30th VRP of s and adds a hundred new ones.
func changedSet(s *payload.Set) *payload.Set {
	var b payload.Builder
	for i, v := range s.VRPs() {
		if i%30 != 0 {
			b.AddVRP(v, nil)
		}
	}
	for i := range 100 {
		b.AddVRP(vrp(65000+uint32(i), fmt.Sprintf("172.16.%d.0/24", i), 24), nil)
		if i%2 == 0 {
			b.AddVRP(vrp(65000+uint32(i), fmt.Sprintf("2001:db8:ffff:%x::/64", i), 64), nil)
		}
	}
	return b.Build()
}

// vrpsOf is the VRP part of what a version 1 router holds once synced to
// s: the clients here know no more.
func vrpsOf(s *payload.Set) rtrtest.VRPs {
	return rtrtest.VRPs(rtrfast.TableOf(s, 1, false, false).VRPs)
}

// TestRTRClient has rtrlib's rtrclient (Debian rtr-tools) fetch the full
// table, then follow a change as a delta.
func TestRTRClient(t *testing.T) {
	rtrtest.NeedBinary(t, "rtrclient", "rtr-tools")
	rtrtest.NeedBinary(t, "stdbuf", "coreutils")
	srv, addr := startServer(t, rtrfast.Config{HistorySize: 5})
	first := bigSet(3000, 64496)
	srv.Publish(first)
	host, port, _ := net.SplitHostPort(addr)

	t.Run("full table", func(t *testing.T) {
		if got, want := rtrtest.RTRClientTable(t, host, port), vrpsOf(first); !got.Equal(want) {
			t.Fatalf("rtrclient's table: %s", got.Diff(want))
		}
	})

	t.Run("delta", func(t *testing.T) {
		c := rtrtest.StartRTRClient(t, host, port)
		c.WaitFor(vrpsOf(first))
		before := srv.Stats()
		second := changedSet(first)
		srv.Publish(second)
		c.WaitFor(vrpsOf(second))
		after := srv.Stats()
		if after.SerialQueries == before.SerialQueries || after.CacheResets != before.CacheResets || after.ResetQueries != before.ResetQueries {
			t.Errorf("rtrclient did not follow with a delta: %d serial, %d reset queries, %d cache resets after; %d, %d, %d before",
				after.SerialQueries, after.ResetQueries, after.CacheResets, before.SerialQueries, before.ResetQueries, before.CacheResets)
		}
	})
}

// TestBIRD has BIRD 2 sync its roa4 and roa6 tables over RTR, then follow
// a change.
func TestBIRD(t *testing.T) {
	rtrtest.NeedBinary(t, "bird", "bird2")
	rtrtest.NeedBinary(t, "birdc", "bird2")
	srv, addr := startServer(t, rtrfast.Config{HistorySize: 5})
	first := bigSet(3000, 64496)
	srv.Publish(first)
	host, port, _ := net.SplitHostPort(addr)

	bird := rtrtest.StartBIRD(t, host, port)
	bird.WaitCounts(rtrtest.SetVRPs(first))
	before := srv.Stats()
	second := changedSet(first)
	srv.Publish(second)
	bird.WaitCounts(rtrtest.SetVRPs(second))
	after := srv.Stats()
	if after.SerialQueries == before.SerialQueries {
		t.Errorf("BIRD picked up the change without a Serial Query")
	}
	t.Logf("BIRD sessions by protocol version: %v", after.SessionsByVersion)
}
