package rpki_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rovd/rovd/engine/der"
	"github.com/rovd/rovd/engine/rpki"
)

// TestDecodeROAReuse decodes ROAs of different shapes one after another
// into the same ROA and checks each result equals a fresh ParseROA: no
// prefix, resource or problem of an earlier ROA may survive.
func TestDecodeROAReuse(t *testing.T) {
	files := []string{
		"rpki-validator-3/g11HohjaKcA9vAJV9LrYPq1bKZQ.roa", // 3,870 prefixes, BER
		"krill/v0_13_1_pubserver-repo/rsync/current/NLnetLabs/0/3138352e34392e3134302e302f32332d3332203d3e2038353837.roa",
		"rpki-rs/repository/maxlen-underflow.roa", // with problems
		"rpki-rs/repository/example-ripe.roa",     // IPv6, BER
		"krill/v0_13_1_pubserver-repo/rsync/current/NLnetLabs/0/326130343a623930353a3a2f33322d313238203d3e20323131333231.roa",
	}
	var reused rpki.ROA
	for _, name := range files {
		data := readReal(t, name)
		fresh, err := rpki.ParseROA(data, der.Relaxed)
		if err != nil {
			t.Fatal(err)
		}
		if err := rpki.DecodeROA(&reused, data, der.Relaxed); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(summarizeROA(fresh), summarizeROA(&reused)); diff != "" {
			t.Errorf("%s: reused ROA differs from a fresh one (-fresh +reused):\n%s", name, diff)
		}
		if len(fresh.Problems()) != len(reused.Problems()) || fresh.ASID != reused.ASID {
			t.Errorf("%s: problems or ASID differ after reuse", name)
		}
	}
}

func TestDecodeROAAllocations(t *testing.T) {
	data := readReal(t, "krill/v0_13_1_pubserver-repo/rsync/current/NLnetLabs/0/3138352e34392e3134302e302f32332d3332203d3e2038353837.roa")
	var roa rpki.ROA
	allocs := testing.AllocsPerRun(100, func() {
		if err := rpki.DecodeROA(&roa, data, der.Relaxed); err != nil {
			t.Fatal(err)
		}
	})
	// Only the three URIs of the EE certificate (signed object, issuer,
	// CRL) become strings.
	if allocs > 3 {
		t.Errorf("DecodeROA into a reused ROA allocates %.0f times, want at most 3", allocs)
	}
}

// summarizeROA lists what a ROA says in comparable form.
func summarizeROA(roa *rpki.ROA) []string {
	out := []string{roa.EE.SerialString(), roa.EE.SignedObject, roa.EE.CRLURI, roa.EE.AIAURI, roa.EE.RSAKey.N.Text(16)}
	for _, p := range roa.Prefixes {
		out = append(out, "prefix "+p.String())
	}
	for _, set := range []rpki.IPSet{roa.EE.Resources.IPv4, roa.EE.Resources.IPv6} {
		for _, r := range set.Ranges {
			out = append(out, "resource "+r.String())
		}
	}
	for _, r := range roa.EE.Resources.AS.Ranges {
		out = append(out, "resource "+r.String())
	}
	for _, p := range roa.Problems() {
		out = append(out, "problem "+p.Error())
	}
	return out
}
