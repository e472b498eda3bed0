package rtrfast_test

import (
	"testing"

	"github.com/rovd/rovd/rtrfast"
)

func TestSerialLess(t *testing.T) {
	tests := []struct {
		name string
		a, b rtrfast.Serial
		less bool
	}{
		{"plain", 1, 2, true},
		{"equal", 5, 5, false},
		{"reverse", 2, 1, false},
		{"across the wrap", 0xffffffff, 0, true},
		{"across the wrap, reverse", 0, 0xffffffff, false},
		{"largest step forward", 0, 0x7fffffff, true},
		{"half way is undefined", 0, 0x80000000, false},
		{"half way is undefined, reverse", 0x80000000, 0, false},
		{"just past half way is backwards", 0, 0x80000001, false},
		{"just past half way, reverse", 0x80000001, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Less(tc.b); got != tc.less {
				t.Errorf("%d.Less(%d) = %v, want %v", tc.a, tc.b, got, tc.less)
			}
		})
	}
}

func TestSerialAdd(t *testing.T) {
	if got := rtrfast.Serial(0xffffffff).Add(1); got != 0 {
		t.Errorf("0xffffffff + 1 = %d, want 0", got)
	}
	if got := rtrfast.Serial(0xfffffffe).Add(5); got != 3 {
		t.Errorf("0xfffffffe + 5 = %d, want 3", got)
	}
	s := rtrfast.Serial(0xffffffff)
	if !s.Less(s.Add(1)) {
		t.Error("a serial is not before its successor across the wrap")
	}
}
