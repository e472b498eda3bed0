package config_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/rovd/rovd/appliance/config"
	"github.com/rovd/rovd/engine"
)

func parse(t *testing.T, args ...string) (*config.Config, error) {
	t.Helper()
	c := config.Defaults()
	fs := pflag.NewFlagSet("rovd", pflag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return &c, c.Resolve(fs.Changed)
}

func TestDefaults(t *testing.T) {
	c, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(c.RepositoryDir, filepath.Join(".rpki-cache", "repository")) || !strings.HasSuffix(c.TALDir, filepath.Join(".rpki-cache", "tals")) {
		t.Errorf("directories %s, %s", c.RepositoryDir, c.TALDir)
	}
	o := c.EngineOptions()
	if o.Stale != engine.Reject || o.UnsafeVRPs != engine.Warn || o.UnknownObjects != engine.Warn || o.Strict {
		t.Errorf("policies %+v", o)
	}
	if c.MaxObjectSize != 20_000_000 || c.RsyncTimeout.Duration() != 300*time.Second || c.RRDPMaxDeltaCount != 100 {
		t.Errorf("limits %+v", c)
	}
}

func TestBaseDir(t *testing.T) {
	c, err := parse(t, "-b", "/srv/rpki")
	if err != nil {
		t.Fatal(err)
	}
	if c.RepositoryDir != "/srv/rpki/repository" || c.TALDir != "/srv/rpki/tals" {
		t.Errorf("-b: %s, %s", c.RepositoryDir, c.TALDir)
	}
	c, err = parse(t, "-b", "/srv/rpki", "-t", "/etc/tals")
	if err != nil {
		t.Fatal(err)
	}
	if c.RepositoryDir != "/srv/rpki/repository" || c.TALDir != "/etc/tals" {
		t.Errorf("-b with -t: %s, %s", c.RepositoryDir, c.TALDir)
	}
}

func TestValidationTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2019-04-06T12:00:00Z":      time.Date(2019, 4, 6, 12, 0, 0, 0, time.UTC),
		"2019-04-06T14:00:00+02:00": time.Date(2019, 4, 6, 12, 0, 0, 0, time.UTC),
		"1554552000":                time.Date(2019, 4, 6, 12, 0, 0, 0, time.UTC),
	} {
		c, err := parse(t, "--validation-time", in)
		if err != nil || !c.ValidationTime.Equal(want) || !c.EngineOptions().Time.Equal(want) {
			t.Errorf("%s: %v, %v", in, c, err)
		}
	}
	for _, in := range []string{"yesterday", "2019-04-06", "12ab", ""} {
		if _, err := parse(t, "--validation-time", in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestBadValues(t *testing.T) {
	for _, args := range [][]string{
		{"--stale", "maybe"}, {"--unsafe-vrps", "drop"}, {"--unknown-objects", ""},
		{"--validation-threads", "0"}, {"--max-object-size", "-1"}, {"--rrdp-max-delta-count", "0"},
		{"--rsync-timeout", "-5"}, {"--max-ca-depth", "0"},
	} {
		if _, err := parse(t, args...); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: %v", args, err)
		}
	}
}
