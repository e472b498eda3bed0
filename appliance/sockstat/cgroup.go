package sockstat

import (
	"bytes"
	"strings"
)

// parseCgroup2Mount returns the mount point of the first cgroup2 file
// system in b, the text of /proc/PID/mountinfo (proc(5)): per line, the
// mount point is the fifth field, and the file system type the first
// field after the lone "-" that ends the optional fields. Octal escapes
// in the mount point (\040 for a space) are undone.
func parseCgroup2Mount(b []byte) (string, bool) {
	for line := range bytes.Lines(b) {
		fields := strings.Fields(string(line))
		if len(fields) < 5 {
			continue
		}
		for i := 5; i+1 < len(fields); i++ {
			if fields[i] == "-" {
				if fields[i+1] == "cgroup2" {
					return unescapeMount(fields[4]), true
				}
				break
			}
		}
	}
	return "", false
}

// unescapeMount undoes the kernel's octal escapes of space, tab, newline
// and backslash in mountinfo paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			out.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		out.WriteByte(s[i])
	}
	return out.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
