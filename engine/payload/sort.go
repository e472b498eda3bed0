package payload

import (
	"runtime"
	"slices"
	"sync"
)

// parallelSortMin is the length from which sorting is split across
// cores: below it the goroutines and the merge cost more than they save.
const parallelSortMin = 1 << 15

// sortParallel sorts s: in runs sorted by one goroutine per core (up to
// four), merged pairwise. Building the set of a validation run is on the
// run's critical path, and a global set has 600,000 VRPs.
func sortParallel[T any](s []T, cmp func(a, b T) int) {
	parts := min(runtime.GOMAXPROCS(0), 4)
	if len(s) < parallelSortMin || parts < 2 {
		slices.SortFunc(s, cmp)
		return
	}
	orig := s
	bounds := make([]int, parts+1)
	for i := range bounds {
		bounds[i] = len(s) * i / parts
	}
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() { slices.SortFunc(s[bounds[i]:bounds[i+1]], cmp) })
	}
	wg.Wait()
	buf := make([]T, len(s))
	for len(bounds) > 2 {
		// Merge neighbouring runs pairwise, in parallel, into buf, then
		// swap roles.
		next := []int{0}
		for i := 0; i+2 < len(bounds); i += 2 {
			lo, mid, hi := bounds[i], bounds[i+1], bounds[i+2]
			wg.Go(func() { mergeInto(buf[lo:hi], s[lo:mid], s[mid:hi], cmp) })
			next = append(next, hi)
		}
		if len(bounds)%2 == 0 { // an odd run out: carried over
			lo, hi := bounds[len(bounds)-2], bounds[len(bounds)-1]
			copy(buf[lo:hi], s[lo:hi])
			next = append(next, hi)
		}
		wg.Wait()
		s, buf = buf, s
		bounds = next
	}
	if &s[0] != &orig[0] {
		copy(orig, s) // the result ended up in the buffer
	}
}

// mergeInto merges the sorted a and b into dst, stably.
func mergeInto[T any](dst, a, b []T, cmp func(a, b T) int) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if cmp(b[j], a[i]) < 0 {
			dst[k] = b[j]
			j++
		} else {
			dst[k] = a[i]
			i++
		}
		k++
	}
	k += copy(dst[k:], a[i:])
	copy(dst[k:], b[j:])
}
