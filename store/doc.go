// Package store will keep fetched RPKI objects in a memory-mapped,
// crash-safe store with versioned, zero-copy reads. It depends on the
// standard library, golang.org/x/sys and its storage engine only. It is
// built with the fetching issue.
package store
