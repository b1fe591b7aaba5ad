//go:build puente_testparams

package he_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
	"github.com/puente-id/puente/opening"
)

// sharded answers q over the partitions parts, each counted by its own
// shard evaluator through the wire encodings of the probe and the
// partials, and opens the answer.
func (f *fixture) sharded(t *testing.T, q *he.Query, parts []*he.Gallery, th he.Threshold, seed uint64) outcome {
	t.Helper()
	p, err := f.r.Prepare(q, hetest.Reader(seed+10))
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	pb, _ := p.MarshalBinary()
	shard, err := he.NewShardEvaluator(f.keys.Eval)
	if err != nil {
		t.Fatal(err)
	}
	var partials []*he.Partial
	blocks := 0
	for _, g := range parts {
		p2, err := he.ReadProbe(f.ps, pb)
		if err != nil {
			t.Fatalf("read probe: %v", err)
		}
		pt, err := shard.Count(context.Background(), p2, g, he.Options{Threshold: th})
		if err != nil {
			t.Fatalf("count: %v", err)
		}
		b, _ := pt.MarshalBinary()
		pt2, err := he.ReadPartial(f.ps, b)
		if err != nil {
			t.Fatalf("read partial: %v", err)
		}
		partials = append(partials, pt2)
		blocks += pt2.Blocks()
	}
	ans, sec, err := f.r.Finish(q, p, partials, hetest.Reader(seed+11))
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	return f.open(t, q, ans, sec, blocks, seed)
}

// open opens an answer as the querier would, and reads (the test's view)
// the count and norm the shares held.
func (f *fixture) open(t *testing.T, q *he.Query, ans *he.Answer, sec *opening.Secrets, blocks int, seed uint64) outcome {
	t.Helper()
	ab, _ := ans.MarshalBinary()
	ans2, err := he.ReadAnswer(f.ps, ab)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	x, err := f.qr.Shares(q, ans2)
	if err != nil {
		t.Fatalf("shares: %v", err)
	}
	o := outcome{x: x}
	o.count, o.norm, o.padding = he.PlainCounts(f.ps, sec, x, blocks, padOf(q.Dims()))
	op := f.ps.OpeningParams()
	session := q.Digest()
	gb, msg, err := opening.Garble(op, sec, session[:], hetest.Reader(seed+2))
	if err != nil {
		t.Fatalf("garble: %v", err)
	}
	ev, req, err := opening.NewEvaluator(op, session[:], msg, x, hetest.Reader(seed+3))
	if err != nil {
		t.Fatalf("evaluator: %v", err)
	}
	tr, err := gb.Transfer(req, hetest.Reader(seed+4))
	if err != nil {
		t.Fatalf("transfer: %v", err)
	}
	if o.hit, err = ev.Finish(tr); err != nil {
		t.Fatalf("finish: %v", err)
	}
	return o
}

// TestShardedMatchesUnsharded splits galleries over shards (some of them
// empty) and checks that the sharded answer opens to the same decision as
// the single-process one, with the same count.
func TestShardedMatchesUnsharded(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	S := ps.Slots()
	th := he.Threshold{Tau: 0.5}
	band := th.Band(ps)
	cases := []struct {
		name    string
		n, m    int
		shards  int
		planted map[int]float64
	}{
		{"mated search, 4 shards", 2*S + 100, 64, 4, map[int]float64{S + 7: 0.9}},
		{"non-mated search, 4 shards", 2*S + 100, 64, 4, map[int]float64{S + 7: th.Tau - 2*band}},
		{"three hits on three shards", 3000, 128, 4, map[int]float64{1: 0.8, 2: 0.9, 2999: 0.6}},
		{"verify: one entry, the other shards empty", 1, 128, 4, map[int]float64{0: 0.95}},
		{"verify non-mated", 1, 128, 4, map[int]float64{0: th.Tau - 2*band}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if testing.Short() && i%2 == 1 {
				t.Skip("-short: every other case")
			}
			rng := rand.New(rand.NewPCG(uint64(c.n), uint64(i)))
			gal, probe := galleryWithScores(rng, c.n, c.m, c.planted)
			_, exact, inBand := plainCount(ps, th, probe, gal)
			if inBand != 0 {
				t.Fatalf("test gallery has %d scores in the band", inBand)
			}
			whole, err := he.Pack(ps, c.m, gal, he.PackOptions{MemoryBudget: -1})
			if err != nil {
				t.Fatal(err)
			}
			split := make([][][]float64, c.shards)
			for k, g := range gal {
				split[k%c.shards] = append(split[k%c.shards], g)
			}
			var parts []*he.Gallery
			for _, s := range split {
				if len(s) == 0 {
					parts = append(parts, nil)
					continue
				}
				g, err := he.Pack(ps, c.m, s, he.PackOptions{MemoryBudget: -1})
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, g)
			}
			q, err := f.qr.EncryptProbe(probe, hetest.Reader(uint64(200+i)))
			if err != nil {
				t.Fatal(err)
			}
			one := f.answer(t, q, whole, he.Options{Threshold: th}, uint64(300+i))
			sh := f.sharded(t, q, parts, th, uint64(400+i))
			if one.hit != (exact > 0) || sh.hit != one.hit {
				t.Errorf("decisions: sharded %v, unsharded %v, plaintext %d entries at or above tau", sh.hit, one.hit, exact)
			}
			if math.Abs(sh.count-float64(exact)) > 0.01 || math.Abs(sh.norm-1) > 1e-3 {
				t.Errorf("sharded shares hold count %.4f, norm %.6f; want %d, 1", sh.count, sh.norm, exact)
			}
		})
	}
}

