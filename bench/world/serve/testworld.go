package serve

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rovd/rovd/bench/world"
)

// Ports are picked in [lowPort, the kernel's first ephemeral port), where
// no outgoing connection takes them in the time between picking one and
// binding it (seconds: the world is built in between).
const (
	lowPort         = 10000
	portRangeFile   = "/proc/sys/net/ipv4/ip_local_port_range"
	maxPortAttempts = 200
	// startAttempts is how often World tries again when a port it picked
	// was taken before it could bind it.
	startAttempts = 3
)

// FreeRepositories returns n repositories repo1..repoN (modules of the same
// names) sharing one rsync daemon and one HTTPS server on two ports of
// 127.0.0.1 that are free when it returns. Build a world with them as
// Config.Repositories, then Start it.
func FreeRepositories(n int) ([]world.Repository, error) {
	if n <= 0 {
		return nil, fmt.Errorf("%d repositories", n)
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	repos := make([]world.Repository, n)
	for i := range repos {
		repos[i] = world.Repository{
			Name:   fmt.Sprintf("repo%d", i+1),
			Rsync:  net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
			Module: fmt.Sprintf("repo%d", i+1),
			HTTPS:  net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		}
	}
	return repos, nil
}

// freePorts returns k distinct free TCP ports of 127.0.0.1, below the
// ephemeral range when there is room, else any the kernel hands out.
func freePorts(k int) ([]int, error) {
	hi := ephemeralLow()
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close() // only held to keep the ports distinct
		}
	}()
	var ports []int
	for attempt := 0; len(ports) < k && attempt < maxPortAttempts; attempt++ {
		port := 0
		if hi-lowPort >= 1000 {
			port = lowPort + rand.IntN(hi-lowPort)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	if len(ports) < k {
		return nil, fmt.Errorf("no %d free ports on 127.0.0.1 after %d attempts", k, maxPortAttempts)
	}
	return ports, nil
}

// ephemeralLow returns the first port of Linux's ephemeral range, or 0
// when unknown.
func ephemeralLow() int {
	b, err := os.ReadFile(portRangeFile)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return lo
}

// World builds cfg into tb.TempDir() with its repositories moved to free
// ports of 127.0.0.1 (names and modules kept; at least one repository),
// serves it, and closes the servers when the test ends. cfg.Now defaults
// to the current time, so the world is valid now. It skips the test when
// rsync is not installed, unless opt.NoRsync is set, and fails it on any
// other error. Building the small preset takes a few seconds.
func World(tb testing.TB, cfg world.Config, opt Options) *Server {
	tb.Helper()
	if !opt.NoRsync {
		if _, err := findRsync(opt.Rsync); err != nil {
			tb.Skipf("%v; serving a world needs it (or set serve.Options.NoRsync)", err)
		}
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	if opt.KeyCache == "" {
		opt.KeyCache = cfg.KeyCache
	}
	n := max(len(cfg.Repositories), 1)
	named := cfg.Repositories
	for attempt := 1; ; attempt++ {
		repos, err := FreeRepositories(n)
		if err != nil {
			tb.Fatal(err)
		}
		for i := range named {
			repos[i].Name, repos[i].Module = named[i].Name, named[i].Module
		}
		cfg.Repositories = repos
		dir := tb.TempDir()
		if _, err := world.Build(tb.Context(), cfg, dir); err != nil {
			tb.Fatalf("build world: %v", err)
		}
		s, err := Start(tb.Context(), dir, opt)
		if err == nil {
			tb.Cleanup(func() {
				if err := s.Close(); err != nil {
					tb.Errorf("serve: close: %v", err)
				}
			})
			return s
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == startAttempts {
			tb.Fatal(err)
		}
		tb.Logf("%v; trying other ports", err)
	}
}

// SmallWorld serves the small preset (2 trust anchors, 146 CAs, about
// 1,000 ROAs, one fault of each kind, 2 repositories) as World does.
func SmallWorld(tb testing.TB, opt Options) *Server {
	tb.Helper()
	cfg, err := world.Preset("small")
	if err != nil {
		tb.Fatal(err)
	}
	return World(tb, cfg, opt)
}
