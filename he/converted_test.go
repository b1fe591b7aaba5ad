//go:build puente_testparams

package he_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

// TestShardCountConvertedAsKept: a shard's Count (he/shard.go) from blocks
// converted during the search, and from a gallery with one block kept and
// the partial last block converted, equals byte for byte the Count from
// blocks all kept, at m = 128 with one worker and with four (the giant
// steps split between two scorers).
func TestShardCountConvertedAsKept(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	const m = 128
	S := ps.Slots()
	n := S + 100
	rng := rand.New(rand.NewPCG(51, 52))
	gal := hetest.UnitVectors(rng, n, m)
	probe := hetest.UnitVector(rng, m)
	gal[S+3] = perf.WithScore(rng, probe, 0.9)
	_, block := ps.PackedBytes(n, m)
	gs := packBudgets(t, ps, m, gal, -1, 0, block)
	if gs[0].NTTBlocks() != 2 || gs[1].NTTBlocks() != 0 || gs[2].NTTBlocks() != 1 {
		t.Fatalf("NTT blocks %d, %d, %d; want 2, 0, 1", gs[0].NTTBlocks(), gs[1].NTTBlocks(), gs[2].NTTBlocks())
	}
	q, err := f.qr.EncryptProbe(probe, hetest.Reader(500))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.r.Prepare(q, hetest.Reader(501))
	if err != nil {
		t.Fatal(err)
	}
	shard, err := he.NewShardEvaluator(f.keys.Eval)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 4} {
		var bs [3][]byte
		for i, g := range gs {
			pt, err := shard.Count(context.Background(), p, g, he.Options{Threshold: he.Threshold{Tau: 0.5}, Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			bs[i], _ = pt.MarshalBinary()
		}
		if !bytes.Equal(bs[0], bs[1]) || !bytes.Equal(bs[0], bs[2]) {
			t.Errorf("%d workers: partials differ: converted %v, mixed %v (equal to kept)", workers, bytes.Equal(bs[0], bs[1]), bytes.Equal(bs[0], bs[2]))
		}
	}
}

// TestConvertedAsKeptM512: the same at m = 512 (its own key set), Respond.
func TestConvertedAsKeptM512(t *testing.T) {
	if testing.Short() {
		t.Skip("a ceremony of its own")
	}
	ps := hetest.InsecureN12()
	keys := hetest.Ceremony(t, ps, 512, hetest.Reader(61), hetest.Reader(62))
	qr, err := he.NewQuerier(keys.Querier)
	if err != nil {
		t.Fatal(err)
	}
	r, err := he.NewResponder(keys.Eval, keys.Responder)
	if err != nil {
		t.Fatal(err)
	}
	const m = 512
	S := ps.Slots()
	n := S + 7
	rng := rand.New(rand.NewPCG(71, 72))
	gal := hetest.UnitVectors(rng, n, m)
	probe := hetest.UnitVector(rng, m)
	gs := packBudgets(t, ps, m, gal, -1, 0)
	q, err := qr.EncryptProbe(probe, hetest.Reader(700))
	if err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, r, q, gs, he.Options{Threshold: he.Threshold{Tau: 0.5}}, 701)
}

// TestConvertedBlocksAnswerAsKept answers the same query, with the same
// randomness, from a gallery whose blocks are all kept in NTT form and from
// the same gallery converted during the search (diagonals in the lazy,
// non-Montgomery form of diagNTTLazy, the factor restored once per sum):
// the answers must be equal byte for byte, with one worker and with four.
func TestConvertedBlocksAnswerAsKept(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	const m = 32
	S := ps.Slots()
	n := S + S/2
	rng := rand.New(rand.NewPCG(41, 42))
	gal := hetest.UnitVectors(rng, n, m)
	probe := hetest.UnitVector(rng, m)
	gal[S+9] = perf.WithScore(rng, probe, 0.95)
	gs := packBudgets(t, ps, m, gal, -1, 0)
	if gs[0].NTTBlocks() != gs[0].Blocks() || gs[1].NTTBlocks() != 0 {
		t.Fatalf("%d and %d of %d blocks in NTT form, want all and none", gs[0].NTTBlocks(), gs[1].NTTBlocks(), gs[0].Blocks())
	}
	q, err := f.qr.EncryptProbe(probe, hetest.Reader(400))
	if err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, f.r, q, gs, onebitOpts(), 401)
}

// packBudgets packs gal once per NTT memory budget.
func packBudgets(t *testing.T, ps *he.ParamSet, m int, gal [][]float64, budgets ...int64) []*he.Gallery {
	t.Helper()
	var gs []*he.Gallery
	for _, budget := range budgets {
		g, err := he.Pack(ps, m, gal, he.PackOptions{MemoryBudget: budget})
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
	return gs
}

// sameAnswers requires r's answers to q from gs[1:], with the randomness of
// seed, to equal its answer from gs[0] (every block kept) byte for byte, with
// one worker and with four.
func sameAnswers(t *testing.T, r *he.Responder, q *he.Query, gs []*he.Gallery, opts he.Options, seed uint64) {
	t.Helper()
	for _, workers := range []int{1, 4} {
		opts.Workers = workers
		var want []byte
		for i, g := range gs {
			a, _, err := r.Respond(context.Background(), q, g, opts, hetest.Reader(seed))
			if err != nil {
				t.Fatalf("%d workers: %v", workers, err)
			}
			b, _ := a.MarshalBinary()
			if i == 0 {
				want = b
			} else if !bytes.Equal(b, want) {
				t.Errorf("%d workers: the answer from gallery %d (%d of %d blocks in NTT form) differs from the answer from kept blocks", workers, i, g.NTTBlocks(), g.Blocks())
			}
		}
	}
}
