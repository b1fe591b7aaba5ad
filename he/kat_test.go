package he_test

import (
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/kattest"
)

// kat holds the known answers of package he; go test -update-kat rewrites it, only for a
// deliberate change of the wire format or of a parameter set (say so in the commit).
var kat = &kattest.File{Path: "testdata/kat.txt", Header: "Known answers of package he: parameter-set digests and the SHA-512 of HE wire objects made\nfrom fixed randomness (he/kat_test.go). A change here is a change of the wire format."}

func checkKAT(t *testing.T, name string, got []byte) { t.Helper(); kat.Check(t, name, got) }

// TestParamSetDigestKnownAnswer: the digest the key ceremony compares is the recorded one for
// every built-in parameter set, so a change of its numbers cannot go unnoticed.
func TestParamSetDigestKnownAnswer(t *testing.T) {
	for _, id := range []he.ParamSetID{he.N15V2, he.N15V3, he.N15V4} {
		ps, err := he.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		d := ps.Digest()
		checkKAT(t, "param-set-digest/"+ps.Name(), d[:])
	}
}
