package runner

import (
	"testing"

	"github.com/rovd/rovd/netio"
)

func TestReplacedContent(t *testing.T) {
	for _, tc := range []struct {
		statuses []netio.Status
		want     bool
	}{
		{nil, false},
		{[]netio.Status{{Protocol: "rrdp", Method: netio.MethodDeltas}, {Protocol: "rrdp", Method: netio.MethodNotModified}}, false},
		{[]netio.Status{{Protocol: "rrdp", Method: netio.MethodDeltas}, {Protocol: "rrdp", Method: netio.MethodSnapshot}}, true},
		{[]netio.Status{{Protocol: "rsync"}}, true},
		{[]netio.Status{{Protocol: "rrdp", Method: netio.MethodSnapshot, Err: errFailed}}, false},
	} {
		if got := replacedContent(tc.statuses); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.statuses, got, tc.want)
		}
	}
}

var errFailed = &netio.StatusError{Code: 500}
