package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// peerSetup is a peer ready to run: its command for one run and where
// that run's VRPs land.
type peerSetup struct {
	version string
	cmd     Command
	// output is the csv the command writes.
	output string
	// notes say how the input was laid out, for the report.
	notes []string
	// cleanup removes what setup made outside DIR.
	cleanup func()
}

// manifestBefore and manifestAfter bound the validity of the world's
// manifests and CRLs around the time they were issued (bench/world: from
// Now-1h to Now+24h). Peers validate at the current time, so it must
// fall inside.
const (
	manifestBefore = time.Hour
	manifestAfter  = 24 * time.Hour
)

// peerUsable returns why the peers cannot validate the world in dir now,
// or "". The oldest manifests are the world's own, the newest those of
// its latest mutation.
func peerUsable(st *world.State, dir string, now time.Time) string {
	from := worldTime(st).Add(-manifestBefore)
	to := st.Config.Now.Add(manifestAfter)
	if now.Before(from.Add(time.Minute)) || now.After(to.Add(-time.Minute)) {
		return fmt.Sprintf("the world's manifests are all valid only from %s to %s, and peers validate at the current time; rebuild the world (remove %s)",
			from.Format(time.RFC3339), to.Format(time.RFC3339), dir)
	}
	return ""
}

// setupPeer prepares a peer's offline input.
func setupPeer(ctx context.Context, env *Env, name, bin string, st *world.State) (*peerSetup, error) {
	switch name {
	case PeerRPKIClient:
		return setupRPKIClient(ctx, env, bin, st)
	case PeerFORT:
		return setupFORT(ctx, env, bin, st)
	}
	return nil, fmt.Errorf("unknown peer %q", name)
}

// rpkiClientUser is the user rpki-client switches to when started as
// root (it has no option to stay root).
const rpkiClientUser = "_rpki-client"

// setupRPKIClient lays out the world for 'rpki-client -n': the rsync
// tree as CACHE/HOST[:PORT]/MODULE/PATH, the very layout rpki-client
// 8.2 gives its rsync mirror, and each trust anchor certificate as
// CACHE/ta/TAL/FILE, where TAL is the TAL's file name without .tal and
// FILE the last path segment of the certificate's URI; that is where
// 8.2 keeps a downloaded TA certificate and where -n looks for it.
// A missing manifest crashes 8.2's parser (signal 11), so the tree must
// be complete.
func setupRPKIClient(ctx context.Context, env *Env, bin string, st *world.State) (*peerSetup, error) {
	ps := &peerSetup{version: version(ctx, bin, peerVersionArg(PeerRPKIClient)), cleanup: func() {}}
	base := env.Path("peers", PeerRPKIClient)
	if err := os.RemoveAll(base); err != nil {
		return nil, err
	}
	talDir := filepath.Join(env.WorldDir, "tals")
	uid, gid, dropsPrivileges := rpkiClientIDs()
	if dropsPrivileges && !reachableBy(env.Dir, uid, gid) {
		// rpki-client would fail to open its cache and TALs: give it a
		// directory of its own that its user can reach.
		tmp, err := os.MkdirTemp("", "rovd-bench-rpki-client-")
		if err != nil {
			return nil, err
		}
		ps.cleanup = func() { _ = os.RemoveAll(tmp) } // a temporary directory; nothing to report
		if err := os.Chmod(tmp, 0o755); err != nil {
			ps.cleanup()
			return nil, err
		}
		ps.notes = append(ps.notes, fmt.Sprintf("%s is not reachable by %s, so its input was put in %s", env.Dir, rpkiClientUser, tmp))
		base, talDir = tmp, filepath.Join(tmp, "tals")
		if err := linkTree(ctx, filepath.Join(env.WorldDir, "tals"), talDir); err != nil {
			ps.cleanup()
			return nil, err
		}
	}
	cache, out := filepath.Join(base, "cache"), filepath.Join(base, "out")
	if err := linkTree(ctx, filepath.Join(env.WorldDir, "rsync"), cache); err != nil {
		ps.cleanup()
		return nil, err
	}
	args := []string{"-n", "-c", "-d", cache, "-s", strconv.Itoa(int(env.Timeout.Seconds()))}
	for _, ta := range st.TAs {
		tal := strings.TrimSuffix(path.Base(ta.TAL), ".tal")
		dir := filepath.Join(cache, "ta", tal)
		if err := mkdirAll(dir); err != nil {
			ps.cleanup()
			return nil, err
		}
		// Both URIs of the TAL, so that whichever 8.2 takes the name
		// from, the file is there.
		for _, uri := range []string{ta.HTTPSURI, ta.RsyncURI} {
			if uri == "" {
				continue
			}
			dst := filepath.Join(dir, path.Base(uri))
			if _, err := os.Stat(dst); err == nil {
				continue
			}
			if err := linkFile(filepath.Join(env.WorldDir, filepath.FromSlash(ta.File)), dst); err != nil {
				ps.cleanup()
				return nil, err
			}
		}
		args = append(args, "-t", filepath.Join(talDir, path.Base(ta.TAL)))
	}
	if err := mkdirAll(out); err != nil {
		ps.cleanup()
		return nil, err
	}
	if dropsPrivileges {
		// It writes its output as its own user.
		if err := os.Chown(out, uid, gid); err != nil {
			ps.cleanup()
			return nil, err
		}
	}
	ps.cmd = Command{Path: bin, Args: append(args, out), Timeout: env.Timeout}
	ps.output = filepath.Join(out, "csv")
	return ps, nil
}

