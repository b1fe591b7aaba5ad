//go:build puente_testparams

package he_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

// wireObjects makes the HE wire objects of one ceremony and one query on the INSECURE N = 2^11
// set from fixed randomness: name and bytes.
func wireObjects(t *testing.T) map[string][]byte {
	t.Helper()
	ps := hetest.InsecureN11()
	k := hetest.Ceremony(t, ps, 128, hetest.Reader(1), hetest.Reader(2))
	out := map[string][]byte{}
	var err error
	if out["secret-share/querier"], err = k.Querier.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	// The evaluation keys' bytes depend on randomness the ceremony does not take from its
	// readers; their header and size are fixed.
	evk, err := k.Eval.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	out["evaluation-keys/header-and-size"] = binary.BigEndian.AppendUint64(append([]byte(nil), evk[:8]...), uint64(len(evk)))
	qr, err := he.NewQuerier(k.Querier)
	if err != nil {
		t.Fatal(err)
	}
	q, err := qr.EncryptProbe(hetest.UnitVector(rand.New(rand.NewPCG(3, 3)), 128), hetest.Reader(4))
	if err != nil {
		t.Fatal(err)
	}
	if out["query"], err = q.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWireKnownAnswers: the bytes of a secret share and a query made from fixed randomness, and
// the header and size of the evaluation keys, are the same from run to run, and their SHA-512
// are the recorded ones (as is the INSECURE set's digest), so a change of the wire format cannot
// go unnoticed.
func TestWireKnownAnswers(t *testing.T) {
	a, b := wireObjects(t), wireObjects(t)
	for name, obj := range a {
		if !bytes.Equal(obj, b[name]) {
			t.Errorf("%s: two runs from the same randomness differ: the known answer cannot hold", name)
			continue
		}
		sum := sha512.Sum512(obj)
		checkKAT(t, "sha512/INSECURE-test-n11/"+name, sum[:])
	}
	d := hetest.InsecureN11().Digest()
	checkKAT(t, "param-set-digest/"+hetest.InsecureN11().Name(), d[:])
}
