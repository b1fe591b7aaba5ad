//go:build puente_testparams

package protocol

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	pb "github.com/puente-id/puente/proto/puente/v1"
)

// The tests of this file play a partner that cheats in the key ceremony, against the real
// ceremony code: alpha is the honest initiator (Node.Ceremony or its rounds), beta the cheating
// responder, its real server code bent by ceremonyHooks at the points where a cheater chooses
// what it sends. Each attack must fail detectably: the ceremony aborts, both nodes audit it, and
// the current epoch stays; where the attacker receives something, the test runs its recovery.

// attackPair is a pair after one honest ceremony (epoch 1 current on both).
func attackPair(t *testing.T) (*testNode, *testNode) {
	t.Helper()
	a, b := newPair(t, pairOptions{})
	if _, err := a.Ceremony(ctxTimeout(t, 5*time.Minute), "beta", 0); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// forgeStep makes the responder commit to, and reveal, forged bytes instead of its honest share
// of direction dir's step. forge gets the responder's ceremony and the honest shares it committed
// to in the step's round.
func forgeStep(dir int, step he.Step, forge func(c *ceremonyState, own map[he.Step][]byte) []byte) *ceremonyHooks {
	var mu sync.Mutex
	var forged []byte
	return &ceremonyHooks{
		commit: func(c *ceremonyState, r he.Round, cms [][]byte) [][]byte {
			if r != step.Round() {
				return cms
			}
			own := map[he.Step][]byte{}
			for _, s := range c.hec[dir].RoundSteps(r) {
				own[s] = c.hec[dir].CommittedShare(s)
			}
			mu.Lock()
			forged = forge(c, own)
			mu.Unlock()
			off := 0
			if dir == 1 {
				off = len(c.hec[0].RoundSteps(r))
			}
			for i, s := range c.hec[dir].RoundSteps(r) {
				if s == step {
					cm := he.CommitmentOf(c.shareBind(dir, r), forged)
					cms[off+i] = cm[:]
				}
			}
			return cms
		},
		reveal: func(c *ceremonyState, d int, s he.Step, own, peer []byte) []byte {
			mu.Lock()
			defer mu.Unlock()
			if d == dir && s == step {
				return forged
			}
			return own
		},
	}
}

// epochs reports both nodes' current epochs.
func epochs(t *testing.T, a, b *testNode) (uint64, uint64) {
	t.Helper()
	ka, err := a.partners["beta"].current()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.partners["alpha"].current()
	if err != nil {
		t.Fatal(err)
	}
	return ka.epoch, kb.epoch
}

// recordsSince returns the key records of n's audit log after the first skip records.
func recordsSince(t *testing.T, n *testNode, skip int) []string {
	t.Helper()
	var out []string
	for i, r := range records(t, n) {
		if i >= skip && r.Kind == audit.KindKey {
			out = append(out, r.Action)
		}
	}
	return out
}

// TestCeremonyRushingPeer mounts the rushing attack of issue 10 on the relinearization key.
// Before commitments the responder answered the initiator's round-1 share h = (h0, h1) with
// (C - h0, -h1): the aggregate (C, 0) made the initiator's round-2 share C·s + e, and rounding
// it by C gave every coefficient of the initiator's secret (the control below repeats this on
// Lattigo's protocol alone). Now the responder must commit to its round-1 shares before it sees
// any of the initiator's. The test tries both things a rushing attacker can still do:
//
//   - reveal the rushing answer anyway, computed from the initiator's revealed share: it does not
//     open the responder's commitment, the initiator aborts before sending anything of round 2;
//   - commit to a rushing answer aimed blind (C - h0', -h1' with its own h'): the attacker then
//     receives the initiator's round-2 share, runs the recovery on it, and gets no more
//     coefficients than a guess; the keys fail the joint key check and the initiator aborts.
//
// Each abort is audited on both nodes and leaves epoch 1 current on both.
func TestCeremonyRushingPeer(t *testing.T) {
	t.Parallel()
	a, b := attackPair(t)
	ps := a.partners["beta"].ps
	n := ps.Slots()
	r1 := he.Step{Kind: he.StepRelinRound1}

	control, err := he.RushingControl(ps, hetest.Reader(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("control, the rushing attack without commitments: %d of %d coefficients of the victim's secret recovered", control, n)
	if control != n {
		t.Fatalf("the control recovers %d of %d coefficients: the attacker's recovery is broken", control, n)
	}

	t.Run("rushing answer after the commitment", func(t *testing.T) {
		skipA, skipB := len(records(t, a)), len(records(t, b))
		var r2Seen int
		b.cer.hooks = &ceremonyHooks{reveal: func(c *ceremonyState, d int, s he.Step, own, peer []byte) []byte {
			if s.Kind == he.StepRelinRound2 {
				r2Seen++
			}
			if d == 0 && s == r1 {
				rush, err := c.hec[0].RushingShare(peer)
				if err != nil {
					t.Error(err)
					return own
				}
				return rush
			}
			return own
		}}
		defer func() { b.cer.hooks = nil }()
		_, err := a.Ceremony(ctxTimeout(t, 5*time.Minute), "beta", 0)
		if !errors.Is(err, he.ErrCommitment) {
			t.Fatalf("ceremony with a rushing answer: %v, want he.ErrCommitment", err)
		}
		t.Logf("rushing answer after the commitment: the ceremony aborted (%v); round-2 shares of the initiator the attacker received: %d", err, r2Seen)
		if r2Seen != 0 {
			t.Errorf("the attacker received %d round-2 shares", r2Seen)
		}
		checkAborted(t, a, b, skipA, skipB, "ceremony-aborted-commitment-broken")
	})

	t.Run("blind rushing share, committed", func(t *testing.T) {
		skipA, skipB := len(records(t, a)), len(records(t, b))
		var victimR2 []byte
		hooks := forgeStep(0, r1, func(c *ceremonyState, _ map[he.Step][]byte) []byte {
			f, err := c.hec[0].ForgeShare(r1, he.ForgeBlindRushing)
			if err != nil {
				t.Error(err)
			}
			return f
		})
		reveal := hooks.reveal
		hooks.reveal = func(c *ceremonyState, d int, s he.Step, own, peer []byte) []byte {
			if d == 0 && s.Kind == he.StepRelinRound2 {
				victimR2 = append([]byte(nil), peer...)
			}
			return reveal(c, d, s, own, peer)
		}
		b.cer.hooks = hooks
		defer func() { b.cer.hooks = nil }()

		// The initiator's side, round by round (the code Node.Ceremony runs), so that its secret
		// share is still there to measure the attack against.
		ctx := ctxTimeout(t, 5*time.Minute)
		p := a.partners["beta"]
		next, _ := a.nextEpoch(ctx, p)
		c, err := a.clientHello(ctx, p, next)
		if err != nil {
			t.Fatal(err)
		}
		err = a.clientRounds(ctx, p, c)
		if victimR2 == nil {
			t.Fatalf("the attacker never received the initiator's round-2 share (%v)", err)
		}
		guess, gerr := he.RecoverFromRound2(ps, victimR2, he.RoleQuerier)
		if gerr != nil {
			t.Fatal(gerr)
		}
		hits, merr := c.hec[0].SecretMatches(guess)
		if merr != nil {
			t.Fatal(merr)
		}
		chance := he.ChanceMatches(ps)
		t.Logf("blind rushing share: the attacker's recovery gets %d of %d coefficients (chance %.0f); the ceremony: %v", hits, n, chance, err)
		if float64(hits) > chance+6*sqrtChance(n) {
			t.Errorf("the attacker recovers %d coefficients, better than chance (%.0f)", hits, chance)
		}
		if !errors.Is(err, he.ErrKeyCheck) {
			t.Fatalf("the ceremony after a blind rushing share: %v, want he.ErrKeyCheck", err)
		}
		a.abortOutgoing(ctx, c, false, err)
		checkAborted(t, a, b, skipA, skipB, "ceremony-aborted-key-check-failed")
	})
}

// sqrtChance is the standard deviation of the number of chance matches among n coefficients.
func sqrtChance(n int) float64 {
	v := float64(n) * 2 / 9
	s := v
	for range 40 {
		s = (s + v/s) / 2
	}
	return s
}

// checkAborted checks the records of an aborted ceremony on both nodes and that epoch 1 is
// still current on both.
func checkAborted(t *testing.T, a, b *testNode, skipA, skipB int, want string) {
	t.Helper()
	if ra := recordsSince(t, a, skipA); !slices.Contains(ra, want) {
		t.Errorf("the initiator recorded %v, want %q", ra, want)
	}
	if rb := recordsSince(t, b, skipB); !slices.Contains(rb, "ceremony-aborted-by-initiator") {
		t.Errorf("the responder recorded %v, want ceremony-aborted-by-initiator", rb)
	}
	if ea, eb := epochs(t, a, b); ea != 1 || eb != 1 {
		t.Errorf("current epochs after the abort: %d and %d, want 1 and 1", ea, eb)
	}
	if pes, err := b.pendingOf(context.Background(), "ab"); err != nil || len(pes) != 0 {
		t.Errorf("the responder holds %d prepared epochs (%v)", len(pes), err)
	}
}

// TestCeremonyMalformedShares: a responder that commits to, and sends, a share no honest party
// sends. Each is refused by the initiator, the ceremony aborts, both audit it, epoch 1 stays.
func TestCeremonyMalformedShares(t *testing.T) {
	t.Parallel()
	a, b := attackPair(t)
	pk := he.Step{Kind: he.StepPublicKey}
	r1 := he.Step{Kind: he.StepRelinRound1}
	gals := a.partners["beta"].ps.GaloisElements(a.partners["beta"].maxDims)
	g1, g2 := he.Step{Kind: he.StepGalois, GaloisElement: gals[0]}, he.Step{Kind: he.StepGalois, GaloisElement: gals[1]}
	forged := func(s he.Step, f he.Forgery) func(c *ceremonyState, _ map[he.Step][]byte) []byte {
		return func(c *ceremonyState, _ map[he.Step][]byte) []byte {
			b, err := c.hec[0].ForgeShare(s, f)
			if err != nil {
				t.Error(err)
			}
			return b
		}
	}
	for _, tc := range []struct {
		name  string
		step  he.Step
		forge func(c *ceremonyState, own map[he.Step][]byte) []byte
		want  error
	}{
		{"all-zero public-key share", pk, forged(pk, he.ForgeZero), he.ErrRejectedShare},
		{"constant relinearization share", r1, forged(r1, he.ForgeConstant), he.ErrRejectedShare},
		{"small rotation-key share", g1, forged(g1, he.ForgeSmall), he.ErrRejectedShare},
		{"wrong size", g1, func(c *ceremonyState, _ map[he.Step][]byte) []byte {
			b, _ := c.hec[0].ForgeShare(g1, he.ForgeSmall)
			return b[:len(b)-5]
		}, he.ErrMalformed},
		{"replay of an earlier share", g2, func(c *ceremonyState, own map[he.Step][]byte) []byte {
			return c.hec[0].RelabelShare(own[g1], g2)
		}, he.ErrRejectedShare},
	} {
		t.Run(tc.name, func(t *testing.T) {
			skipA, skipB := len(records(t, a)), len(records(t, b))
			b.cer.hooks = forgeStep(0, tc.step, tc.forge)
			defer func() { b.cer.hooks = nil }()
			_, err := a.Ceremony(ctxTimeout(t, 5*time.Minute), "beta", 0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			checkAborted(t, a, b, skipA, skipB, "ceremony-aborted-share-refused")
		})
	}
}

// TestCeremonyCRSGrinding: neither party chooses the common reference string. The initiator is
// bound by its commitment in Hello: opening another contribution in CommitSeed aborts the
// ceremony. The responder answers knowing only that commitment: measured over many Hellos,
// a responder that grinds for a CRS seed starting with a zero byte hits it no more often than
// chance (1 in 256), where in version 1, seeing the initiator's contribution first, it hit it
// every time.
func TestCeremonyCRSGrinding(t *testing.T) {
	t.Parallel()
	a, b := attackPair(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	p := a.partners["beta"]

	t.Run("initiator opens another contribution", func(t *testing.T) {
		skipB := len(records(t, b))
		c, err := a.clientHello(ctx, p, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer c.destroy()
		sealed, err := a.sealContribution(c)
		if err != nil {
			t.Fatal(err)
		}
		other := append([]byte(nil), c.crsMine...)
		other[0] ^= 1
		commit := &pb.CommitSeedPayload{CeremonyId: c.id, Commitment: sealed.Commitment, CrsContribution: other}
		cc, _ := a.ceremonyClient(context.Background(), p)
		_, err = callRound(ctx, a.Node, p, pb.CeremonyService_CommitSeed_FullMethodName, c.epoch, commit,
			func(h *pb.RequestHeader, sig []byte) (*pb.CommitSeedResponse, error) {
				return cc.CommitSeed(ctx, &pb.CommitSeedRequest{Header: h, Payload: commit, Signature: sig})
			}, func(r *pb.CommitSeedResponse) proto.Message { return orEmpty(r.Payload) })
		if codeOf(err) != codes.InvalidArgument {
			t.Fatalf("CommitSeed opening another CRS contribution: %v, want InvalidArgument", err)
		}
		if rb := recordsSince(t, b, skipB); !slices.Contains(rb, "ceremony-aborted-crs-not-opened") {
			t.Errorf("the responder recorded %v", rb)
		}
		if ea, eb := epochs(t, a, b); ea != 1 || eb != 1 {
			t.Errorf("current epochs: %d and %d, want 1 and 1", ea, eb)
		}
	})

	t.Run("responder grinds", func(t *testing.T) {
		// The responder's best effort: it sees the commitment only, so it tries contributions
		// derived from it; whatever it does, the CRS depends on the hidden contribution.
		grind := func(commitment, crs []byte) []byte {
			h := sha256.Sum256(append(append([]byte(nil), commitment...), crs...))
			return h[:]
		}
		const tries = 64
		// Many more Hellos than the default ceremony limit answers.
		appendFile(t, filepath.Join(b.home, "policy.hcl"), fmt.Sprintf("\nlimits {\n  ceremonies = \"%d per 24h\"\n}\n", 2*tries))
		b.restart(t)
		b.cer.hooks = &ceremonyHooks{crs: grind}
		defer func() { b.cer.hooks = nil }()
		hits, control := 0, 0
		for i := range tries {
			c, err := a.clientHello(ctx, p, 2)
			if err != nil {
				t.Fatal(err)
			}
			if c.crs[0][0] == 0 {
				hits++
			}
			// Version 1's responder saw crs_I first and could try contributions until the seed
			// started with a zero byte: it takes about 256 tries and always succeeds.
			for k := range 4096 {
				crsR := sha256.Sum256([]byte{byte(i), byte(k), byte(k >> 8)})
				seed, _ := crsSeed(c.crsMine, crsR[:], c.id, pb.KeySetDirection_KEY_SET_DIRECTION_INITIATOR_QUERIES)
				if seed[0] == 0 {
					control++
					break
				}
			}
			c.destroy()
			if err := a.sendAbort(ctx, p, c.id, c.epoch, "test"); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("CRS grinding for a zero first byte over %d ceremonies: responder that sees only the commitment %d (chance %.2f); with the initiator's contribution in hand (version 1) %d",
			tries, hits, float64(tries)/256, control)
		if hits > 4 { // P(Binomial(64, 1/256) > 4) < 1e-5
			t.Errorf("the grinding responder hit its target %d times in %d, chance is about 1", hits, tries)
		}
		if control < tries*9/10 {
			t.Errorf("the control grinding succeeded only %d times in %d", control, tries)
		}
	})
}
