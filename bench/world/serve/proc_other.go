//go:build unix && !linux

package serve

import "syscall"

// sysProcAttr puts an rsync daemon into its own process group, so that
// Close can kill it with the children serving its connections.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// groupAlive reports whether a process of group pgid still exists.
func groupAlive(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}
