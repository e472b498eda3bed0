package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/rovd/rovd/store"
)

// crashObjects and crashSize shape each generation the crash test's
// writer publishes: 1,000 objects of 1 KB, four batches each.
const (
	crashObjects = 1000
	crashSize    = 1024
	crashRepo    = "https://rrdp.example.net/notification.xml"
)

// crashSet is generation k of the crash test: every object names k, so a
// mix of two generations is visible.
func crashSet(k int) objectSet {
	return makeSet("rsync://example.net/repo/", crashObjects, crashSize, "gen-"+strconv.Itoa(k))
}

// TestMain lets the crash test run this binary as the writer it kills.
func TestMain(m *testing.M) {
	if dir := os.Getenv("ROVD_STORE_CRASH_WRITER"); dir != "" {
		crashWriter(dir)
		return
	}
	os.Exit(m.Run())
}

// crashWriter publishes generation after generation, with snapshots (new
// generations) and deltas alternating, until it is killed.
func crashWriter(dir string) {
	s, err := store.Open(dir, store.Options{BatchBytes: 256 << 10, LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var serial uint64
	_ = s.View(func(v *store.View) error {
		info, _, _ := v.Repo(crashRepo)
		serial = info.Serial
		return nil
	})
	fmt.Println("ready")
	for {
		serial++
		set := crashSet(int(serial))
		if serial%3 == 0 {
			// A delta replacing every object: one transaction.
			prev := crashSet(int(serial - 1))
			changes := make([]store.Change, 0, len(set))
			for uri, data := range set {
				changes = append(changes, store.Change{URI: uri, HasHash: true, Hash: sha256Of(prev[uri]), Data: data})
			}
			if err := s.Apply(crashRepo, store.Repo{Serial: serial}, changes); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(4)
			}
			continue
		}
		g, err := s.NewGeneration(crashRepo)
		if err == nil {
			for uri, data := range set {
				if err = g.Put(uri, data); err != nil {
					break
				}
			}
		}
		if err == nil {
			err = g.Publish(store.Repo{Serial: serial})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(5)
		}
		if serial%5 == 0 {
			if _, err := s.Collect(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(6)
			}
		}
	}
}

// TestCrashDuringWrites kills a writing process at random instants, again
// and again, and checks each time that the store opens and holds exactly
// one whole generation, the one its fetch state names.
func TestCrashDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a writer many times")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	const rounds = 12
	deadline := time.Now().Add(2 * time.Minute)
	lastSerial := uint64(0)
	for round := range rounds {
		if time.Now().After(deadline) {
			t.Logf("stopped after %d rounds: time bound reached", round)
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "ROVD_STORE_CRASH_WRITER="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make([]byte, 6)
		if _, err := out.Read(ready); err != nil || string(ready) != "ready\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			cancel()
			t.Fatalf("round %d: writer did not start: %v %q %s", round, err, ready, stderr.String())
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err = cmd.Wait()
		cancel()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: writer ended on its own: %v: %s", round, err, stderr.String())
		}

		checkBolt(t, filepath.Join(dir, store.FileName))
		s, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatalf("round %d: open after kill: %v", round, err)
		}
		var info store.Repo
		_ = s.View(func(v *store.View) error { info, _, _ = v.Repo(crashRepo); return nil })
		got := content(t, s, crashRepo)
		if info.Serial < lastSerial {
			t.Fatalf("round %d: serial went back from %d to %d", round, lastSerial, info.Serial)
		}
		if info.Serial > 0 {
			if diff := diffSets(crashSet(int(info.Serial)), got); diff != "" {
				t.Fatalf("round %d: content is not generation %d: %s", round, info.Serial, diff)
			}
		} else if len(got) != 0 {
			t.Fatalf("round %d: %d objects without any publication", round, len(got))
		}
		t.Logf("round %d: killed at serial %d", round, info.Serial)
		lastSerial = info.Serial
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if lastSerial == 0 {
		t.Fatal("the writer never published anything")
	}
}

// diffSets describes how got differs from want, briefly.
func diffSets(want, got objectSet) string {
	var b strings.Builder
	if len(want) != len(got) {
		fmt.Fprintf(&b, "%d objects, want %d; ", len(got), len(want))
	}
	n := 0
	for uri, d := range want {
		if g, ok := got[uri]; !ok || !bytes.Equal(g, d) {
			if n++; n <= 3 {
				fmt.Fprintf(&b, "%s differs (%.20q); ", uri, g)
			}
		}
	}
	return b.String()
}

// checkBolt runs bbolt's own consistency check over a store's file.
func checkBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bbolt check: %v", err)
	}
}

func sha256Of(b []byte) [32]byte { return sha256.Sum256(b) }

// TestLongReaderDoesNotBlockWriter holds a view open while another
// goroutine writes far more than the file held, and the view waits for
// the writer: with a mapping that must grow on the way, bbolt would
// deadlock here unless the store maps enough up front.
func TestLongReaderDoesNotBlockWriter(t *testing.T) {
	s := open(t, t.TempDir(), store.Options{NoSync: true, BatchBytes: 1 << 20})
	publish(t, s, "r", makeSet("rsync://h/m/", 10, 100, "x"), store.Repo{})
	written := make(chan error, 1)
	err := s.View(func(v *store.View) error {
		go func() {
			g, err := s.NewGeneration("r2")
			if err != nil {
				written <- err
				return
			}
			// 64 MB: the file grows through many remap thresholds.
			data := bytes.Repeat([]byte{1}, 4096)
			for i := range 16384 {
				binaryPut(data, i)
				if err := g.Put(fmt.Sprintf("rsync://h/n/%06d", i), data); err != nil {
					written <- err
					return
				}
			}
			written <- g.Publish(store.Repo{})
		}()
		select {
		case err := <-written:
			return err
		case <-time.After(2 * time.Minute):
			return fmt.Errorf("writer still blocked after 2 minutes behind an open view")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(content(t, s, "r2")); got != 16384 {
		t.Errorf("writer stored %d objects, want 16384", got)
	}
}

func binaryPut(b []byte, i int) {
	for j := range 8 {
		b[j] = byte(i >> (8 * j))
	}
}

// TestIngestMemoryBounded writes 128 MB of objects into one generation
// and samples the heap meanwhile: its peak over the second half of the
// data must be no higher than over the first half (plus noise), so memory
// depends on the batch size, not on the amount of data.
func TestIngestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 128 MB")
	}
	const batch = 1 << 20
	s := open(t, t.TempDir(), store.Options{NoSync: true, BatchBytes: batch})

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()

	g, err := s.NewGeneration("r")
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 2048)
	const total = 128 << 20
	n := total / len(data)
	var firstHalf uint64
	for i := range n {
		if i == n/2 {
			firstHalf = peak.Swap(0)
		}
		binaryPut(data, i) // distinct objects, no dedup
		if err := g.Put("rsync://h/m/"+strconv.Itoa(i)+".roa", data); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Publish(store.Repo{}); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-sampled
	secondHalf := peak.Load()
	t.Logf("peak heap in use: %d MB over the first 64 MB of data, %d MB over the second", firstHalf>>20, secondHalf>>20)
	if secondHalf > firstHalf*3/2+16<<20 {
		t.Errorf("peak heap grew from %d MB to %d MB with the data: ingest memory is not bounded", firstHalf>>20, secondHalf>>20)
	}
	if secondHalf > 64<<20 {
		t.Errorf("peak heap %d MB for 1 MB batches", secondHalf>>20)
	}
}
