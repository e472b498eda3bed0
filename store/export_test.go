package store

// SetSortRun changes the in-memory sort run for a test and returns a
// function that restores it.
func SetSortRun(n int) (restore func()) {
	old := sortRun
	sortRun = n
	return func() { sortRun = old }
}

// SetChangeLogKeep shortens the change log for a test.
func SetChangeLogKeep(t interface{ Cleanup(func()) }, n uint64) {
	old := changeLogKeep
	changeLogKeep = n
	t.Cleanup(func() { changeLogKeep = old })
}
