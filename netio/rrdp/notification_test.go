package rrdp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/netio/rrdp"
)

func deltaRef(serial int) string {
	return fmt.Sprintf(`<delta serial="%d" uri="https://rrdp.example.net/%d.xml" hash="%s"/>`, serial, serial, testHash)
}

func TestParseNotificationAccepts(t *testing.T) {
	hash := [32]byte{0x22, 0x6a, 0xb8, 0xcd, 0x3c, 0x88, 0x7a, 0x6e, 0xbd, 0xdd, 0xf3, 0x17, 0xf2, 0xfa, 0xfc, 0x9c, 0xf3, 0xef, 0xc5, 0xd4, 0x3a, 0x86, 0x34, 0x7a, 0xc0, 0xfe, 0xff, 0xe4, 0xdc, 0x0f, 0x60, 0x7e}
	header := rrdp.Header{Type: rrdp.TypeNotification, Version: 1, SessionID: testSession, Serial: 7}
	snapshot := rrdp.FileRef{URI: "https://rrdp.example.net/s.xml", Hash: hash}
	tests := []struct {
		name string
		doc  string
		lim  rrdp.Limits
		want *rrdp.Notification
	}{
		{
			name: "snapshot only",
			doc:  notificationDoc(snapshotRef),
			want: &rrdp.Notification{Header: header, Snapshot: snapshot},
		},
		{
			name: "deltas in file order",
			doc:  notificationDoc("\n  " + snapshotRef + "\n  " + deltaRef(7) + deltaRef(5) + "<!-- c -->" + deltaRef(6) + "\n"),
			want: &rrdp.Notification{Header: header, Snapshot: snapshot, Deltas: []rrdp.FileRef{
				{Serial: 7, URI: "https://rrdp.example.net/7.xml", Hash: hash},
				{Serial: 5, URI: "https://rrdp.example.net/5.xml", Hash: hash},
				{Serial: 6, URI: "https://rrdp.example.net/6.xml", Hash: hash},
			}},
		},
		{
			name: "snapshot and delta with end tags and namespace",
			doc: notificationDoc(`<snapshot xmlns="http://www.ripe.net/rpki/rrdp" uri="https://rrdp.example.net/s.xml" hash="` + strings.ToUpper(testHash) + `"> </snapshot>` +
				`<delta hash="` + testHash + `" uri="https://rrdp.example.net/7.xml" serial="7"></delta>`),
			want: &rrdp.Notification{Header: header, Snapshot: snapshot, Deltas: []rrdp.FileRef{
				{Serial: 7, URI: "https://rrdp.example.net/7.xml", Hash: hash},
			}},
		},
		{
			name: "more deltas than the limit",
			doc:  notificationDoc(snapshotRef + deltaRef(7) + deltaRef(6) + deltaRef(5)),
			lim:  rrdp.Limits{MaxDeltas: 2},
			want: &rrdp.Notification{Header: header, Snapshot: snapshot, TooManyDeltas: true},
		},
		{
			name: "deltas at the limit",
			doc:  notificationDoc(snapshotRef + deltaRef(7) + deltaRef(6)),
			lim:  rrdp.Limits{MaxDeltas: 2},
			want: &rrdp.Notification{Header: header, Snapshot: snapshot, Deltas: []rrdp.FileRef{
				{Serial: 7, URI: "https://rrdp.example.net/7.xml", Hash: hash},
				{Serial: 6, URI: "https://rrdp.example.net/6.xml", Hash: hash},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := parseNotification(t, []byte(tc.doc), tc.lim)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if diff := cmp.Diff(tc.want, n, cmpOpts); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			ref, err := refParse([]byte(tc.doc))
			if err != nil {
				t.Fatalf("the reference parser rejects it: %v", err)
			}
			if !n.TooManyDeltas {
				if diff := cmp.Diff(ref, notificationFile(n), cmpOpts); diff != "" {
					t.Errorf("differs from the reference (-ref +got):\n%s", diff)
				}
			}
		})
	}
}

func TestParseNotificationRejects(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"no snapshot", notificationDoc(""), "notification without snapshot"},
		{"empty notification element", "<notification " + rootAttrs + "/>", "notification without snapshot"},
		{"two snapshots", notificationDoc(snapshotRef + snapshotRef), "second <snapshot>"},
		{"delta before the snapshot", notificationDoc(deltaRef(7) + snapshotRef), "<delta> before <snapshot>"},
		{"snapshot without hash", notificationDoc(`<snapshot uri="https://x/s.xml"/>`), "lacks attribute hash"},
		{"snapshot without uri", notificationDoc(`<snapshot hash="` + testHash + `"/>`), "lacks attribute uri"},
		{"snapshot with a serial", notificationDoc(`<snapshot serial="7" uri="https://x/s.xml" hash="` + testHash + `"/>`), `attribute "serial" not allowed`},
		{"short snapshot hash", notificationDoc(`<snapshot uri="https://x/s.xml" hash="FF"/>`), "not 64 hex digits"},
		{"delta without serial", notificationDoc(snapshotRef + `<delta uri="https://x/d.xml" hash="` + testHash + `"/>`), "lacks attribute serial"},
		{"delta serial zero", notificationDoc(snapshotRef + `<delta serial="0" uri="https://x/d.xml" hash="` + testHash + `"/>`), "not a positive"},
		{"text inside snapshot", notificationDoc(`<snapshot uri="https://x/s.xml" hash="` + testHash + `">x</snapshot>`), "unexpected text"},
		{"element inside delta", notificationDoc(snapshotRef + `<delta serial="1" uri="https://x/d.xml" hash="` + testHash + `">` + snapshotRef + `</delta>`), "element inside <delta>"},
		{"publish in a notification", notificationDoc(snapshotRef + `<publish uri="rsync://x/y"/>`), "unknown element <publish>"},
		{"snapshot file given as notification", snapshotDoc(""), "want <notification>"},
		{"unclosed", "<notification " + rootAttrs + ">" + snapshotRef, "unexpected end of file"},
		{"trailing garbage", notificationDoc(snapshotRef) + "garbage", "unexpected text"},
		{"namespace in upper case", `<notification xmlns="HTTP://www.ripe.net/rpki/rrdp" version="1" session_id="` + testSession + `" serial="1">` + snapshotRef + `</notification>`, "namespace"},
		{"entity expansion", "<!DOCTYPE n [<!ENTITY a \"aaaa\">]>" + notificationDoc("&a;"+snapshotRef), "DOCTYPE not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseNotification(t, []byte(tc.doc), rrdp.Limits{})
			checkError(t, err, tc.want)
		})
	}
}

