package logging

import "log/syslog"

// DialSyslogAt makes New connect to the unix datagram socket at path
// instead of the system's syslog daemon, until the returned function
// restores it.
func DialSyslogAt(path string) (restore func()) {
	old := dialSyslog
	dialSyslog = func(p syslog.Priority, tag string) (*syslog.Writer, error) {
		return syslog.Dial("unixgram", path, p, tag)
	}
	return func() { dialSyslog = old }
}
