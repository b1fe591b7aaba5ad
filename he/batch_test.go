//go:build puente_testparams

package he_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/internal/perf"
)

// TestRespondBatch answers four queries in one batch (two hits in
// different blocks, a miss, and the first probe again) against a gallery
// of two blocks: converted during the search with four workers (each block
// splits its giant steps between two scorers), one block kept in NTT form
// and the other converted with one worker, and (not with -short) every
// block kept, where the queries are evaluated one after the other. Each
// answer must equal, byte for byte, the answer Respond gives to that query
// alone with the same randomness: what a query receives does not depend
// on the other queries of its batch. Each answer's opening must decide as
// the plaintext does.
func TestRespondBatch(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	const m = 32
	S := ps.Slots()
	n := S + S/3
	rng := rand.New(rand.NewPCG(31, 32))
	gal := hetest.UnitVectors(rng, n, m)
	probes := [][]float64{hetest.UnitVector(rng, m), hetest.UnitVector(rng, m), hetest.UnitVector(rng, m)}
	gal[7] = perf.WithScore(rng, probes[0], 0.95)
	gal[S+5] = perf.WithScore(rng, probes[1], 0.93)
	probes = append(probes, probes[0])
	_, block := ps.PackedBytes(n, m)
	cases := []struct {
		budget    int64
		workers   int
		nttBlocks int
	}{{0, 4, 0}, {block, 1, 1}, {-1, 0, 2}}
	if testing.Short() {
		cases = cases[:1]
	}
	for _, c := range cases {
		g, err := he.Pack(ps, m, gal, he.PackOptions{MemoryBudget: c.budget})
		if err != nil {
			t.Fatal(err)
		}
		if g.NTTBlocks() != c.nttBlocks {
			t.Fatalf("budget %d: %d blocks in NTT form, want %d", c.budget, g.NTTBlocks(), c.nttBlocks)
		}
		// Each query of a batch holds its baby steps (top-level ciphertexts) while the batch
		// converts blocks; nothing more when every block is kept.
		info := ps.Info()
		held := int64(g.BabySteps()) * 2 * int64(len(info.QPrimes)) * int64(1<<info.LogN) * 8
		if c.nttBlocks == g.Blocks() {
			held = 0
		}
		if got := g.BatchQueryBytes(); got != held {
			t.Errorf("budget %d: BatchQueryBytes %d, want %d", c.budget, got, held)
		}
		opts := onebitOpts()
		opts.Workers = c.workers
		qs := make([]*he.Query, len(probes))
		for i, p := range probes {
			if qs[i], err = f.qr.EncryptProbe(p, hetest.Reader(uint64(100+i))); err != nil {
				t.Fatal(err)
			}
		}
		answers, secrets, err := f.r.RespondBatch(context.Background(), qs, g, opts, hetest.Reader(200))
		if err != nil {
			t.Fatalf("budget %d: batch: %v", c.budget, err)
		}
		if len(answers) != len(qs) || len(secrets) != len(qs) {
			t.Fatalf("budget %d: %d answers, %d secrets for %d queries", c.budget, len(answers), len(secrets), len(qs))
		}
		for i, q := range qs {
			// Query i's randomness is the i-th 64-byte seed of the batch's stream.
			rd := hetest.Reader(200)
			if _, err := io.CopyN(io.Discard, rd, int64(64*i)); err != nil {
				t.Fatal(err)
			}
			alone, _, err := f.r.Respond(context.Background(), q, g, opts, rd)
			if err != nil {
				t.Fatalf("budget %d, query %d alone: %v", c.budget, i, err)
			}
			ab, _ := answers[i].MarshalBinary()
			want, _ := alone.MarshalBinary()
			if !bytes.Equal(ab, want) {
				t.Errorf("budget %d, %d workers, query %d: the batch's answer differs from the answer to the query alone", c.budget, c.workers, i)
			}
			_, exact, _ := plainCount(ps, opts.Threshold, probes[i], gal)
			if o := f.open(t, q, answers[i], secrets[i], g.Blocks(), uint64(300+10*i)); o.hit != (exact > 0) {
				t.Errorf("budget %d, %d workers, query %d: decision %v, plaintext count %d", c.budget, c.workers, i, o.hit, exact)
			}
		}
	}
}

// TestRespondBatchRefuses checks the batch's bounds and that one bad query
// fails the whole batch with the error naming what was wrong.
func TestRespondBatchRefuses(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(41, 42))
	g, err := he.Pack(ps, 16, hetest.UnitVectors(rng, 50, 16), he.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.qr.EncryptProbe(hetest.UnitVector(rng, 16), hetest.Reader(1))
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.qr.EncryptProbe(hetest.UnitVector(rng, 32), hetest.Reader(2))
	if err != nil {
		t.Fatal(err)
	}
	many := make([]*he.Query, he.MaxBatch+1)
	for i := range many {
		many[i] = q
	}
	for _, c := range []struct {
		name string
		qs   []*he.Query
		want string
	}{
		{"empty", nil, "0 queries in a batch"},
		{"too many", many, "17 queries in a batch"},
		{"nil query", []*he.Query{q, nil}, "nil query"},
	} {
		if _, _, err := f.r.RespondBatch(context.Background(), c.qs, g, onebitOpts(), hetest.Reader(3)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if _, _, err := f.r.RespondBatch(context.Background(), []*he.Query{q, other}, g, onebitOpts(), hetest.Reader(3)); !errors.Is(err, he.ErrMismatch) {
		t.Errorf("a query of other dims in the batch: %v, want ErrMismatch", err)
	}
}