// rpkiClientIDs returns the user rpki-client will run as if it drops
// privileges, which it does when started as root.
func rpkiClientIDs() (uid, gid int, drops bool) {
	if os.Geteuid() != 0 {
		return 0, 0, false
	}
	u, err := user.Lookup(rpkiClientUser)
	if err != nil {
		return 0, 0, false
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uid, gid, true
}

// reachableBy tells whether uid (with only the group gid) may search
// every directory from / down to dir.
func reachableBy(dir string, uid, gid int) bool {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return false
		}
		perm := fi.Mode().Perm()
		sys, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return false
		}
		var bit fs.FileMode = 0o001
		switch {
		case int(sys.Uid) == uid:
			bit = 0o100
		case int(sys.Gid) == gid:
			bit = 0o010
		}
		if perm&bit == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// setupFORT lays out the world for 'fort --work-offline': FORT 1.5 maps
// rsync://HOST[:PORT]/PATH and https://HOST[:PORT]/PATH alike to
// CACHE/HOST[:PORT]/PATH, so the world's rsync tree, which also holds
// each trust anchor certificate at its rsync URI, is the cache as it is.
// FORT reads the TAL directory directly.
func setupFORT(ctx context.Context, env *Env, bin string, _ *world.State) (*peerSetup, error) {
	ps := &peerSetup{version: version(ctx, bin, peerVersionArg(PeerFORT)), cleanup: func() {}}
	base := env.Path("peers", PeerFORT)
	if err := os.RemoveAll(base); err != nil {
		return nil, err
	}
	cache := filepath.Join(base, "cache")
	if err := linkTree(ctx, filepath.Join(env.WorldDir, "rsync"), cache); err != nil {
		return nil, err
	}
	ps.output = filepath.Join(base, "vrps.csv")
	ps.cmd = Command{Path: bin, Timeout: env.Timeout, Args: []string{
		"--mode=standalone",
		"--tal=" + filepath.Join(env.WorldDir, "tals"),
		"--local-repository=" + cache,
		// Offline: no rsync, no HTTP (RRDP and TA certificates).
		"--work-offline=true",
		"--output.roa=" + ps.output,
		"--output.format=csv",
		"--log.output=console",
	}}
	return ps, nil
}

// linkTree recreates the tree src under dst with hard links (copies
// across file systems). Peers only read their input, and links cost
// neither the time nor the disk of a copy of a world's half million
// files. Directories are made searchable by everyone, as rpki-client's
// user needs.
func linkTree(ctx context.Context, src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return mkdirAll(target)
		}
		return linkFile(p, target)
	})
}

func mkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A restrictive umask must not lock out rpki-client's user.
	return os.Chmod(dir, 0o755)
}

func linkFile(src, dst string) error {
	err := os.Link(src, dst)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// lookPeer finds a peer's program.
func lookPeer(name string) (string, error) {
	return exec.LookPath(name)
}
