package cli_test

import (
	"fmt"
	"os"
	"testing"
)

// realHome is the home directory the tests were started with. The go
// tool that buildRovd runs finds its build cache, module cache and
// settings there; in the tests' empty home it would build everything
// anew and download the modules.
var realHome = os.Getenv("HOME")

// TestMain gives the tests an empty home directory, so that none reads
// a $HOME/.rovd.conf of the machine, and removes the rovd binary that
// the daemon tests build.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "rovd-cli-home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("HOME", home)
	code := m.Run()
	os.RemoveAll(home)
	removeRovdBinary()
	os.Exit(code)
}
