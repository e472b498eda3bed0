package rtrfast

import (
	"testing"
	"unsafe"
)

// TestSessionSize guards the memory a connection costs beside its
// goroutine: thousands of routers may be connected at once.
func TestSessionSize(t *testing.T) {
	if got, limit := unsafe.Sizeof(session{}), uintptr(512); got > limit {
		t.Errorf("session is %d bytes, more than %d", got, limit)
	}
}
