package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/rovd/rovd/store"
)

// StoreCollector serves what the store already holds and fetches
// nothing: the manual's -n/--noupdate, and tests. It looks for a CA's
// objects first under its RRDP notification URI and then under its rsync
// module, the keys the fetcher stores them under.
type StoreCollector struct {
	store *store.Store
	// found remembers answers for the run: thousands of CAs share a
	// repository.
	mu    sync.Mutex
	found map[string]string
}

// NewStoreCollector returns a collector for one run over st.
func NewStoreCollector(st *store.Store) *StoreCollector {
	return &StoreCollector{store: st, found: map[string]string{}}
}

// Fetch implements Collector. The data is never fresh.
func (c *StoreCollector) Fetch(_ context.Context, notify, caRepository string) (string, bool, error) {
	keys := make([]string, 0, 2)
	if notify != "" {
		keys = append(keys, notify)
	}
	if k, ok := rsyncModuleKey(caRepository); ok {
		keys = append(keys, k)
	}
	return c.find(keys)
}

// FetchTA implements Collector: a trust anchor certificate fetched over
// HTTPS is stored under its own URI, one over rsync in its module.
func (c *StoreCollector) FetchTA(_ context.Context, uri string) (string, bool, error) {
	keys := []string{uri}
	if k, ok := rsyncModuleKey(uri); ok {
		keys = append(keys, k)
	}
	return c.find(keys)
}

// Ready implements the engine's quick path: the store answers at once.
func (c *StoreCollector) Ready(notify, caRepository string) bool { return true }

func (c *StoreCollector) find(keys []string) (string, bool, error) {
	memo := strings.Join(keys, " ")
	c.mu.Lock()
	found, ok := c.found[memo]
	c.mu.Unlock()
	if ok {
		return found, false, nil
	}
	err := c.store.View(func(v *store.View) error {
		for _, k := range keys {
			if v.HasRepo(k) {
				found = k
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	if found == "" {
		return "", false, fmt.Errorf("%s: %w", strings.Join(keys, ", "), errNoData)
	}
	c.mu.Lock()
	c.found[memo] = found
	c.mu.Unlock()
	return found, false, nil
}

// rsyncModuleKey returns the store key of the rsync module uri lies in.
func rsyncModuleKey(uri string) (string, bool) {
	host, module, ok := store.SplitModule(uri)
	if !ok {
		return "", false
	}
	return store.RsyncRepoKey(host, module), true
}
