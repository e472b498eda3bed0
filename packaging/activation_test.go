package packaging_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	rpkipayload "github.com/rovd/rovd/engine/payload"
	"github.com/rovd/rovd/rtrfast/rtrtest"
)

// activationPatience bounds each wait of the socket activation test: a
// relay fetch of a few VRPs over loopback takes milliseconds, the rest is
// room for a loaded machine.
const activationPatience = time.Minute

// relayedVRPs are what the test's source serves to the installed rovd.
var relayedVRPs = []rpkipayload.VRP{
	{ASN: 64496, Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLength: 24},
	{ASN: 64497, Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLength: 48},
}

// activatedSocket is a socket of the installed socket units, on a free
// port, and the name the unit gives it.
type activatedSocket struct {
	addr, name string
}

// installedSockets reads the ListenStream= addresses and the
// FileDescriptorName= of the installed socket units and moves each
// address to a free port of the same host: the units' ports may be in
// use, and the test must not disturb a server on them. An IPv6 address
// is left out when the machine has no IPv6 loopback.
func installedSockets(t *testing.T) []activatedSocket {
	t.Helper()
	var out []activatedSocket
	for _, u := range []string{"rovd-rtr.socket", "rovd-http.socket"} {
		sock := parseUnit(t, filepath.Join("/usr/lib/systemd/system", u))["Socket"]
		name := u // systemd's default FileDescriptorName=
		if n := sock["FileDescriptorName"]; len(n) > 0 {
			name = n[len(n)-1]
		}
		for _, a := range sock["ListenStream"] {
			if a == "" { // resets the list; none in our units
				out = slices.DeleteFunc(out, func(s activatedSocket) bool { return s.name == name })
				continue
			}
			host, _, err := net.SplitHostPort(a)
			if err != nil {
				t.Fatalf("%s: ListenStream=%s: %v", u, a, err)
			}
			l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err != nil {
				t.Logf("%s: ListenStream=%s left out: %v", u, a, err)
				continue
			}
			out = append(out, activatedSocket{addr: l.Addr().String(), name: name})
			l.Close()
		}
	}
	return out
}

// relaySource serves relayedVRPs as a JSON VRP list of Routinator's json
// format, generated now.
func relaySource(t *testing.T) string {
	t.Helper()
	type roa struct {
		ASN       string `json:"asn"`
		Prefix    string `json:"prefix"`
		MaxLength uint8  `json:"maxLength"`
		TA        string `json:"ta"`
	}
	doc := struct {
		Metadata struct {
			Generated int64 `json:"generated"`
		} `json:"metadata"`
		ROAs []roa `json:"roas"`
	}{}
	doc.Metadata.Generated = time.Now().Unix()
	for _, v := range relayedVRPs {
		doc.ROAs = append(doc.ROAs, roa{fmt.Sprintf("AS%d", v.ASN), v.Prefix.String(), v.MaxLength, "test"})
	}
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/json"
}

