//go:build puente_testparams

package he_test

import (
	"errors"
	"io"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

func newPair(t *testing.T, ps *he.ParamSet, seed uint64) (q, r *he.Ceremony) {
	t.Helper()
	var crs he.KeySetID
	io.ReadFull(hetest.Reader(seed), crs[:])
	var err error
	if q, err = he.NewCeremony(ps, he.RoleQuerier, 64, crs, hetest.Reader(seed+1)); err != nil {
		t.Fatal(err)
	}
	if r, err = he.NewCeremony(ps, he.RoleResponder, 64, crs, hetest.Reader(seed+2)); err != nil {
		t.Fatal(err)
	}
	return q, r
}

// TestCeremonyKeysWork checks every key of several ceremonies by rotating
// and squaring a ciphertext under the joint secret. It is the regression
// test for shares whose lazily reduced residues were truncated on the
// wire, which broke about one relinearization key in sixty.
func TestCeremonyKeysWork(t *testing.T) {
	ps := hetest.InsecureN11()
	for seed := uint64(0); seed < 8; seed++ {
		k := hetest.Ceremony(t, ps, 64, hetest.Reader(seed), hetest.Reader(seed+1000))
		if bad := he.CheckKeysForTest(k.Querier, k.Responder, k.Eval); len(bad) > 0 {
			t.Errorf("ceremony %d: %v", seed, bad)
		}
		if k.Querier.KeySetID() != k.Eval.KeySetID() || k.Responder.KeySetID() != k.Eval.KeySetID() {
			t.Errorf("ceremony %d: key-set IDs differ", seed)
		}
	}
}

func TestCeremonyRefusesMisuse(t *testing.T) {
	ps := hetest.InsecureN11()
	pk := he.Step{Kind: he.StepPublicKey}
	r1 := he.Step{Kind: he.StepRelinRound1}
	r2 := he.Step{Kind: he.StepRelinRound2}

	t.Run("share twice", func(t *testing.T) {
		q, _ := newPair(t, ps, 10)
		if _, err := q.Share(pk); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Share(pk); !errors.Is(err, he.ErrState) {
			t.Errorf("second share: %v, want ErrState", err)
		}
		// The ceremony is over for good.
		if _, err := q.Share(r1); !errors.Is(err, he.ErrState) {
			t.Errorf("after a failure: %v, want ErrState", err)
		}
	})
	t.Run("absorb twice", func(t *testing.T) {
		q, r := newPair(t, ps, 20)
		m, _ := r.Share(pk)
		if err := q.Absorb(pk, m); err != nil {
			t.Fatal(err)
		}
		if err := q.Absorb(pk, m); !errors.Is(err, he.ErrState) {
			t.Errorf("second absorb: %v, want ErrState", err)
		}
	})
	t.Run("round 2 before round 1", func(t *testing.T) {
		q, _ := newPair(t, ps, 30)
		if _, err := q.Share(r2); !errors.Is(err, he.ErrState) {
			t.Errorf("round 2 share first: %v, want ErrState", err)
		}
	})
	t.Run("share of another step", func(t *testing.T) {
		q, r := newPair(t, ps, 40)
		m, _ := r.Share(pk)
		if err := q.Absorb(r1, m); !errors.Is(err, he.ErrMismatch) {
			t.Errorf("public-key share given as round 1: %v, want ErrMismatch", err)
		}
	})
	t.Run("share from another key set", func(t *testing.T) {
		q, _ := newPair(t, ps, 50)
		_, r := newPair(t, ps, 60)
		m, _ := r.Share(pk)
		if err := q.Absorb(pk, m); !errors.Is(err, he.ErrMismatch) {
			t.Errorf("other key set: %v, want ErrMismatch", err)
		}
	})
	t.Run("share from the same role", func(t *testing.T) {
		q, _ := newPair(t, ps, 70)
		q2, _ := newPair(t, ps, 70)
		m, _ := q2.Share(pk)
		if err := q.Absorb(pk, m); !errors.Is(err, he.ErrMismatch) {
			t.Errorf("querier share to a querier: %v, want ErrMismatch", err)
		}
	})
	t.Run("truncated share", func(t *testing.T) {
		q, r := newPair(t, ps, 80)
		m, _ := r.Share(pk)
		if err := q.Absorb(pk, m[:len(m)-1]); !errors.Is(err, he.ErrMalformed) {
			t.Errorf("truncated: %v, want ErrMalformed", err)
		}
	})
	t.Run("results before the end", func(t *testing.T) {
		q, _ := newPair(t, ps, 90)
		if _, err := q.SecretShare(); !errors.Is(err, he.ErrState) {
			t.Errorf("secret share before the end: %v", err)
		}
		if _, err := q.EvaluationKeys(); !errors.Is(err, he.ErrState) {
			t.Errorf("keys before the end: %v", err)
		}
	})
}

func TestKeysRoundTrip(t *testing.T) {
	ps := hetest.InsecureN11()
	k := hetest.Ceremony(t, ps, 64, hetest.Reader(1), hetest.Reader(2))
	b, err := k.Querier.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := he.ReadSecretShare(ps, b)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Equal(k.Querier) || s.Role() != he.RoleQuerier || s.KeySetID() != k.Querier.KeySetID() || s.MaxDims() != 64 {
		t.Errorf("secret share changed in a round trip")
	}
	if s.Equal(k.Responder) {
		t.Errorf("the two shares compare equal")
	}
	if _, err := he.ReadSecretShare(hetest.InsecureN12(), b); !errors.Is(err, he.ErrMismatch) {
		t.Errorf("share read for another set: %v", err)
	}
	s.Destroy()
	if _, err := s.MarshalBinary(); err == nil {
		t.Errorf("destroyed share still marshals")
	}

	kb, err := k.Eval.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(kb) != k.Eval.Size() {
		t.Errorf("keys: %d bytes, Size says %d", len(kb), k.Eval.Size())
	}
	ek, err := he.ReadEvaluationKeys(ps, kb)
	if err != nil {
		t.Fatal(err)
	}
	if bad := he.CheckKeysForTest(k.Querier, k.Responder, ek); len(bad) > 0 {
		t.Errorf("keys after a round trip: %v", bad)
	}
}
