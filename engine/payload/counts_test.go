package payload_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/engine/payload"
)

func TestCounts(t *testing.T) {
	tests := []struct {
		name  string
		items []item
		want  payload.Counts
	}{
		{
			name: "empty",
		},
		{
			name: "one TA",
			items: []item{
				addV(vrp(1, "10.0.0.0/8", 8), srcA1),
				addV(vrp(2, "10.0.0.0/8", 8), srcA1),
				addA(aspa(1, 2), srcA1),
				addK(key(1, 1, "k"), srcA1),
			},
			want: payload.Counts{
				Total: payload.Count{VRPs: 2, ASPAs: 1, RouterKeys: 1},
				TAs:   []payload.TACount{{TA: "a", Count: payload.Count{VRPs: 2, ASPAs: 1, RouterKeys: 1}}},
			},
		},
		{
			name: "item from two objects of one TA counts once",
			items: []item{
				addV(vrp(1, "10.0.0.0/8", 8), srcA1),
				addV(vrp(1, "10.0.0.0/8", 8), srcA2),
				addA(aspa(1, 2), srcA1),
				addA(aspa(1, 3), srcA2),
			},
			want: payload.Counts{
				Total: payload.Count{VRPs: 1, ASPAs: 1},
				TAs:   []payload.TACount{{TA: "a", Count: payload.Count{VRPs: 1, ASPAs: 1}}},
			},
		},
		{
			name: "item under two TAs counts for each, sorted by TA",
			items: []item{
				addV(vrp(1, "10.0.0.0/8", 8), srcB1),
				addV(vrp(1, "10.0.0.0/8", 8), srcA1),
				addV(vrp(1, "11.0.0.0/8", 8), srcB1),
				addK(key(1, 1, "k"), srcB1),
				addK(key(1, 1, "k"), srcA2),
			},
			want: payload.Counts{
				Total: payload.Count{VRPs: 2, RouterKeys: 1},
				TAs: []payload.TACount{
					{TA: "a", Count: payload.Count{VRPs: 1, RouterKeys: 1}},
					{TA: "b", Count: payload.Count{VRPs: 2, RouterKeys: 1}},
				},
			},
		},
		{
			name: "item without a source counts in the total only",
			items: []item{
				addV(vrp(1, "10.0.0.0/8", 8), nil),
			},
			want: payload.Counts{Total: payload.Count{VRPs: 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := build(tc.items...)
			got := s.Counts()
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Counts (-want +got):\n%s", d)
			}
			for _, e := range tc.want.TAs {
				if c, ok := got.TA(e.TA); !ok || c != e.Count {
					t.Errorf("TA(%q) = %+v, %v; want %+v", e.TA, c, ok, e.Count)
				}
			}
			if _, ok := got.TA("nope"); ok {
				t.Errorf("TA of an unknown trust anchor found")
			}
		})
	}
}

func TestCountsCopy(t *testing.T) {
	s := build(addV(vrp(1, "10.0.0.0/8", 8), srcA1))
	c := s.Counts()
	c.TAs[0].VRPs = 99
	if got := s.Counts().TAs[0].VRPs; got != 1 {
		t.Errorf("changing a returned Counts changed the set's: VRPs = %d", got)
	}
}
