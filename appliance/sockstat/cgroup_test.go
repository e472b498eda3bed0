package sockstat_test

import (
	"testing"

	"github.com/rovd/rovd/appliance/sockstat"
)

// Lines of /proc/self/mountinfo as proc(5) describes them.
const (
	mountProc   = "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	mountV1     = "33 30 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory\n"
	mountHybrid = "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	mountV2     = "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 master:1 - cgroup2 cgroup2 rw,nsdelegate\n"
)

func TestParseCgroup2Mount(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"unified hierarchy", mountProc + mountV2, "/sys/fs/cgroup", true},
		{"hybrid layout", mountProc + mountV1 + mountHybrid, "/sys/fs/cgroup/unified", true},
		{"first of two", mountHybrid + mountV2, "/sys/fs/cgroup/unified", true},
		{"cgroup v1 only", mountProc + mountV1, "", false},
		{"nothing", "", "", false},
		{"escaped space in the mount point", `41 30 0:38 / /mnt/cg\0402 rw - cgroup2 none rw` + "\n", "/mnt/cg 2", true},
		{"cgroup2 among the optional fields", "41 30 0:38 / /mnt rw cgroup2 - tmpfs none rw\n", "", false},
		{"type after the options is cgroup2 only as the source", "41 30 0:38 / /mnt rw - tmpfs cgroup2 rw\n", "", false},
		{"no separator", "41 30 0:38 / /mnt rw cgroup2 cgroup2\n", "", false},
		{"short line", "41 30 cgroup2\n", "", false},
		{"no final newline", mountV2[:len(mountV2)-1], "/sys/fs/cgroup", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := sockstat.ParseCgroup2Mount([]byte(tc.in))
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzParseCgroup2Mount: any text gives a mount point exactly when it
// says it found one.
func FuzzParseCgroup2Mount(f *testing.F) {
	for _, s := range []string{mountProc + mountV1 + mountHybrid, mountV2, `1 2 3 / /a\134b\040 x - cgroup2 y z`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := sockstat.ParseCgroup2Mount(b)
		if ok != (got != "") {
			t.Errorf("ok %v with mount point %q", ok, got)
		}
	})
}
