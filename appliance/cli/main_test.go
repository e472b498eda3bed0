package cli_test

import (
	"fmt"
	"os"
	"testing"
)

// realHome is $HOME before TestMain replaced it: go build finds its
// module and build caches under it (GOPATH and GOCACHE default there).
var realHome string

// TestMain gives the tests an empty home directory, so that none reads
// a $HOME/.rovd.conf of the machine, and removes the rovd binary that
// the daemon tests build.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "rovd-cli-home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	realHome = os.Getenv("HOME")
	os.Setenv("HOME", home)
	code := m.Run()
	os.RemoveAll(home)
	removeRovdBinary()
	os.Exit(code)
}
