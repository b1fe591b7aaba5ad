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

// commitBoth runs round r's commitments of both parties.
func commitBoth(t *testing.T, q, r *he.Ceremony, round he.Round) {
	t.Helper()
	bind := []byte{byte(round)}
	cq, err := q.Commit(round, bind)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := r.Commit(round, bind)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.PeerCommitments(round, cr); err != nil {
		t.Fatal(err)
	}
	if err := r.PeerCommitments(round, cq); err != nil {
		t.Fatal(err)
	}
}

func TestCeremonyRefusesMisuse(t *testing.T) {
	ps := hetest.InsecureN11()
	pk := he.Step{Kind: he.StepPublicKey}
	r1 := he.Step{Kind: he.StepRelinRound1}
	r2 := he.Step{Kind: he.StepRelinRound2}

	t.Run("reveal before committing", func(t *testing.T) {
		q, _ := newPair(t, ps, 10)
		if _, err := q.Reveal(pk); !errors.Is(err, he.ErrState) {
			t.Errorf("reveal first: %v, want ErrState", err)
		}
		// The ceremony is over for good.
		if _, err := q.Commit(he.Round1, nil); !errors.Is(err, he.ErrState) {
			t.Errorf("after a failure: %v, want ErrState", err)
		}
	})
	t.Run("reveal before the peer committed", func(t *testing.T) {
		q, _ := newPair(t, ps, 11)
		if _, err := q.Commit(he.Round1, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Reveal(pk); !errors.Is(err, he.ErrState) {
			t.Errorf("reveal before the peer's commitments: %v, want ErrState", err)
		}
	})
	t.Run("commit twice", func(t *testing.T) {
		q, _ := newPair(t, ps, 12)
		if _, err := q.Commit(he.Round1, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Commit(he.Round1, nil); !errors.Is(err, he.ErrState) {
			t.Errorf("second commitment: %v, want ErrState", err)
		}
	})
	t.Run("reveal twice", func(t *testing.T) {
		q, r := newPair(t, ps, 13)
		commitBoth(t, q, r, he.Round1)
		if _, err := q.Reveal(pk); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Reveal(pk); !errors.Is(err, he.ErrState) {
			t.Errorf("second reveal: %v, want ErrState", err)
		}
	})
	t.Run("wrong number of commitments", func(t *testing.T) {
		q, r := newPair(t, ps, 14)
		cr, err := r.Commit(he.Round1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.PeerCommitments(he.Round1, cr[1:]); !errors.Is(err, he.ErrMalformed) {
			t.Errorf("one commitment short: %v, want ErrMalformed", err)
		}
	})
	t.Run("absorb twice", func(t *testing.T) {
		q, r := newPair(t, ps, 20)
		commitBoth(t, q, r, he.Round1)
		m, _ := r.Reveal(pk)
		if err := q.Absorb(pk, m); err != nil {
			t.Fatal(err)
		}
		if err := q.Absorb(pk, m); !errors.Is(err, he.ErrState) {
			t.Errorf("second absorb: %v, want ErrState", err)
		}
	})
	t.Run("round 2 before round 1", func(t *testing.T) {
		q, _ := newPair(t, ps, 30)
		if _, err := q.Commit(he.Round2, nil); !errors.Is(err, he.ErrState) {
			t.Errorf("round 2 commitment first: %v, want ErrState", err)
		}
	})
	t.Run("share of another step", func(t *testing.T) {
		q, r := newPair(t, ps, 40)
		commitBoth(t, q, r, he.Round1)
		m, _ := r.Reveal(pk)
		if err := q.Absorb(r1, m); !errors.Is(err, he.ErrCommitment) {
			t.Errorf("public-key share given as round 1: %v, want ErrCommitment", err)
		}
	})
	t.Run("share that does not open its commitment", func(t *testing.T) {
		q, r := newPair(t, ps, 45)
		commitBoth(t, q, r, he.Round1)
		m, _ := r.Reveal(pk)
		m = append([]byte(nil), m...)
		m[len(m)-1] ^= 1
		if err := q.Absorb(pk, m); !errors.Is(err, he.ErrCommitment) {
			t.Errorf("altered share: %v, want ErrCommitment", err)
		}
	})
	t.Run("share from another key set", func(t *testing.T) {
		q, _ := newPair(t, ps, 50)
		_, r := newPair(t, ps, 60)
		bind := []byte{1}
		cr, _ := r.Commit(he.Round1, bind)
		if _, err := q.Commit(he.Round1, bind); err != nil {
			t.Fatal(err)
		}
		if err := q.PeerCommitments(he.Round1, cr); err != nil {
			t.Fatal(err)
		}
		if err := r.PeerCommitments(he.Round1, cr); err != nil {
			t.Fatal(err)
		}
		m, _ := r.Reveal(pk)
		if err := q.Absorb(pk, m); !errors.Is(err, he.ErrMismatch) {
			t.Errorf("other key set: %v, want ErrMismatch", err)
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
		if _, err := q.KeyCheck([32]byte{}, nil); !errors.Is(err, he.ErrState) {
			t.Errorf("key check before the end: %v", err)
		}
	})
	_ = r2
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
