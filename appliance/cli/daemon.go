package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/appliance/logging"
)

// A Go program cannot fork, so the server detaches by starting itself
// again: the same program with the same arguments, in a new session,
// with standard input and output on /dev/null. That second process is
// the daemon. It finds daemonEnv in its environment, holding the number
// of the descriptor of a pipe to the first process, and reports there
// how its start went: error messages for the terminal, then readyMsg
// once it serves. The first process waits for that and exits 0 after
// readyMsg, 1 otherwise, so start-up errors still reach the terminal.
const daemonEnv = "ROVD_DAEMON_PIPE"

// daemonFD is the pipe's descriptor in the daemon: the first of
// exec.Cmd's ExtraFiles.
const daemonFD = 3

// readyMsg ends what the daemon writes to the pipe when it has started.
// It starts with a NUL byte, which no error message holds.
const readyMsg = "\x00ready\n"

// maxStartupOutput bounds what the first process reads from the pipe:
// a few error lines are expected.
const maxStartupOutput = 64 << 10

// detach starts the daemon with args (os.Args as Main got them) and
// waits until it has started or failed; it returns the exit status of
// the first process.
func detach(args []string, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rovd server: detach: %v\n", err)
		return ExitError
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	defer r.Close()
	cmd := &exec.Cmd{
		Path: exe,
		Args: args,
		// Stdin, Stdout and Stderr nil are /dev/null.
		Env:         append(os.Environ(), daemonEnv+"="+strconv.Itoa(daemonFD)),
		ExtraFiles:  []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	w.Close() // the daemon holds the only write end now: EOF when it closes or ends
	if err != nil {
		return fail(err)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxStartupOutput))
	r.Close() // a daemon writing beyond the limit gets EPIPE, not a block
	if err == nil && bytes.HasSuffix(out, []byte(readyMsg)) {
		_, _ = stderr.Write(out[:len(out)-len(readyMsg)])
		_ = cmd.Process.Release() // it runs on without us
		return ExitOK
	}
	_, _ = stderr.Write(out)
	werr := cmd.Wait()
	if len(out) == 0 {
		if werr == nil {
			werr = errors.New("exit status 0")
		}
		fmt.Fprintf(stderr, "rovd server: the daemon ended during its start: %v\n", werr)
	}
	return ExitError
}

// daemonPipe returns the pipe to the first process if this process is a
// daemon that detach started, nil otherwise. It removes daemonEnv from
// the environment, so that no process started later takes it for its
// own, and keeps the pipe from being inherited.
func daemonPipe() (*os.File, error) {
	v, ok := os.LookupEnv(daemonEnv)
	if !ok {
		return nil, nil
	}
	if err := os.Unsetenv(daemonEnv); err != nil {
		return nil, err
	}
	fd, err := strconv.Atoi(v)
	var st syscall.Stat_t
	if err == nil && fd > 2 {
		err = syscall.Fstat(fd, &st)
	}
	if err != nil || fd <= 2 || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return nil, fmt.Errorf("%s=%q is rovd's own and names no pipe", daemonEnv, v)
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "daemon start-up pipe"), nil
}

// startup reports how the start of the server went: on the terminal in
// the foreground, through the pipe to the first process for a daemon.
type startup struct {
	pipe   *os.File // nil in the foreground
	stderr io.Writer
	// log is set once the logger exists: after the daemon has started,
	// its standard error goes nowhere and errors go to the log.
	log   *slog.Logger
	ready bool
}

// fail reports an error that ends the server and returns the exit
// status.
func (s *startup) fail(err error) int {
	w := s.stderr
	switch {
	case s.pipe != nil && !s.ready:
		w = s.pipe
	case s.pipe != nil && s.log != nil:
		s.log.Error("server stopped", "err", err)
	}
	fmt.Fprintf(w, "rovd server: %v\n", err)
	return ExitError
}

// done tells the first process that the daemon has started.
func (s *startup) done() {
	if s.pipe == nil || s.ready {
		return
	}
	s.ready = true
	if _, err := io.WriteString(s.pipe, readyMsg); err != nil && s.log != nil {
		s.log.Warn("could not report the start to the terminal", "err", err)
	}
	_ = s.pipe.Close() // nothing more to say; the reader needs only the EOF
}

// pidFile is the pid-file: it holds the server's process ID and stays
// locked (flock) while the server runs, so that a second server with
// the same file fails at start.
type pidFile struct {
	f *os.File
	// path removes the file at the end; "" when it cannot be reached
	// after chroot.
	path string
}

