package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/appliance/cli"
	"github.com/rovd/rovd/appliance/config"
)

// TestSettleOrder checks the order in which a daemon changes its root,
// directory, group and user, with stand-ins for the system calls: the
// root before the IDs (chroot needs root), the group before the user
// (setgid needs root too), the supplementary groups only as root, and
// nothing after a call that failed.
func TestSettleOrder(t *testing.T) {
	chrooted := func() config.Config {
		return config.Config{Chroot: "/srv/c", RepositoryDir: "/srv/c/repo", TALDir: "/srv/c/tals"}
	}
	withWorkDir := chrooted()
	withWorkDir.WorkingDir = "/srv/c/run"
	outside := chrooted()
	outside.TALDir = "/etc/rovd/tals"
	tests := []struct {
		name           string
		cfg            config.Config
		uid, gid, euid int
		fail           string
		want           []string
		wantErr        string
	}{
		{"nothing", config.Config{}, -1, -1, 0, "", nil, ""},
		{"working directory", config.Config{WorkingDir: "/srv/w"}, -1, -1, 0, "", []string{"chdir /srv/w"}, ""},
		{"chroot", chrooted(), -1, -1, 0, "", []string{"chroot /srv/c", "chdir /"}, ""},
		{"chroot and working directory", withWorkDir, -1, -1, 0, "", []string{"chroot /srv/c", "chdir /run"}, ""},
		{"user and group as root", config.Config{}, 7, 5, 0, "", []string{"setgroups [5]", "setgid 5", "setuid 7"}, ""},
		{"group only", config.Config{}, -1, 5, 0, "", []string{"setgroups [5]", "setgid 5"}, ""},
		{"user as another user", config.Config{}, 1000, 1000, 1000, "", []string{"setgid 1000", "setuid 1000"}, ""},
		{"everything", withWorkDir, 7, 5, 0, "", []string{"chroot /srv/c", "chdir /run", "setgroups [5]", "setgid 5", "setuid 7"}, ""},
		{"chroot fails", withWorkDir, 7, 5, 0, "chroot", []string{"chroot /srv/c"}, "chroot /srv/c: refused"},
		{"working directory fails", withWorkDir, 7, 5, 0, "chdir", []string{"chroot /srv/c", "chdir /run"}, "working-dir /run under chroot /srv/c: refused"},
		{"setgroups fails", config.Config{}, 7, 5, 0, "setgroups", []string{"setgroups [5]"}, "group 5: supplementary groups: refused"},
		{"setgid fails", config.Config{}, 7, 5, 0, "setgid", []string{"setgroups [5]", "setgid 5"}, "group 5: refused"},
		{"setuid fails", config.Config{}, 7, 5, 0, "setuid", []string{"setgroups [5]", "setgid 5", "setuid 7"}, "user 7: refused"},
		{"a path outside the chroot", outside, 7, 5, 0, "", nil, "chroot /srv/c: tal-dir /etc/rovd/tals lies outside it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			calls, err := cli.Settle(&cfg, tc.uid, tc.gid, tc.euid, tc.fail)
			if diff := cmp.Diff(tc.want, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestChrootPaths checks that the paths used after chroot become paths
// under the new root, and that one outside stops the start and leaves
// the configuration as it was.
func TestChrootPaths(t *testing.T) {
	base := config.Config{
		Chroot:            "/srv/c",
		RepositoryDir:     "/srv/c/var/repo",
		TALDir:            "/srv/c/tals",
		Exceptions:        []string{"/srv/c/slurm/a.json", "/srv/c/b.json"},
		RRDPRootCerts:     []string{"/srv/c/ca.pem"},
		RRDPKeepResponses: "/srv/c/keep",
		WorkingDir:        "/srv/c",
		RsyncCommand:      "rsync",
		RTRTLSKey:         "/etc/rovd/key.pem", // read before chroot: kept
	}
	cfg := base
	cfg.Exceptions = slices.Clone(base.Exceptions)
	if _, err := cli.Settle(&cfg, -1, -1, 0, ""); err != nil {
		t.Fatal(err)
	}
	want := config.Config{
		Chroot:            "/srv/c",
		RepositoryDir:     "/var/repo",
		TALDir:            "/tals",
		Exceptions:        []string{"/slurm/a.json", "/b.json"},
		RRDPRootCerts:     []string{"/ca.pem"},
		RRDPKeepResponses: "/keep",
		WorkingDir:        "/",
		RsyncCommand:      "rsync",
		RTRTLSKey:         "/etc/rovd/key.pem",
	}
	if diff := cmp.Diff(want, cfg, cmp.AllowUnexported(config.Config{})); diff != "" {
		t.Errorf("paths under the chroot (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name   string
		change func(c *config.Config)
		want   string
	}{
		{"exceptions", func(c *config.Config) { c.Exceptions = []string{"/srv/c/a.json", "/srv/cx/b.json"} }, "exceptions /srv/cx/b.json"},
		{"root certificate", func(c *config.Config) { c.RRDPRootCerts = []string{"/etc/ca.pem"} }, "rrdp-root-cert /etc/ca.pem"},
		{"repository", func(c *config.Config) { c.RepositoryDir = "/srv/repo" }, "repository-dir /srv/repo"},
		{"rsync command path", func(c *config.Config) { c.RsyncCommand = "/usr/bin/rsync" }, "rsync-command /usr/bin/rsync"},
		{"working directory", func(c *config.Config) { c.WorkingDir = "/" }, "working-dir /"},
		{"keep responses", func(c *config.Config) { c.RRDPKeepResponses = "/srv/c/../keep" }, "rrdp-keep-responses /srv/c/../keep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.Exceptions = slices.Clone(base.Exceptions)
			tc.change(&cfg)
			before := cfg
			before.Exceptions = slices.Clone(cfg.Exceptions)
			calls, err := cli.Settle(&cfg, -1, -1, 0, "")
			if err == nil || !strings.Contains(err.Error(), tc.want+" lies outside it") || len(calls) != 0 {
				t.Errorf("error %v after %v, want %q", err, calls, tc.want)
			}
			if diff := cmp.Diff(before, cfg, cmp.AllowUnexported(config.Config{})); diff != "" {
				t.Errorf("configuration changed (-before +after):\n%s", diff)
			}
		})
	}

	// Everything is under "/".
	cfg = base
	cfg.Chroot = "/"
	if _, err := cli.Settle(&cfg, -1, -1, 0, ""); err != nil || cfg.RepositoryDir != base.RepositoryDir {
		t.Errorf("chroot /: %v, repository-dir %s", err, cfg.RepositoryDir)
	}
}

func TestLookupIDs(t *testing.T) {
	const unknownID = "3999999" // an ID no system hands out
	tests := []struct {
		user, group string
		uid, gid    int
		err         string
	}{
		{"", "", -1, -1, ""},
		{"root", "", 0, 0, ""},
		{"", "root", -1, 0, ""},
		{"root", "root", 0, 0, ""},
		{"0", "", 0, 0, ""},
		{"", "0", -1, 0, ""},
		{unknownID, unknownID, 3999999, 3999999, ""},
		{"", unknownID, -1, 3999999, ""},
		{unknownID, "", -1, -1, `user "3999999": no such user ID: give the group (--group) as well`},
		{"rovd-no-such-user", "", -1, -1, `user "rovd-no-such-user": user: unknown user rovd-no-such-user`},
		{"", "rovd-no-such-group", -1, -1, `group "rovd-no-such-group": group: unknown group rovd-no-such-group`},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+tc.group, func(t *testing.T) {
			uid, gid, err := cli.LookupIDs(tc.user, tc.group)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || uid != tc.uid || gid != tc.gid {
				t.Errorf("got %d, %d, %v; want %d, %d", uid, gid, err, tc.uid, tc.gid)
			}
		})
	}
}

// TestPIDFile locks a pid file twice: the second fails naming the
// holder; removing it unlocks it, and a stale file is taken over.
func TestPIDFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rovd.pid")
	if err := os.WriteFile(path, []byte("123456789\nstale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	remove, err := cli.LockPIDFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if want := strconv.Itoa(os.Getpid()) + "\n"; err != nil || string(data) != want {
		t.Errorf("pid file holds %q, %v; want %q", data, err, want)
	}
	_, err = cli.LockPIDFile(path)
	if want := fmt.Sprintf("pid-file %s: locked by process %d: is rovd running already?", path, os.Getpid()); err == nil || err.Error() != want {
		t.Errorf("second lock: %v, want %q", err, want)
	}
	remove()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("pid file after remove: %v", err)
	}
	remove, err = cli.LockPIDFile(path)
	if err != nil {
		t.Fatalf("lock after remove: %v", err)
	}
	remove()
	if _, err := cli.LockPIDFile(filepath.Join(dir, "missing", "rovd.pid")); err == nil || !strings.HasPrefix(err.Error(), "pid-file: open ") {
		t.Errorf("pid file in a missing directory: %v", err)
	}
}

// TestServerPIDFileForeground checks that the server in the foreground
// takes its pid file too, and fails at start when another holds it.
func TestServerPIDFileForeground(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rovd.pid")
	remove, err := cli.LockPIDFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	status, _, errs := rovd(t, "-t", dir, "-r", t.TempDir(), "server", "--pid-file", path)
	want := fmt.Sprintf("rovd server: pid-file %s: locked by process %d: is rovd running already?\n", path, os.Getpid())
	if status != cli.ExitError || errs != want {
		t.Errorf("status %d, %q; want 1, %q", status, errs, want)
	}
	remove()

	// Free, the file is taken, and removed when the server stops (here
	// at once: the directory has no TALs). --chroot is ignored without
	// --detach: it would fail, the repository lying outside.
	status, _, errs = rovd(t, "-t", dir, "-r", t.TempDir(), "server", "--pid-file", path, "--chroot", filepath.Join(dir, "none"))
	if status != cli.ExitError || !strings.Contains(errs, "no TALs") {
		t.Errorf("status %d, %q; want 1 and no TALs", status, errs)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("pid file after the server stopped: %v", err)
	}
}
