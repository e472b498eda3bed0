package validity_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rovd/rovd/appliance/validity"
)

// FuzzParseRoutes feeds the same bytes to both input parsers. Whatever
// either accepts must come back unchanged when written out in the plain
// format and in the JSON format and read again; an error comes with no
// routes.
func FuzzParseRoutes(f *testing.F) {
	for _, name := range []string{"beacons.txt", "beacons.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("::/0 => 0\n# x\n"))
	f.Add([]byte(`{"routes":[{"prefix":"::ffff:1.2.3.4/128","asn":4294967295}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) ([]validity.Route, error){
			func(b []byte) ([]validity.Route, error) { return validity.ParsePlain(bytes.NewReader(b)) },
			func(b []byte) ([]validity.Route, error) { return validity.ParseJSON(bytes.NewReader(b)) },
		} {
			routes, err := parse(data)
			if (err != nil) != (routes == nil) {
				t.Fatalf("routes %v with error %v", routes, err)
			}
			if err != nil {
				continue
			}
			var plain bytes.Buffer
			type jr struct {
				Prefix string `json:"prefix"`
				ASN    string `json:"asn"`
			}
			var doc struct {
				Routes []jr `json:"routes"`
			}
			doc.Routes = []jr{}
			for _, r := range routes {
				if r.Prefix != r.Prefix.Masked() {
					t.Fatalf("host bits accepted in %s", r.Prefix)
				}
				plain.WriteString(r.Prefix.String() + " => AS" + itoa(r.ASN) + "\n")
				doc.Routes = append(doc.Routes, jr{r.Prefix.String(), "AS" + itoa(r.ASN)})
			}
			again, err := validity.ParsePlain(&plain)
			if err != nil || !equalRoutes(routes, again) {
				t.Fatalf("plain round trip: %v, %v -> %v", err, routes, again)
			}
			js, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			again, err = validity.ParseJSON(bytes.NewReader(js))
			if err != nil || !equalRoutes(routes, again) {
				t.Fatalf("JSON round trip: %v, %v -> %v", err, routes, again)
			}
		}
	})
}
