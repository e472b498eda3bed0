package rtrfast_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/rtrfast"
)

// realClientTimeout bounds each wait for an external client.
const realClientTimeout = 60 * time.Second

// changedSet drops every 30th VRP of s and adds a hundred new ones.
func changedSet(s *payload.Set) *payload.Set {
	var b payload.Builder
	for i, v := range s.VRPs() {
		if i%30 != 0 {
			b.AddVRP(v, nil)
		}
	}
	for i := range 100 {
		b.AddVRP(vrp(65000+uint32(i), fmt.Sprintf("172.16.%d.0/24", i), 24), nil)
		if i%2 == 0 {
			b.AddVRP(vrp(65000+uint32(i), fmt.Sprintf("2001:db8:ffff:%x::/64", i), 64), nil)
		}
	}
	return b.Build()
}

func needBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s; .ci/run installs it)", name, pkg)
	}
	return p
}

// vrpsOf is the VRP part of a table, for the clients that know no more.
func vrpsOf(tab *rtrfast.Table) map[payload.VRP]bool { return tab.VRPs }

func diffVRPs(got, want map[payload.VRP]bool) string {
	var sb strings.Builder
	n := 0
	for v := range want {
		if !got[v] && n < 5 {
			fmt.Fprintf(&sb, " missing %v;", v)
			n++
		}
	}
	for v := range got {
		if !want[v] && n < 10 {
			fmt.Fprintf(&sb, " extra %v;", v)
			n++
		}
	}
	return fmt.Sprintf("%d VRPs, want %d:%s", len(got), len(want), sb.String())
}

func sameVRPs(got, want map[payload.VRP]bool) bool {
	if len(got) != len(want) {
		return false
	}
	for v := range want {
		if !got[v] {
			return false
		}
	}
	return true
}

// parseRTRClientLine reads "192.0.2.0, 24, 26, 64496" (the csv export)
// or "+ 192.0.2.0   24 -  26   64496" (the -p update lines).
func parseRTRClientLine(line string) (payload.VRP, bool) {
	var fs []string
	for _, x := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if x != "-" && x != "+" {
			fs = append(fs, x)
		}
	}
	if len(fs) != 4 {
		return payload.VRP{}, false
	}
	addr, err := netip.ParseAddr(fs[0])
	plen, err2 := strconv.Atoi(fs[1])
	maxLen, err3 := strconv.Atoi(fs[2])
	asn, err4 := strconv.ParseUint(fs[3], 10, 32)
	if err != nil || err2 != nil || err3 != nil || err4 != nil {
		return payload.VRP{}, false
	}
	return payload.VRP{ASN: uint32(asn), Prefix: netip.PrefixFrom(addr, plen), MaxLength: uint8(maxLen)}, true
}