// TestShardedRefusesForeignPartials: a partial made for another probe, or
// none at all, is refused, never summed.
func TestShardedRefusesForeignPartials(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	rng := rand.New(rand.NewPCG(5, 5))
	gal, probe := galleryWithScores(rng, 10, 64, map[int]float64{3: 0.9})
	g, err := he.Pack(ps, 64, gal, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.qr.EncryptProbe(probe, hetest.Reader(1))
	if err != nil {
		t.Fatal(err)
	}
	p1, err := f.r.Prepare(q, hetest.Reader(2))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := f.r.Prepare(q, hetest.Reader(3))
	if err != nil {
		t.Fatal(err)
	}
	shard, err := he.NewShardEvaluator(f.keys.Eval)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := shard.Count(context.Background(), p2, g, he.Options{Threshold: he.Threshold{Tau: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.r.Finish(q, p1, []*he.Partial{pt}, hetest.Reader(4)); !isMismatch(err) {
		t.Errorf("partial of another probe: got %v, want a mismatch", err)
	}
	if _, _, err := f.r.Finish(q, p1, nil, hetest.Reader(4)); err == nil {
		t.Error("no partials: answered")
	}
	q2, err := f.qr.EncryptProbe(probe, hetest.Reader(9))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.r.Finish(q2, p1, []*he.Partial{pt}, hetest.Reader(4)); !isMismatch(err) {
		t.Errorf("probe of another query: got %v, want a mismatch", err)
	}
}

// TestShardWireRefusesBadInput: truncated, extended and bit-flipped
// encodings of probes and partials are refused without a panic.
func TestShardWireRefusesBadInput(t *testing.T) {
	ps := hetest.InsecureN12()
	f := getFixture(t, ps)
	probe := hetest.UnitVector(rand.New(rand.NewPCG(1, 2)), 64)
	q, err := f.qr.EncryptProbe(probe, hetest.Reader(1))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.r.Prepare(q, hetest.Reader(2))
	if err != nil {
		t.Fatal(err)
	}
	shard, _ := he.NewShardEvaluator(f.keys.Eval)
	pt, err := shard.Count(context.Background(), p, nil, he.Options{Threshold: he.Threshold{Tau: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := p.MarshalBinary()
	tb, _ := pt.MarshalBinary()
	for name, b := range map[string][]byte{"probe": pb, "partial": tb} {
		read := func(b []byte) error {
			if name == "probe" {
				_, err := he.ReadProbe(ps, b)
				return err
			}
			_, err := he.ReadPartial(ps, b)
			return err
		}
		if err := read(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, bad := range [][]byte{b[:len(b)-1], append(append([]byte(nil), b...), 0), b[:10], nil} {
			if err := read(bad); err == nil {
				t.Errorf("%s of %d bytes accepted", name, len(bad))
			}
		}
		c := append([]byte(nil), b...)
		c[len(c)-1] = 0xff // the last residue's top bits: not reduced
		c[len(c)-2] = 0xff
		_ = read(c) // may or may not be reduced; must not panic
		if err := read(pb); name == "partial" && err == nil {
			t.Error("a probe read as a partial")
		}
	}
}