// checkSocketActivation runs the installed service the way its units
// describe it, without a running systemd: systemd-socket-activate binds
// the installed socket units' addresses (on free ports) as root and
// passes them under their FileDescriptorName= to the unit's ExecStart=,
// run as its User= and Group= in its WorkingDirectory= with no new
// privileges and no capabilities. The installed /etc/rovd.conf has it
// take the sockets (listen-systemd); --source relays a list this test
// serves, as the machine may not reach the RPKI. It checks that rovd
// reports READY=1, serves the list on /json on the http socket and over
// RTR on every rtr socket, and stops with STOPPING=1 and exit status 0
// on SIGTERM.
func checkSocketActivation(t *testing.T) {
	activate := needTool(t, "systemd-socket-activate", "systemd")
	setpriv := needTool(t, "setpriv", "util-linux")
	service := parseUnit(t, "/usr/lib/systemd/system/rovd.service")["Service"]
	last := func(key string) string {
		if v := service[key]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	socks := installedSockets(t)
	var names []string
	var httpAddr string
	args := []string{}
	for _, s := range socks {
		args = append(args, "-l", s.addr)
		names = append(names, s.name)
		if s.name == "http" {
			httpAddr = s.addr
		}
	}
	if httpAddr == "" || len(socks) < 2 {
		t.Fatalf("installed sockets %v: want an http socket and an RTR socket", socks)
	}
	// The service manager's notification socket; abstract, so that the
	// user rovd may send to it.
	notifyName := fmt.Sprintf("@rovd-package-test-%d", os.Getpid())
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyName, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	args = append(args, "--fdname="+strings.Join(names, ":"), "-E", "NOTIFY_SOCKET="+notifyName)

	// setpriv changes the user and execs rovd in the same process, whose
	// ID systemd-socket-activate passed in LISTEN_PID.
	args = append(args, setpriv, "--reuid="+last("User"), "--regid="+last("Group"), "--init-groups")
	if last("NoNewPrivileges") == "yes" {
		args = append(args, "--no-new-privs")
	}
	if slices.Equal(service["CapabilityBoundingSet"], []string{""}) {
		args = append(args, "--bounding-set=-all")
	}
	args = append(args, "--")
	args = append(args, strings.Fields(last("ExecStart"))...)
	args = append(args, "--source", relaySource(t))

	ctx, cancel := context.WithTimeout(t.Context(), 3*activationPatience)
	defer cancel()
	cmd := exec.CommandContext(ctx, activate, args...)
	cmd.Dir = last("WorkingDirectory")
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stderr, stderr
	logs := func() string {
		data, _ := os.ReadFile(stderr.Name())
		return string(data)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill() // gone already unless the test failed
		_ = cmd.Wait()
	}()

	// systemd-socket-activate starts rovd on the first connection (systemd
	// 252) or at once (later versions).
	deadline := time.Now().Add(activationPatience)
	for {
		c, err := net.Dial("tcp", httpAddr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("systemd-socket-activate does not listen on %s: %v\n%s", httpAddr, err, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	readNotify := func(want string) {
		t.Helper()
		buf := make([]byte, 4096)
		_ = notify.SetReadDeadline(time.Now().Add(activationPatience))
		n, err := notify.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("NOTIFY_SOCKET: %q, %v; want %s\n%s", buf[:n], err, want, logs())
		}
	}
	readNotify("READY=1")

	want := rtrtest.VRPs{}
	for _, v := range relayedVRPs {
		want[v] = true
	}
	client := http.Client{Timeout: activationPatience}
	resp, err := client.Get("http://" + httpAddr + "/json")
	if err != nil {
		t.Fatalf("GET /json on the http socket: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /json on the http socket: %s, %v\n%s", resp.Status, err, body)
	}
	if got := jsonVRPs(t, body); !got.Equal(want) {
		t.Errorf("/json on the http socket: %s", got.Diff(want))
	}
	if _, err := exec.LookPath("rtrclient"); err != nil {
		t.Log("rtrclient is not installed (Debian package rtr-tools): the RTR sockets are not checked")
	} else {
		for _, s := range socks {
			if s.name == "http" {
				continue
			}
			host, port, _ := net.SplitHostPort(s.addr)
			if got := rtrtest.RTRClientTable(t, host, port); !got.Equal(want) {
				t.Errorf("RTR on %s (%s): %s", s.addr, s.name, got.Diff(want))
			}
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	readNotify("STOPPING=1")
	if err := cmd.Wait(); err != nil {
		t.Errorf("rovd after SIGTERM: %v\n%s", err, logs())
	}
}

// jsonVRPs reads the VRPs of rovd's json output.
func jsonVRPs(t *testing.T, body []byte) rtrtest.VRPs {
	t.Helper()
	var doc struct {
		ROAs []struct {
			ASN       string `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength uint8  `json:"maxLength"`
		} `json:"roas"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("/json: %v\n%.300s", err, body)
	}
	got := rtrtest.VRPs{}
	for _, r := range doc.ROAs {
		asn, err := strconv.ParseUint(strings.TrimPrefix(r.ASN, "AS"), 10, 32)
		prefix, perr := netip.ParsePrefix(r.Prefix)
		if err != nil || perr != nil {
			t.Fatalf("/json: entry %+v", r)
		}
		got[rpkipayload.VRP{ASN: uint32(asn), Prefix: prefix, MaxLength: r.MaxLength}] = true
	}
	return got
}