// maxPIDFileTries bounds the attempts to lock a pid file that keeps
// being removed under us.
const maxPIDFileTries = 3

// lockPIDFile creates or opens the pid file at path, locks it and
// writes the process ID into it.
func lockPIDFile(path string) (*pidFile, error) {
	for range maxPIDFileTries {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("pid-file: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			holder, _ := io.ReadAll(io.LimitReader(f, 32))
			f.Close()
			if !errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("pid-file %s: lock: %w", path, err)
			}
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				return nil, fmt.Errorf("pid-file %s: locked by process %s: is rovd running already?", path, pid)
			}
			return nil, fmt.Errorf("pid-file %s: locked by another process: is rovd running already?", path)
		}
		// A server that stopped may have removed the file between our
		// open and our lock: then we hold a lock nobody can see.
		if sameFile(f, path) {
			pid := strconv.Itoa(os.Getpid()) + "\n"
			if err := f.Truncate(0); err != nil {
				f.Close()
				return nil, fmt.Errorf("pid-file %s: %w", path, err)
			}
			if _, err := f.WriteAt([]byte(pid), 0); err != nil {
				f.Close()
				return nil, fmt.Errorf("pid-file %s: %w", path, err)
			}
			return &pidFile{f: f, path: path}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("pid-file %s: replaced %d times while being locked", path, maxPIDFileTries)
}

// sameFile reports whether f is the file at path.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// remove removes the pid file, then unlocks it: in this order, a new
// server never finds a file we would remove after it locked it.
func (p *pidFile) remove(log *slog.Logger) {
	if p.path == "" {
		log.Info("pid file left in place: outside the chroot")
	} else if err := os.Remove(p.path); err != nil {
		// After --user the directory may not let us; the stale file is
		// harmless, since the next server locks it.
		log.Info("pid file left in place", "err", err)
	}
	_ = p.f.Close() // read-write, nothing buffered
}

// daemonSys are the system calls that make a daemon, in a table so
// that a test can check their order without privileges.
type daemonSys struct {
	chdir     func(dir string) error
	chroot    func(dir string) error
	setgroups func(gids []int) error
	setgid    func(gid int) error
	setuid    func(uid int) error
	geteuid   func() int
}

// osDaemonSys makes the calls. Since Go 1.16, Setgroups, Setgid and
// Setuid change every thread of the process on Linux, not just the
// calling one.
var osDaemonSys = daemonSys{
	chdir:     os.Chdir,
	chroot:    syscall.Chroot,
	setgroups: syscall.Setgroups,
	setgid:    syscall.Setgid,
	setuid:    syscall.Setuid,
	geteuid:   os.Geteuid,
}

// ids are the user and group a daemon changes to; -1 keeps the
// current one.
type ids struct {
	uid, gid int
}

// lookupIDs finds the IDs of --user and --group, a name or a number.
// They are looked up before chroot, which leaves /etc/passwd behind.
// Without --group, the group is the user's primary group, so that the
// daemon keeps no group of the user who started it.
func lookupIDs(userName, groupName string) (ids, error) {
	id := ids{uid: -1, gid: -1}
	if userName != "" {
		u, err := user.Lookup(userName)
		numeric := false
		if n, nerr := strconv.Atoi(userName); err != nil && nerr == nil && n >= 0 {
			numeric = true
			u, err = user.LookupId(userName)
		}
		switch {
		case numeric && err != nil && groupName != "":
			// A user ID without a passwd entry, as in containers.
			u, err = &user.User{Uid: userName, Gid: "-1"}, nil
		case numeric && err != nil:
			return id, fmt.Errorf("user %q: no such user ID: give the group (--group) as well", userName)
		case err != nil:
			return id, fmt.Errorf("user %q: %w", userName, err)
		}
		if id.uid, err = strconv.Atoi(u.Uid); err != nil {
			return id, fmt.Errorf("user %q: user ID %q: %w", userName, u.Uid, err)
		}
		if id.gid, err = strconv.Atoi(u.Gid); err != nil {
			return id, fmt.Errorf("user %q: group ID %q: %w", userName, u.Gid, err)
		}
	}
	if groupName != "" {
		g, err := user.LookupGroup(groupName)
		if n, nerr := strconv.Atoi(groupName); err != nil && nerr == nil && n >= 0 {
			g, err = &user.Group{Gid: groupName}, nil // a group ID with or without an entry
		}
		if err != nil {
			return id, fmt.Errorf("group %q: %w", groupName, err)
		}
		if id.gid, err = strconv.Atoi(g.Gid); err != nil {
			return id, fmt.Errorf("group %q: group ID %q: %w", groupName, g.Gid, err)
		}
	}
	return id, nil
}

