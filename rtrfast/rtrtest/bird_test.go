package rtrtest_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/rtrfast"
	"github.com/rovd/rovd/rtrfast/rtrtest"
)

// TestBIRDKeepsMatchesBIRD serves the prefixes of TestBIRDKeeps to a real
// BIRD 2 and checks that its tables hold exactly those BIRDKeeps keeps.
func TestBIRDKeepsMatchesBIRD(t *testing.T) {
	rtrtest.NeedBinary(t, "bird", "bird2")
	rtrtest.NeedBinary(t, "birdc", "bird2")
	var b payload.Builder
	for i, tc := range birdKeeps {
		b.AddVRP(vrp(uint32(64496+i), tc.prefix, uint8(netip.MustParsePrefix(tc.prefix).Bits())), nil)
	}
	set := b.Build()

	srv := rtrfast.NewServer(rtrfast.Config{})
	srv.Publish(set)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(t.Context(), l) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	host, port, _ := net.SplitHostPort(l.Addr().String())
	bird := rtrtest.StartBIRD(t, host, port)
	all := rtrtest.SetVRPs(set)
	bird.WaitFor(all)
	got, err := bird.VRPs()
	if err != nil {
		t.Fatal(err)
	}
	if want := rtrtest.BIRDView(all); !got.Equal(want) || len(want) == len(all) {
		t.Errorf("BIRD's tables: %s (of %d served)", got.Diff(want), len(all))
	}
}
