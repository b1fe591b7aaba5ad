// Package hetest provides helpers for testing code built on package he and,
// in builds with the tag puente_testparams only, small INSECURE parameter
// sets.
//
// The INSECURE sets (insecure.go) have the same level structure and
// threshold polynomial as the production set but a ring degree far too
// small for their modulus: they offer no security at all and exist only to
// make tests fast. They compile only with -tags puente_testparams, package
// he refuses to build any insecure set without that tag, and [he.Lookup]
// never returns one. A binary built without the tag cannot load them.
package hetest

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/opening"
)

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Keys is the outcome of an in-process ceremony for one direction.
type Keys struct {
	Querier   *he.SecretShare
	Responder *he.SecretShare
	Eval      *he.EvaluationKeys
}

// Ceremony runs both sides of a key ceremony in process, with randomness
// from rnd for the querier and rnd2 for the responder.
func Ceremony(t TB, ps *he.ParamSet, maxDims int, rnd, rnd2 io.Reader) Keys {
	t.Helper()
	var crs he.KeySetID
	if _, err := io.ReadFull(rnd, crs[:]); err != nil {
		t.Fatalf("crs: %v", err)
	}
	q, err := he.NewCeremony(ps, he.RoleQuerier, maxDims, crs, rnd)
	if err != nil {
		t.Fatalf("querier ceremony: %v", err)
	}
	r, err := he.NewCeremony(ps, he.RoleResponder, maxDims, crs, rnd2)
	if err != nil {
		t.Fatalf("responder ceremony: %v", err)
	}
	if err := Exchange(q, r); err != nil {
		t.Fatalf("ceremony: %v", err)
	}
	var k Keys
	if k.Querier, err = q.SecretShare(); err != nil {
		t.Fatalf("querier share: %v", err)
	}
	if k.Responder, err = r.SecretShare(); err != nil {
		t.Fatalf("responder share: %v", err)
	}
	if k.Eval, err = r.EvaluationKeys(); err != nil {
		t.Fatalf("evaluation keys: %v", err)
	}
	return k
}

// Exchange runs every step of two ceremonies of the same key set the way
// the protocol swaps shares: both parties commit to every share of a round,
// then reveal them step by step in the canonical order, a's first.
func Exchange(a, b *he.Ceremony) error {
	return ExchangeFunc(a, b, nil)
}

// ExchangeFunc is Exchange with a callback that sees each step's two
// messages (a's, then b's) as they are swapped.
func ExchangeFunc(a, b *he.Ceremony, saw func(s he.Step, fromA, fromB []byte)) error {
	id := a.KeySetID()
	for _, r := range []he.Round{he.Round1, he.Round2} {
		bind := append(id[:], byte(r))
		ca, err := a.Commit(r, bind)
		if err != nil {
			return err
		}
		cb, err := b.Commit(r, bind)
		if err != nil {
			return err
		}
		if err := a.PeerCommitments(r, cb); err != nil {
			return err
		}
		if err := b.PeerCommitments(r, ca); err != nil {
			return err
		}
		for _, s := range a.RoundSteps(r) {
			sa, err := a.Reveal(s)
			if err != nil {
				return err
			}
			if err := b.Absorb(s, sa); err != nil {
				return err
			}
			sb, err := b.Reveal(s)
			if err != nil {
				return err
			}
			if err := a.Absorb(s, sb); err != nil {
				return err
			}
			if saw != nil {
				saw(s, sa, sb)
			}
		}
	}
	if !a.Done() || !b.Done() {
		return fmt.Errorf("ceremony not done after every step")
	}
	return nil
}

// UnitVectors returns n uniformly random unit vectors of dims coordinates.
func UnitVectors(rng *rand.Rand, n, dims int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = UnitVector(rng, dims)
	}
	return out
}

// GaussianVectors returns n vectors of dims independent standard normal coordinates: raw
// feature vectors, not normalised, as a node receives them.
func GaussianVectors(rng *rand.Rand, n, dims int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, dims)
		for j := range out[i] {
			out[i][j] = rng.NormFloat64()
		}
	}
	return out
}

// UnitVector returns a uniformly random unit vector.
func UnitVector(rng *rand.Rand, dims int) []float64 {
	v := GaussianVectors(rng, 1, dims)[0]
	var s float64
	for _, x := range v {
		s += x * x
	}
	s = math.Sqrt(s)
	for j := range v {
		v[j] /= s
	}
	return v
}

// Reader returns a deterministic randomness source for tests.
func Reader(seed uint64) io.Reader {
	return &chachaReader{rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})}
}

type chachaReader struct{ c *rand.ChaCha8 }

func (r *chachaReader) Read(p []byte) (int, error) { return r.c.Read(p) }

// Open runs the querier's and the responder's opening of answer a (the garbled circuit and the
// oblivious transfer, randomness from seed, seed+1 and seed+2) and returns the querier's
// decision.
func Open(t TB, ps *he.ParamSet, qr *he.Querier, q *he.Query, a *he.Answer, sec *opening.Secrets, seed uint64) bool {
	t.Helper()
	x, err := qr.Shares(q, a)
	if err != nil {
		t.Fatalf("shares: %v", err)
	}
	op := ps.OpeningParams()
	session := q.Digest()
	gb, msg, err := opening.Garble(op, sec, session[:], Reader(seed))
	if err != nil {
		t.Fatalf("garble: %v", err)
	}
	ev, req, err := opening.NewEvaluator(op, session[:], msg, x, Reader(seed+1))
	if err != nil {
		t.Fatalf("evaluator: %v", err)
	}
	tr, err := gb.Transfer(req, Reader(seed+2))
	if err != nil {
		t.Fatalf("transfer: %v", err)
	}
	hit, err := ev.Finish(tr)
	if err != nil {
		t.Fatalf("opening: %v", err)
	}
	return hit
}
