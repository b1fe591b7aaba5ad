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
	var gs []*he.Gallery
	for _, budget := range []int64{-1, 0, block} {
		g, err := he.Pack(ps, m, gal, he.PackOptions{MemoryBudget: budget})
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
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
	var gs []*he.Gallery
	for _, budget := range []int64{-1, 0} {
		g, err := he.Pack(ps, m, gal, he.PackOptions{MemoryBudget: budget})
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
	q, err := qr.EncryptProbe(probe, hetest.Reader(700))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 4} {
		var bs [2][]byte
		for i, g := range gs {
			a, _, err := r.Respond(context.Background(), q, g, he.Options{Threshold: he.Threshold{Tau: 0.5}, Workers: workers}, hetest.Reader(701))
			if err != nil {
				t.Fatal(err)
			}
			bs[i], _ = a.MarshalBinary()
		}
		if !bytes.Equal(bs[0], bs[1]) {
			t.Errorf("m = 512, %d workers: the answer from converted blocks differs from kept", workers)
		}
	}
}
