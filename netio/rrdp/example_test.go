package rrdp_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rovd/rovd/netio/rrdp"
)

func ExampleReader() {
	const delta = `<delta xmlns="http://www.ripe.net/rpki/rrdp" version="1"
	session_id="9df4b597-af9e-4dca-bdda-719cce2c4e28" serial="8">
  <publish uri="rsync://rpki.example.net/repo/a.roa">
    SGVsbG8sIFJQS0kh
  </publish>
  <withdraw uri="rsync://rpki.example.net/repo/b.roa"
    hash="226ab8cd3c887a6ebdddf317f2fafc9cf3efc5d43a86347ac0feffe4dc0f607e"/>
</delta>`
	r := rrdp.NewReader(strings.NewReader(delta), rrdp.Limits{})
	h, err := r.Header()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Type, h.Serial)
	for {
		el, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		// el.URI and el.Data are only valid until the next call to Next.
		if el.Withdraw {
			fmt.Printf("withdraw %s\n", el.URI)
		} else {
			fmt.Printf("publish %s: %q\n", el.URI, el.Data)
		}
	}
	// Output:
	// delta 8
	// publish rsync://rpki.example.net/repo/a.roa: "Hello, RPKI!"
	// withdraw rsync://rpki.example.net/repo/b.roa
}

func ExampleNotification_DeltaChain() {
	const notification = `<notification xmlns="http://www.ripe.net/rpki/rrdp" version="1"
	session_id="9df4b597-af9e-4dca-bdda-719cce2c4e28" serial="9">
  <snapshot uri="https://rrdp.example.net/9/snapshot.xml"
    hash="226ab8cd3c887a6ebdddf317f2fafc9cf3efc5d43a86347ac0feffe4dc0f607e"/>
  <delta serial="9" uri="https://rrdp.example.net/9/delta.xml"
    hash="226ab8cd3c887a6ebdddf317f2fafc9cf3efc5d43a86347ac0feffe4dc0f607e"/>
  <delta serial="8" uri="https://rrdp.example.net/8/delta.xml"
    hash="226ab8cd3c887a6ebdddf317f2fafc9cf3efc5d43a86347ac0feffe4dc0f607e"/>
</notification>`
	n, err := rrdp.ParseNotification(strings.NewReader(notification), rrdp.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, have := range []uint64{7, 6} {
		chain, ok := n.DeltaChain(have)
		if !ok {
			fmt.Printf("at %d: load %s\n", have, n.Snapshot.URI)
			continue
		}
		for _, d := range chain {
			fmt.Printf("at %d: apply %s\n", have, d.URI)
		}
	}
	// Output:
	// at 7: apply https://rrdp.example.net/8/delta.xml
	// at 7: apply https://rrdp.example.net/9/delta.xml
	// at 6: load https://rrdp.example.net/9/snapshot.xml
}