// TestRTRClient has rtrlib's rtrclient (Debian rtr-tools) fetch the full
// table, then follow a change as a delta.
func TestRTRClient(t *testing.T) {
	bin := needBinary(t, "rtrclient", "rtr-tools")
	stdbuf := needBinary(t, "stdbuf", "coreutils")
	srv, addr := startServer(t, rtrfast.Config{HistorySize: 5})
	first := bigSet(3000, 64496)
	srv.Publish(first)
	host, port, _ := net.SplitHostPort(addr)

	t.Run("full table", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), realClientTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "-e", "-t", "csv", "tcp", host, port).Output()
		if err != nil {
			t.Fatalf("rtrclient -e: %v\n%s", err, out)
		}
		got := map[payload.VRP]bool{}
		for line := range strings.Lines(string(out)) {
			if v, ok := parseRTRClientLine(line); ok {
				got[v] = true
			}
		}
		if want := vrpsOf(rtrfast.TableOf(first, 1, false, false)); !sameVRPs(got, want) {
			t.Fatalf("rtrclient's table: %s", diffVRPs(got, want))
		}
	})

	t.Run("delta", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), realClientTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, stdbuf, "-oL", bin, "-p", "tcp", host, port)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		got := map[payload.VRP]bool{}
		waitFor := func(want map[payload.VRP]bool) {
			t.Helper()
			timeout := time.After(realClientTimeout)
			for !sameVRPs(got, want) {
				select {
				case line, ok := <-lines:
					if !ok {
						t.Fatalf("rtrclient ended: %s", diffVRPs(got, want))
					}
					v, ok := parseRTRClientLine(line)
					if !ok {
						continue
					}
					switch {
					case strings.HasPrefix(line, "+") && !got[v]:
						got[v] = true
					case strings.HasPrefix(line, "-") && got[v]:
						delete(got, v)
					default:
						t.Fatalf("rtrclient: unexpected update %q", line)
					}
				case <-timeout:
					t.Fatalf("rtrclient after %v: %s", realClientTimeout, diffVRPs(got, want))
				}
			}
		}
		waitFor(vrpsOf(rtrfast.TableOf(first, 1, false, false)))
		before := srv.Stats()
		second := changedSet(first)
		srv.Publish(second)
		waitFor(vrpsOf(rtrfast.TableOf(second, 1, false, false)))
		after := srv.Stats()
		if after.SerialQueries == before.SerialQueries || after.CacheResets != before.CacheResets || after.ResetQueries != before.ResetQueries {
			t.Errorf("rtrclient did not follow with a delta: %d serial, %d reset queries, %d cache resets after; %d, %d, %d before",
				after.SerialQueries, after.ResetQueries, after.CacheResets, before.SerialQueries, before.ResetQueries, before.CacheResets)
		}
	})
}

// TestBIRD has BIRD 2 sync its roa4 and roa6 tables over RTR, then follow
// a change.
func TestBIRD(t *testing.T) {
	bird := needBinary(t, "bird", "bird2")
	birdc := needBinary(t, "birdc", "bird2")
	srv, addr := startServer(t, rtrfast.Config{HistorySize: 5})
	first := bigSet(3000, 64496)
	srv.Publish(first)
	host, port, _ := net.SplitHostPort(addr)

	dir := t.TempDir()
	conf := filepath.Join(dir, "bird.conf")
	sock := filepath.Join(dir, "bird.ctl")
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`router id 192.0.2.1;
log "%s" all;
roa4 table r4;
roa6 table r6;
protocol rpki rovd {
	roa4 { table r4; };
	roa6 { table r6; };
	remote %s port %s;
	retry keep 1;
	refresh keep 30;
	expire keep 600;
}
`, filepath.Join(dir, "bird.log"), host, port)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*realClientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bird, "-c", conf, "-s", sock, "-f")
	var birdOut strings.Builder
	cmd.Stdout, cmd.Stderr = &birdOut, &birdOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "bird.log"))
			t.Logf("bird output:\n%s\nbird log:\n%s", birdOut.String(), log)
		}
	}()

	count := func(table string) (int, error) {
		out, err := exec.CommandContext(ctx, birdc, "-s", sock, "show", "route", "table", table, "count").CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("%v: %s", err, out)
		}
		// "3000 of 3000 routes for 3000 networks in table r4"
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) >= 3 && f[1] == "of" {
				return strconv.Atoi(f[0])
			}
		}
		return 0, fmt.Errorf("no count in %q", out)
	}
	waitCounts := func(s *payload.Set) {
		t.Helper()
		var want4, want6 int
		for _, v := range s.VRPs() {
			if v.Prefix.Addr().Is4() {
				want4++
			} else {
				want6++
			}
		}
		deadline := time.Now().Add(realClientTimeout)
		var got4, got6 int
		var err error
		for time.Now().Before(deadline) {
			got4, err = count("r4")
			if err == nil {
				got6, err = count("r6")
			}
			if err == nil && got4 == want4 && got6 == want6 {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("BIRD holds %d IPv4 and %d IPv6 VRPs, want %d and %d (last error %v)", got4, got6, want4, want6, err)
	}
	waitCounts(first)
	before := srv.Stats()
	second := changedSet(first)
	srv.Publish(second)
	waitCounts(second)
	after := srv.Stats()
	if after.SerialQueries == before.SerialQueries {
		t.Errorf("BIRD picked up the change without a Serial Query")
	}
	t.Logf("BIRD sessions by protocol version: %v", after.SessionsByVersion)
}
