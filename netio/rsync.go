package netio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rovd/rovd/store"
)

// rsyncBaseArgs are always passed: recursive, keep times (so unchanged
// files are skipped next time), compress, delete what the server
// removed. Without -l, symbolic links are skipped, which is what we want
// from a repository.
var rsyncBaseArgs = []string{"-rtz", "--delete", "--no-motd"}

// contimeoutArg is what the manual adds when rsync knows it: connection
// attempts time out after ten seconds.
const contimeoutArg = "--contimeout=10"

// rsyncRunner runs the rsync command, one module at a time, into a
// working tree under dir, and imports the module into the store.
type rsyncRunner struct {
	command string
	args    []string // nil until probed, if the config gave none
	timeout time.Duration
	dir     string
	store   *store.Store
	maxSize int64

	probeOnce sync.Once
}

// extraArgs returns rsync-args, or the manual's default: --contimeout=10
// if this rsync understands it, else nothing.
func (r *rsyncRunner) extraArgs(ctx context.Context) []string {
	r.probeOnce.Do(func() {
		if r.args != nil {
			return
		}
		r.args = []string{}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, r.command, "--help").CombinedOutput() // rsync --help exits 0 on new versions, 1 on some old ones
		if bytes.Contains(out, []byte("--contimeout")) {
			r.args = []string{contimeoutArg}
		}
	})
	return r.args
}

// moduleDir is the working tree of a module.
func (r *rsyncRunner) moduleDir(host, module string) string {
	return filepath.Join(r.dir, "rsync", host, module)
}

// update runs rsync for the module at base (rsync://HOST/MODULE/) and
// replaces the repository's content in the store with the result.
func (r *rsyncRunner) update(ctx context.Context, base string) (objects int, skipped []error, err error) {
	host, module, _, err := RsyncModule(base)
	if err != nil {
		return 0, nil, err
	}
	dest := r.moduleDir(host, module)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return 0, nil, err
	}
	args := append([]string{}, rsyncBaseArgs...)
	if r.maxSize > 0 {
		args = append(args, "--max-size="+strconv.FormatInt(r.maxSize, 10))
	}
	args = append(args, r.extraArgs(ctx)...)
	args = append(args, base, dest+"/")
	if err := r.run(ctx, args); err != nil {
		return 0, nil, fmt.Errorf("rsync %s: %w", base, err)
	}
	info := store.Repo{Protocol: "rsync", Updated: time.Now()}
	skipped, err = r.store.ImportModule(base, base, dest, r.maxSize, info)
	if err != nil {
		return 0, skipped, err
	}
	err = r.store.View(func(v *store.View) error {
		info, _, err := v.Repo(base)
		objects = info.Objects
		return err
	})
	return objects, skipped, err
}

// run runs rsync in its own process group and kills the whole group when
// rsync-timeout passes or ctx ends: rsync forks, and a hanging child
// must not outlive the run.
func (r *rsyncRunner) run(ctx context.Context, args []string) error {
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, r.command, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	var stderr tailBuffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("killed after rsync-timeout %v", r.timeout)
		}
		return ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 24 {
		return nil // files vanished during the transfer: the rest is fine
	}
	if msg := strings.TrimSpace(stderr.String()); msg != "" {
		return fmt.Errorf("%w: %s", err, msg)
	}
	return err
}

// tailBuffer keeps the last 2 KB written to it, for error messages.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const keep = 2048
	t.b = append(t.b, p...)
	if len(t.b) > keep {
		t.b = append(t.b[:0], t.b[len(t.b)-keep:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
