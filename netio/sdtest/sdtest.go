//go:build linux

package sdtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv marks the test binary started by Start.
const childEnv = "ROVD_SDTEST_CHILD"

// Main is the body of a TestMain: in a child that Start started it runs
// child and exits with its status, otherwise it runs the tests.
func Main(m *testing.M, child func() int) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// Socket makes a socket of type typ (unix.SOCK_STREAM, listening, or
// unix.SOCK_DGRAM) bound to a free port of 127.0.0.1, in blocking mode
// as systemd passes them, and returns it with its address. It is closed
// when the test ends.
func Socket(t testing.TB, typ int) (*os.File, string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, typ, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "socket")
	t.Cleanup(func() { f.Close() })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if typ == unix.SOCK_STREAM {
		if err := unix.Listen(fd, 8); err != nil {
			t.Fatal(err)
		}
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return f, fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
}

// Child is the test binary running as a socket-activated process.
type Child struct {
	*exec.Cmd
	out *bufio.Reader
}

// Start runs the test binary as a child (see Main) with files as its
// descriptors from 3 on and env added to its environment (later entries
// win). With ownPID a shell sets LISTEN_PID to the child's process ID
// and execs the binary, as systemd does; otherwise LISTEN_PID is what
// env says. The child's standard error is the test's; it is killed when
// the test ends.
func Start(t testing.TB, files []*os.File, ownPID bool, env ...string) *Child {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	if ownPID {
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Skip("no sh to exec the child with its own LISTEN_PID")
		}
		cmd = exec.Command(sh, "-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$0"`, self)
	} else {
		cmd = exec.Command(self)
	}
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	cmd.ExtraFiles = files
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // gone already unless the test failed
		_ = cmd.Wait()
	})
	return &Child{Cmd: cmd, out: bufio.NewReader(out)}
}

// Print writes v as one line of JSON to standard output, for the test
// to read with Report; a child calls it.
func Print(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println(string(line))
}

// Report reads the child's next line of output, which Print wrote, into
// v.
func (c *Child) Report(t testing.TB, v any) {
	t.Helper()
	line, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("child report: %v", err)
	}
	if err := json.Unmarshal([]byte(line), v); err != nil {
		t.Fatalf("child report %q: %v", line, err)
	}
}
