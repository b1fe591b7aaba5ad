//go:build puente_testparams

package he_test

import (
	"errors"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

// exchange runs both rounds of a ceremony between a victim q and an
// attacker r, which receives q's commitments first (as the protocol's
// responder does), commits, and then replaces its share of each step in
// forged (computed from its own revealed shares of round 1) by the forged
// bytes, committing to them. It stops at the victim's first error.
func exchange(t *testing.T, q, r *he.Ceremony, forge func(own map[he.Step][]byte) map[he.Step][]byte) error {
	return exchangeSaw(t, q, r, forge, nil)
}

// exchangeSaw is exchange with saw called on every share of the victim the
// attacker receives.
func exchangeSaw(t *testing.T, q, r *he.Ceremony, forge func(own map[he.Step][]byte) map[he.Step][]byte, saw func(he.Step, []byte)) error {
	t.Helper()
	for _, round := range []he.Round{he.Round1, he.Round2} {
		bind := []byte{'b', byte(round)}
		cq, err := q.Commit(round, bind)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.PeerCommitments(round, cq); err != nil {
			t.Fatal(err)
		}
		cr, err := r.Commit(round, bind)
		if err != nil {
			t.Fatal(err)
		}
		own := map[he.Step][]byte{}
		for _, st := range r.RoundSteps(round) {
			if own[st], err = r.Reveal(st); err != nil {
				t.Fatal(err)
			}
		}
		forged := map[he.Step][]byte{}
		if round == he.Round1 && forge != nil {
			forged = forge(own)
		}
		for i, st := range r.RoundSteps(round) {
			if f, ok := forged[st]; ok {
				cr[i] = he.CommitmentOf(bind, f)
				own[st] = f
			}
		}
		if err := q.PeerCommitments(round, cr); err != nil {
			t.Fatal(err)
		}
		for _, st := range q.RoundSteps(round) {
			mq, err := q.Reveal(st)
			if err != nil {
				t.Fatal(err)
			}
			if saw != nil {
				saw(st, mq)
			}
			if err := r.Absorb(st, mq); err != nil {
				t.Fatalf("the attacker's own ceremony: %v", err)
			}
			if err := q.Absorb(st, own[st]); err != nil {
				return err
			}
		}
	}
	return nil
}

// cheat is exchange with one forged step whose forgery needs nothing but
// the attacker's ceremony.
func cheat(t *testing.T, q, r *he.Ceremony, s he.Step, forge func() []byte) error {
	t.Helper()
	return exchange(t, q, r, func(map[he.Step][]byte) map[he.Step][]byte { return map[he.Step][]byte{s: forge()} })
}

// TestCeremonyRefusesForgedShares: shares no honest party sends are
// refused even when the attacker committed to them.
func TestCeremonyRefusesForgedShares(t *testing.T) {
	ps := hetest.InsecureN11()
	pk := he.Step{Kind: he.StepPublicKey}
	r1 := he.Step{Kind: he.StepRelinRound1}
	seed := uint64(100)
	for _, f := range []struct {
		name string
		f    he.Forgery
	}{{"zero", he.ForgeZero}, {"constant", he.ForgeConstant}, {"small", he.ForgeSmall}} {
		for _, s := range []he.Step{pk, r1} {
			t.Run(f.name+"/"+s.String(), func(t *testing.T) {
				seed++
				q, r := newPair(t, ps, seed)
				err := cheat(t, q, r, s, func() []byte {
					b, err := r.ForgeShare(s, f.f)
					if err != nil {
						t.Fatal(err)
					}
					return b
				})
				if !errors.Is(err, he.ErrRejectedShare) {
					t.Errorf("got %v, want ErrRejectedShare", err)
				}
				if _, err := q.Reveal(s); !errors.Is(err, he.ErrState) {
					t.Errorf("the victim's ceremony goes on after a refused share: %v", err)
				}
			})
		}
	}
	t.Run("wrong size", func(t *testing.T) {
		q, r := newPair(t, ps, 200)
		err := cheat(t, q, r, pk, func() []byte {
			b, _ := r.ForgeShare(pk, he.ForgeSmall)
			return b[:len(b)-3]
		})
		if !errors.Is(err, he.ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	})
	t.Run("replay of an earlier share", func(t *testing.T) {
		q, r := newPair(t, ps, 210)
		gals := q.RoundSteps(he.Round1)[2:]
		first, second := gals[0], gals[1]
		// The attacker commits, as its share for the second Galois element,
		// to its share of the first (the same level here), relabelled.
		err := exchange(t, q, r, func(own map[he.Step][]byte) map[he.Step][]byte {
			return map[he.Step][]byte{second: r.RelabelShare(own[first], second)}
		})
		if !errors.Is(err, he.ErrRejectedShare) {
			t.Errorf("replayed share: %v, want ErrRejectedShare", err)
		}
	})
}

// TestCeremonyRefusesCancellingShares: a share that cancels ours in the
// aggregate (its negation, or the rushing answer (C - h0, -h1)) is refused
// by the aggregate check, besides failing its commitment.
func TestCeremonyRefusesCancellingShares(t *testing.T) {
	ps := hetest.InsecureN11()
	pk := he.Step{Kind: he.StepPublicKey}
	r1 := he.Step{Kind: he.StepRelinRound1}
	q, r := newPair(t, ps, 300)
	commitBoth(t, q, r, he.Round1)
	mpk, err := q.Reveal(pk)
	if err != nil {
		t.Fatal(err)
	}
	neg, err := r.NegatedShare(pk, mpk)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.CheckAggregateWithForTest(pk, neg); !errors.Is(err, he.ErrRejectedShare) {
		t.Errorf("negation of our public-key share: %v, want ErrRejectedShare", err)
	}
	m1, err := q.Reveal(r1)
	if err != nil {
		t.Fatal(err)
	}
	rush, err := r.RushingShare(m1)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.CheckAggregateWithForTest(r1, rush); !errors.Is(err, he.ErrRejectedShare) {
		t.Errorf("rushing answer (C - h0, -h1): %v, want ErrRejectedShare", err)
	}
	if err := q.Absorb(r1, rush); !errors.Is(err, he.ErrCommitment) {
		t.Errorf("rushing answer in the ceremony: %v, want ErrCommitment", err)
	}
}

// TestRushingAttackNeedsTheVictimsShare measures the rushing attack on the
// relinearization key: without commitments (Lattigo's protocol alone) it
// recovers every coefficient of the victim's secret; with commitments the
// attacker must aim blind, and recovers what a guess does.
func TestRushingAttackNeedsTheVictimsShare(t *testing.T) {
	ps := hetest.InsecureN11()
	n := ps.Slots()
	got, err := he.RushingControl(ps, hetest.Reader(400))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rushing attack without commitments: %d of %d coefficients recovered", got, n)
	if got != n {
		t.Errorf("the control attack recovers %d of %d coefficients; the recovery is broken", got, n)
	}

	q, r := newPair(t, ps, 401)
	r1 := he.Step{Kind: he.StepRelinRound1}
	var victimR2 []byte
	err = exchangeSaw(t, q, r, func(map[he.Step][]byte) map[he.Step][]byte {
		b, err := r.ForgeShare(r1, he.ForgeBlindRushing)
		if err != nil {
			t.Fatal(err)
		}
		return map[he.Step][]byte{r1: b}
	}, func(s he.Step, b []byte) {
		if s.Kind == he.StepRelinRound2 {
			victimR2 = b
		}
	})
	if victimR2 == nil {
		t.Fatalf("the victim never revealed its round-2 share (%v)", err)
	}
	guess, err := he.RecoverFromRound2(ps, victimR2, he.RoleQuerier)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := q.SecretMatches(guess)
	if err != nil {
		t.Fatal(err)
	}
	chance := he.ChanceMatches(ps)
	t.Logf("blind rushing attack with commitments: %d of %d coefficients recovered (chance: %.0f)", hits, n, chance)
	if float64(hits) > chance+6*sqrtVar(n) {
		t.Errorf("the attacker recovers %d coefficients, more than chance (%.0f)", hits, chance)
	}
	// The ceremony itself completes, with keys that do not work: the key
	// check refuses them.
	if err != nil {
		t.Fatalf("the blind rushing ceremony: %v", err)
	}
	kq, err := q.KeyCheck([32]byte{9}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := r.KeyCheck([32]byte{9}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kq.Verify(kr.Digests()); !errors.Is(err, he.ErrKeyCheck) {
		t.Errorf("keys after a blind rushing share pass the key check: %v", err)
	}
}

// sqrtVar is the standard deviation of the number of chance matches.
func sqrtVar(n int) float64 {
	v := float64(n) * (1.0 / 3) * (2.0 / 3)
	s := 1.0
	for range 30 {
		s = (s + v/s) / 2
	}
	return s
}

// TestKeyCheck: an honest ceremony passes the joint key check on every
// grid, the measured noise stays within the bound the rounding width is
// made from, and keys made from a share of another secret fail it.
func TestKeyCheck(t *testing.T) {
	ps := hetest.InsecureN11()
	q, r := newPair(t, ps, 500)
	if err := hetest.Exchange(q, r); err != nil {
		t.Fatal(err)
	}
	seed := [32]byte{5}
	noise, err := he.KeyCheckNoiseForTest(q, r, seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range noise {
		t.Logf("%s: mean |δ| %.1f, max |δ| %.0f, bound σ %.1f", c.Name, c.MeanAbs, c.MaxAbs, c.Sigma)
		if c.MeanAbs > c.Sigma {
			t.Errorf("%s: mean noise %.1f above the bound %.1f", c.Name, c.MeanAbs, c.Sigma)
		}
	}
	kq, err := q.KeyCheck(seed, []byte("bind"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := r.KeyCheck(seed, []byte("bind"))
	if err != nil {
		t.Fatal(err)
	}
	nq, err := kq.Verify(kr.Digests())
	if err != nil {
		t.Errorf("querier's check of the responder: %v", err)
	}
	nr, err := kr.Verify(kq.Digests())
	if err != nil || nr != nq {
		t.Errorf("responder's check of the querier: %d grids (the querier saw %d), %v", nr, nq, err)
	}
	t.Logf("honest ceremony: %d of %d grids agree", nq, he.KeyCheckGrids)
	if _, err := kq.Verify(kq.Digests()); !errors.Is(err, he.ErrKeyCheck) {
		t.Errorf("our own digests echoed back: %v, want ErrKeyCheck", err)
	}
	other, err := r.KeyCheck([32]byte{6}, []byte("bind"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kq.Verify(other.Digests()); !errors.Is(err, he.ErrKeyCheck) {
		t.Errorf("digests of another seed: %v, want ErrKeyCheck", err)
	}

	for _, s := range []he.Step{{Kind: he.StepPublicKey}, {Kind: he.StepRelinRound1}, q.Steps()[3], q.Steps()[len(q.Steps())-1]} {
		t.Run("share from another secret/"+s.String(), func(t *testing.T) {
			q, r := newPair(t, ps, 600+uint64(s.GaloisElement%97)+uint64(s.Kind))
			forged, err := r.ForgeShare(s, he.ForgeOtherSecret)
			if err != nil {
				t.Fatal(err)
			}
			err = exchange(t, q, r, func(map[he.Step][]byte) map[he.Step][]byte { return map[he.Step][]byte{s: forged} })
			if err != nil {
				t.Fatalf("the forged ceremony does not finish: %v", err)
			}
			kq, err := q.KeyCheck(seed, nil)
			if err != nil {
				t.Fatal(err)
			}
			kr, err := r.KeyCheck(seed, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := kq.Verify(kr.Digests()); !errors.Is(err, he.ErrKeyCheck) {
				t.Errorf("keys from a share of another secret pass the check on %d grids", n)
			}
		})
	}
}

// TestKeyCheckBoundsThePeersSecret: a peer whose shares are all computed
// from a secret 2^12 times an honest one (well formed, keys that work for
// s_Q + 2^12·s_R) fails the key check; one 4 times larger passes, within the
// tolerance the check documents (about 2^10).
func TestKeyCheckBoundsThePeersSecret(t *testing.T) {
	ps := hetest.InsecureN11()
	for _, tc := range []struct {
		scale int64
		pass  bool
	}{{4, true}, {1 << 12, false}} {
		var crs he.KeySetID
		crs[0] = byte(tc.scale)
		q, err := he.NewCeremony(ps, he.RoleQuerier, 64, crs, hetest.Reader(700))
		if err != nil {
			t.Fatal(err)
		}
		r, err := he.NewScaledCeremony(ps, he.RoleResponder, 64, crs, hetest.Reader(701), tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		if err := hetest.Exchange(q, r); err != nil {
			t.Fatalf("scale %d: the shares of a scaled secret are refused before the key check: %v", tc.scale, err)
		}
		kq, err := q.KeyCheck([32]byte{7}, nil)
		if err != nil {
			t.Fatal(err)
		}
		kr, err := r.KeyCheck([32]byte{7}, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := kq.Verify(kr.Digests())
		t.Logf("peer secret scaled by %d: %d of %d grids agree", tc.scale, n, he.KeyCheckGrids)
		if (err == nil) != tc.pass {
			t.Errorf("peer secret scaled by %d: key check %v, want pass=%v", tc.scale, err, tc.pass)
		}
	}
}