// underRoot returns path as seen by a process whose root is root, and
// whether root holds it at all. Both are absolute and clean (Resolve
// made them so); symbolic links are not followed.
func underRoot(root, path string) (string, bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return filepath.Join("/", rel), true
}

// chrootPaths rewrites the paths the server opens after chroot to their
// place under the new root, as the manual asks of --chroot: each must
// lie under it. The TLS keys and certificates are read before and stay
// as they are; so does an rsync-command that is a bare name, looked up
// in $PATH under the new root. It changes c only if every path fits.
func chrootPaths(c *config.Config) error {
	root := c.Chroot
	out := *c
	one := func(key string, p *string) error {
		if *p == "" {
			return nil
		}
		in, ok := underRoot(root, *p)
		if !ok {
			return fmt.Errorf("chroot %s: %s %s lies outside it", root, key, *p)
		}
		*p = in
		return nil
	}
	many := func(key string, ps *[]string) error {
		list := make([]string, len(*ps))
		copy(list, *ps)
		for i := range list {
			if err := one(key, &list[i]); err != nil {
				return err
			}
		}
		*ps = list
		return nil
	}
	errs := []error{
		one("repository-dir", &out.RepositoryDir),
		one("tal-dir", &out.TALDir),
		many("exceptions", &out.Exceptions),
		many("rrdp-root-cert", &out.RRDPRootCerts),
		one("rrdp-keep-responses", &out.RRDPKeepResponses),
		one("working-dir", &out.WorkingDir),
	}
	if filepath.IsAbs(out.RsyncCommand) {
		errs = append(errs, one("rsync-command", &out.RsyncCommand))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	*c = out
	return nil
}

// settle turns the process into the daemon c asks for, once its
// listeners are bound: the working directory and the root, then the
// group and the user. The root changes first, since that needs
// privileges, and the user last, since it gives them up. With chroot,
// the paths in c become paths under the new root and the working
// directory one under it too ("/" if none is given): a working
// directory outside would leave a way out.
func settle(c *config.Config, id ids, sys daemonSys) error {
	if c.Chroot != "" {
		root := c.Chroot
		if err := chrootPaths(c); err != nil {
			return err
		}
		if err := sys.chroot(root); err != nil {
			return fmt.Errorf("chroot %s: %w", root, err)
		}
		dir := c.WorkingDir
		if dir == "" {
			dir = "/"
		}
		if err := sys.chdir(dir); err != nil {
			return fmt.Errorf("working-dir %s under chroot %s: %w", dir, root, err)
		}
	} else if c.WorkingDir != "" {
		if err := sys.chdir(c.WorkingDir); err != nil {
			return fmt.Errorf("working-dir: %w", err)
		}
	}
	if id.gid >= 0 {
		// Only root can set the supplementary groups; they are cut
		// to the one group, so none of root's stays.
		if sys.geteuid() == 0 {
			if err := sys.setgroups([]int{id.gid}); err != nil {
				return fmt.Errorf("group %d: supplementary groups: %w", id.gid, err)
			}
		}
		if err := sys.setgid(id.gid); err != nil {
			return fmt.Errorf("group %d: %w", id.gid, err)
		}
	}
	if id.uid >= 0 {
		if err := sys.setuid(id.uid); err != nil {
			return fmt.Errorf("user %d: %w", id.uid, err)
		}
	}
	return nil
}

// becomeDaemon applies --working-dir, --chroot, --user and --group with
// sys, then points the log file and the pid file (nil if none) at their
// paths under the new root.
func becomeDaemon(c *config.Config, lg *logging.Log, pid *pidFile, sys daemonSys) error {
	id, err := lookupIDs(c.User, c.Group)
	if err != nil {
		return err
	}
	root := c.Chroot
	if err := settle(c, id, sys); err != nil {
		return err
	}
	if root == "" {
		return nil
	}
	if file := lg.File(); file != "" {
		in, ok := underRoot(root, file)
		if !ok {
			lg.Logger.Info("the log file lies outside the chroot: SIGHUP cannot reopen it", "log_file", file)
		}
		lg.SetFile(in)
	}
	if pid != nil {
		pid.path, _ = underRoot(root, pid.path)
	}
	return nil
}

// daemonOptions reports whether c sets an option that takes effect only
// with --detach.
func daemonOptions(c *config.Config) bool {
	return c.WorkingDir != "" || c.Chroot != "" || c.User != "" || c.Group != ""
}
