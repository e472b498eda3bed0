package payload

import (
	"slices"
	"testing"
)

func TestSortParallel(t *testing.T) {
	for _, n := range []int{0, 1, 100, parallelSortMin - 1, parallelSortMin, 3*parallelSortMin + 7, 200000} {
		s := make([]int, n)
		for i := range s {
			s[i] = (i * 7919) % 100003
		}
		want := slices.Clone(s)
		slices.Sort(want)
		sortParallel(s, func(a, b int) int { return a - b })
		if !slices.Equal(s, want) {
			t.Errorf("n=%d: not sorted", n)
		}
	}
}
