package store

// SetSortRun changes the in-memory sort run for a test and returns a
// function that restores it.
func SetSortRun(n int) (restore func()) {
	old := sortRun
	sortRun = n
	return func() { sortRun = old }
}