func TestDeltaChain(t *testing.T) {
	refs := func(serials ...uint64) []rrdp.FileRef {
		var r []rrdp.FileRef
		for _, s := range serials {
			r = append(r, rrdp.FileRef{Serial: s, URI: fmt.Sprintf("https://x/%d.xml", s)})
		}
		return r
	}
	tests := []struct {
		name   string
		serial uint64
		deltas []rrdp.FileRef
		from   uint64
		want   []uint64
		ok     bool
	}{
		{"up to date", 10, refs(10, 9), 10, nil, true},
		{"newest first in the file", 10, refs(10, 9, 8, 7), 7, []uint64{8, 9, 10}, true},
		{"unsorted with older deltas", 10, refs(9, 3, 10, 8, 4), 7, []uint64{8, 9, 10}, true},
		{"gap", 10, refs(10, 8, 7), 7, nil, false},
		{"duplicate serial", 10, refs(10, 9, 9, 8), 7, nil, false},
		{"missing newest", 10, refs(9, 8), 7, nil, false},
		{"delta newer than the notification", 10, refs(11, 10, 9, 8), 7, nil, false},
		{"client ahead of the server", 10, refs(10), 11, nil, false},
		{"too far behind", 10, refs(10, 9), 1, nil, false},
		{"from zero", 2, refs(1, 2), 0, []uint64{1, 2}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := &rrdp.Notification{Header: rrdp.Header{Serial: tc.serial}, Deltas: tc.deltas}
			chain, ok := n.DeltaChain(tc.from)
			var got []uint64
			for _, d := range chain {
				got = append(got, d.Serial)
			}
			if ok != tc.ok || !cmp.Equal(got, tc.want) {
				t.Errorf("DeltaChain(%d) = %v, %v; want %v, %v", tc.from, got, ok, tc.want, tc.ok)
			}
		})
	}
	n := &rrdp.Notification{Header: rrdp.Header{Serial: 10}, TooManyDeltas: true}
	if _, ok := n.DeltaChain(9); ok {
		t.Error("DeltaChain succeeded although TooManyDeltas is set")
	}
}
