package world

import (
	"fmt"
	"log/slog"
	"time"
)

// Repository is one publication server: an rsync module and an RRDP
// service. The host names and ports are signed into certificates,
// manifests and TALs, so a server must listen exactly where they say.
type Repository struct {
	// Name labels the repository in RRDP paths: /rrdp/NAME/...
	Name string `json:"name"`
	// Rsync is the rsync daemon's host[:port], Module its module.
	Rsync  string `json:"rsync"`
	Module string `json:"module"`
	// HTTPS is the RRDP server's host[:port].
	HTTPS string `json:"https"`
}

// RsyncBase returns rsync://HOST/MODULE/.
func (r Repository) RsyncBase() string { return "rsync://" + r.Rsync + "/" + r.Module + "/" }

// NotifyURI returns the RRDP notification URI.
func (r Repository) NotifyURI() string {
	return "https://" + r.HTTPS + "/rrdp/" + r.Name + "/notification.xml"
}

// Config describes a world. Generation is deterministic: the same Config
// (Seed and Now included) and the same keys give the same bytes.
type Config struct {
	Seed int64 `json:"seed"`
	// Now anchors every validity window; it is truncated to the second
	// because DER times carry no fractions.
	Now time.Time `json:"now"`

	// TAs is the number of trust anchors; TANames, if given, names them
	// (and their TAL files), otherwise they are ta-1, ta-2, ...
	TAs     int      `json:"tas"`
	TANames []string `json:"taNames,omitempty"`
	// Depth is the number of CA levels below each trust anchor.
	Depth int `json:"depth"`
	// TopWidth is the number of children of each trust anchor and Width
	// the mean number of children of every other CA; each CA's count is
	// drawn uniformly within ±WidthSpread of the mean.
	TopWidth    int     `json:"topWidth"`
	Width       int     `json:"width"`
	WidthSpread float64 `json:"widthSpread"`

	// ROAsPerCA is the mean number of ROAs per CA (uniform on 0..2×mean);
	// each ROA has 1..MaxPrefixesPerROA prefixes.
	ROAsPerCA         float64 `json:"roasPerCA"`
	MaxPrefixesPerROA int     `json:"maxPrefixesPerROA"`
	// IPv6Share is the share of IPv6 prefixes; MaxLengthShare the share
	// of prefixes whose maxLength exceeds their length.
	IPv6Share      float64 `json:"ipv6Share"`
	MaxLengthShare float64 `json:"maxLengthShare"`
	// ASPARate, RouterRate and GBRRate are expected objects per CA.
	ASPARate   float64 `json:"aspaRate"`
	RouterRate float64 `json:"routerRate"`
	GBRRate    float64 `json:"gbrRate"`

	// Repositories hold the CAs: trust anchor i lives in repository i
	// modulo their number, and about a quarter of all other CAs move to
	// another repository than their parent's.
	Repositories []Repository `json:"repositories"`

	// Faults is the number of faulty CAs, one fault each, cycling
	// through FaultKinds.
	Faults int `json:"faults"`

	// KeyCache is the directory of generated CA keys beyond the
	// committed pool; empty generates missing keys without keeping them.
	KeyCache string `json:"-"`
	// Logger reports progress; nil discards.
	Logger *slog.Logger `json:"-"`
}

// DefaultRepositories returns n repositories sharing one rsync daemon on
// 127.0.0.1:8873 (modules repo1, repo2, ...) and one HTTPS server on
// 127.0.0.1:8443.
func DefaultRepositories(n int) []Repository {
	repos := make([]Repository, n)
	for i := range repos {
		repos[i] = Repository{
			Name:   fmt.Sprintf("repo%d", i+1),
			Rsync:  "127.0.0.1:8873",
			Module: fmt.Sprintf("repo%d", i+1),
			HTTPS:  "127.0.0.1:8443",
		}
	}
	return repos
}

// Presets lists the names Preset accepts.
var Presets = []string{"small", "medium", "world"}

// Preset returns a named configuration with Seed 1 and Now unset:
//
//   - small: 2 TAs, 146 CAs, about 1,000 ROAs, one fault of each kind; it
//     needs no more keys than the committed pool holds;
//   - medium: 5 TAs, about 3,900 CAs and 40,000 ROAs;
//   - world: 5 TAs like the RIRs, about 40,000 CAs, 300,000 ROAs and
//     600,000 VRPs over 5 repositories, like today's global RPKI.
func Preset(name string) (Config, error) {
	c := Config{
		Seed:              1,
		WidthSpread:       0.5,
		MaxPrefixesPerROA: 3,
		IPv6Share:         0.35,
		MaxLengthShare:    0.25,
		ASPARate:          0.1,
		RouterRate:        0.05,
		GBRRate:           0.2,
	}
	switch name {
	case "small":
		c.TAs, c.Depth, c.TopWidth, c.Width, c.WidthSpread = 2, 2, 8, 8, 0
		c.ROAsPerCA = 7
		c.Repositories = DefaultRepositories(2)
		c.Faults = len(FaultKinds)
		c.ASPARate, c.RouterRate = 0.3, 0.2
	case "medium":
		c.TAs, c.Depth, c.TopWidth, c.Width = 5, 2, 30, 25
		c.ROAsPerCA = 10
		c.Repositories = DefaultRepositories(3)
		c.Faults = 2 * len(FaultKinds)
	case "world":
		c.TAs, c.Depth, c.TopWidth, c.Width = 5, 2, 90, 88
		c.ROAsPerCA = 7.5
		c.Repositories = DefaultRepositories(5)
		c.Faults = 4 * len(FaultKinds)
	default:
		return Config{}, fmt.Errorf("unknown preset %q (have small, medium, world)", name)
	}
	return c, nil
}

// normalize fills defaults and checks limits.
func (c *Config) normalize() error {
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	c.Now = c.Now.UTC().Truncate(time.Second)
	if c.TAs <= 0 {
		c.TAs = 1
	}
	if len(c.TANames) > 0 && len(c.TANames) != c.TAs {
		return fmt.Errorf("%d trust anchor names for %d trust anchors", len(c.TANames), c.TAs)
	}
	if c.TopWidth <= 0 {
		c.TopWidth = c.Width
	}
	if c.Depth < 0 || c.Width < 0 || c.TopWidth < 0 {
		return fmt.Errorf("negative tree size")
	}
	if c.MaxPrefixesPerROA <= 0 {
		c.MaxPrefixesPerROA = 1
	}
	if len(c.Repositories) == 0 {
		c.Repositories = DefaultRepositories(1)
	}
	seen := map[string]bool{}
	for _, r := range c.Repositories {
		if r.Name == "" || r.Rsync == "" || r.Module == "" || r.HTTPS == "" {
			return fmt.Errorf("repository %q: name, rsync host, module and https host are required", r.Name)
		}
		if seen[r.Name] {
			return fmt.Errorf("repository %q named twice", r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

// taName returns the name of trust anchor i.
func (c *Config) taName(i int) string {
	if len(c.TANames) > 0 {
		return c.TANames[i]
	}
	return fmt.Sprintf("ta-%d", i+1)
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// ExpectedCAs returns the number of CAs the tree shape gives on average,
// trust anchors included.
func (c Config) ExpectedCAs() int {
	tas := max(c.TAs, 1)
	top := c.TopWidth
	if top <= 0 {
		top = c.Width
	}
	total, level := 1, 1
	for d := range c.Depth {
		if d == 0 {
			level *= top
		} else {
			level *= c.Width
		}
		total += level
	}
	return tas * total
}
