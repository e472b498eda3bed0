package config

// Load applies a config file's content, as Resolve does when no option
// was given on the command line, and completes c; path names the file.
func (c *Config) Load(data []byte, path string) error {
	c.changed = func(string) bool { return false }
	if err := c.load(data, path); err != nil {
		return err
	}
	return c.finish()
}

// Setting is a row of the settings table.
type Setting struct{ Key, Flag string }

// Settings returns the config file keys and the options that set them.
func Settings() []Setting {
	out := make([]Setting, len(settings))
	for i, s := range settings {
		out[i] = Setting{s.key, s.flag}
	}
	return out
}
