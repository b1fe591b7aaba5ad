package perf

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/opening"
)

// Size is one gallery configuration: N templates of m = Dims coordinates.
type Size struct {
	N    int `json:"n"`
	Dims int `json:"m"`
}

func (s Size) String() string { return fmt.Sprintf("N=%d/m=%d", s.N, s.Dims) }

// MatchScore is the score of the one gallery entry the probe of a
// synthetic gallery matches; DefaultTau is the threshold searches use.
const (
	MatchScore = 0.95
	DefaultTau = 0.9
)

// Gallery is a synthetic gallery, its packing, and a probe that matches
// exactly one entry.
type Gallery struct {
	Size   Size
	Plain  [][]float32 // the templates, unit vectors, exactly as packed
	Probe  []float64   // scores MatchScore against Plain[Match]
	Match  int
	Packed *he.Gallery
	Pack   time.Duration // wall time of he.Pack
}

// NewGallery draws size.N random unit vectors and a probe matching entry
// N/2 (randomness from seed) and packs them for ps with opts.
//
// The templates are rounded to float32, the precision nodes enrol, before
// they are packed, and kept only in float32 for the plaintext scan: the
// scan reads exactly what was packed, in half the memory of float64 (at
// N = 10^6 and m = 128, 0.5 GiB of the benchmark's resident set rather
// than 1 GiB).
func NewGallery(ps *he.ParamSet, size Size, seed uint64, opts he.PackOptions) (*Gallery, error) {
	if size.N < 1 || size.Dims < 1 {
		return nil, fmt.Errorf("perf: gallery %v: N and m must be at least 1", size)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(size.N)<<16|uint64(size.Dims)))
	g := &Gallery{Size: size, Match: size.N / 2}
	rows := make([][]float64, size.N)
	for i := range rows {
		rows[i] = UnitVector(rng, size.Dims)
		for j, x := range rows[i] {
			rows[i][j] = float64(float32(x))
		}
	}
	g.Probe = WithScore(rng, rows[g.Match], MatchScore)
	start := time.Now()
	var err error
	if g.Packed, err = he.Pack(ps, size.Dims, rows, opts); err != nil {
		return nil, fmt.Errorf("perf: gallery %v: %w", size, err)
	}
	g.Pack = time.Since(start)
	g.Plain = Float32(rows)
	return g, nil
}

// Near returns v plus Gaussian noise of the given size relative to v's
// coordinates (rms): a mated sample of the subject v.
func Near(rng *rand.Rand, v []float64, noise float64) []float64 {
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	s := noise * math.Sqrt(norm/float64(len(v)))
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x + s*rng.NormFloat64()
	}
	return out
}

// Float32 converts templates to the float32 features nodes enrol.
// The rows share one backing array.
func Float32(v [][]float64) [][]float32 {
	n := 0
	for _, r := range v {
		n += len(r)
	}
	buf := make([]float32, n)
	out := make([][]float32, len(v))
	for i, r := range v {
		out[i], buf = buf[:len(r):len(r)], buf[len(r):]
		for j, x := range r {
			out[i][j] = float32(x)
		}
	}
	return out
}

// UnitVector returns a uniformly random unit vector of dims coordinates.
func UnitVector(rng *rand.Rand, dims int) []float64 {
	v := make([]float64, dims)
	for j := range v {
		v[j] = rng.NormFloat64()
	}
	n := math.Sqrt(dot(v, v))
	for j := range v {
		v[j] /= n
	}
	return v
}

// WithScore returns a random unit vector whose inner product with the unit
// vector p is s (up to rounding), for |s| < 1.
func WithScore(rng *rand.Rand, p []float64, s float64) []float64 {
	o := UnitVector(rng, len(p))
	d := dot(o, p)
	for i := range o {
		o[i] -= d * p[i]
	}
	n := math.Sqrt(dot(o, o))
	out := make([]float64, len(p))
	for i := range out {
		out[i] = s*p[i] + math.Sqrt(1-s*s)*o[i]/n
	}
	return out
}

func dot(a, b []float64) (s float64) {
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// PlainScan is the plaintext baseline of a search: every score of the
// probe against the gallery (float32 or float64 templates) computed in
// float64, thresholded at tau and counted.
func PlainScan[T float32 | float64](gal [][]T, probe []float64, tau float64) int {
	n := 0
	for _, g := range gal {
		var s float64
		for i, x := range g {
			s += float64(x) * probe[i]
		}
		if s >= tau {
			n++
		}
	}
	return n
}

// TimePlainScan runs PlainScan at least 3 times and until minTotal has
// passed, and returns the mean wall time of one scan, the number of scans
// and the count.
func TimePlainScan[T float32 | float64](gal [][]T, probe []float64, tau float64, minTotal time.Duration) (per time.Duration, reps, count int) {
	start := time.Now()
	for reps < 3 || time.Since(start) < minTotal {
		count = PlainScan(gal, probe, tau)
		reps++
	}
	return time.Since(start) / time.Duration(reps), reps, count
}

// Parties are the querier and the responder of one key set.
type Parties struct {
	ps        *he.ParamSet
	Querier   *he.Querier
	Responder *he.Responder
}

// NewParties makes both parties from the keys of one ceremony.
func NewParties(k *Keys) (*Parties, error) {
	qr, err := he.NewQuerier(k.Querier)
	if err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	r, err := he.NewResponder(k.Eval, k.Responder)
	if err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	return &Parties{ps: k.Eval.ParamSet(), Querier: qr, Responder: r}, nil
}

// SearchSample is one encrypted search, timed by phase.
type SearchSample struct {
	// Encrypt is the querier's probe encryption and query encoding.
	Encrypt time.Duration
	// Search and SearchCPU are the responder's work: reading and checking
	// the query, the evaluation, its answer, the garbling of the opening and
	// the oblivious transfer of the querier's labels.
	Search, SearchCPU time.Duration
	// Decide is the querier's: reading the answer, its shares, the transfer
	// request and the evaluation of the garbled circuit.
	Decide time.Duration
	// QueryBytes is what the querier sends (query and transfer request),
	// ResponseBytes what the responder sends (answer, garbled circuit and
	// transfer answer).
	QueryBytes, ResponseBytes int
	Hit                       bool
}

// Search runs one search of probe against g through the wire encodings,
// with the query's and the answer's randomness drawn from seed (a new
// seed for every query: a query is never answered twice with the same
// randomness).
func (p *Parties) Search(ctx context.Context, g *he.Gallery, probe []float64, opts he.Options, seed uint64) (SearchSample, error) {
	s, search, cpu, err := p.SearchBatch(ctx, g, [][]float64{probe}, opts, seed)
	if err != nil {
		return SearchSample{}, err
	}
	s[0].Search, s[0].SearchCPU = search, cpu
	return s[0], nil
}

// SearchBatch runs one search per probe, the responder answering them as
// one batch (he.Responder.RespondBatch), each through the wire encodings
// and its own opening. Sample i holds probe i's own figures (its Search
// and SearchCPU are left zero); search and cpu are the responder's work for
// the whole batch. Randomness is drawn from seed as in Search, which is a
// batch of one.
func (p *Parties) SearchBatch(ctx context.Context, g *he.Gallery, probes [][]float64, opts he.Options, seed uint64) (samples []SearchSample, search, cpu time.Duration, err error) {
	samples = make([]SearchSample, len(probes))
	qs := make([]*he.Query, len(probes))
	qbs := make([][]byte, len(probes))
	for i, probe := range probes {
		start := time.Now()
		if qs[i], err = p.Querier.EncryptProbe(probe, Reader("query", probeSeed(seed, i))); err != nil {
			return nil, 0, 0, fmt.Errorf("perf: encrypt probe: %w", err)
		}
		qbs[i], _ = qs[i].MarshalBinary()
		samples[i].Encrypt, samples[i].QueryBytes = time.Since(start), len(qbs[i])
	}

	clock := Start()
	answers, garblers, err := p.respond(ctx, g, qs, qbs, opts, seed)
	defer func() {
		for _, gb := range garblers {
			gb.Destroy() // a no-op after Transfer
		}
	}()
	if err != nil {
		return nil, 0, 0, err
	}
	search, cpu = clock.Elapsed()

	op := p.ps.OpeningParams()
	evs := make([]*opening.Evaluator, len(qs))
	reqs := make([][]byte, len(qs))
	for i, q := range qs {
		start := time.Now()
		ra, err := he.ReadAnswer(p.ps, answers[i].bytes)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("perf: read answer: %w", err)
		}
		x, err := p.Querier.Shares(q, ra)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("perf: shares: %w", err)
		}
		session := q.Digest()
		if evs[i], reqs[i], err = opening.NewEvaluator(op, session[:], answers[i].gc, x, Reader("evaluate", probeSeed(seed, i))); err != nil {
			return nil, 0, 0, fmt.Errorf("perf: opening: %w", err)
		}
		samples[i].Decide = time.Since(start)
	}

	clock = Start()
	trs := make([][]byte, len(qs))
	for i, gb := range garblers {
		if trs[i], err = gb.Transfer(reqs[i], Reader("transfer", probeSeed(seed, i))); err != nil {
			return nil, 0, 0, fmt.Errorf("perf: transfer: %w", err)
		}
	}
	t2, c2 := clock.Elapsed()
	search, cpu = search+t2, cpu+c2

	for i, ev := range evs {
		start := time.Now()
		s := &samples[i]
		if s.Hit, err = ev.Finish(trs[i]); err != nil {
			return nil, 0, 0, fmt.Errorf("perf: opening: %w", err)
		}
		s.Decide += time.Since(start)
		s.QueryBytes += len(reqs[i])
		s.ResponseBytes = len(answers[i].bytes) + len(answers[i].gc) + len(trs[i])
	}
	return samples, search, cpu, nil
}

// sentAnswer is what the responder sends first for one query: the encoded
// answer and the garbled circuit that opens it.
type sentAnswer struct{ bytes, gc []byte }

// respond is the responder's first step of SearchBatch: it reads the
// encoded queries qbs, answers them as one batch and garbles each answer's
// opening. The garblers it returns, even with an error, are the caller's to
// destroy; every opening secret is destroyed here.
func (p *Parties) respond(ctx context.Context, g *he.Gallery, qs []*he.Query, qbs [][]byte, opts he.Options, seed uint64) ([]sentAnswer, []*opening.Garbler, error) {
	rqs := make([]*he.Query, len(qbs))
	for i, qb := range qbs {
		var err error
		if rqs[i], err = he.ReadQuery(p.ps, qb); err != nil {
			return nil, nil, fmt.Errorf("perf: read query: %w", err)
		}
	}
	answers, secrets, err := p.Responder.RespondBatch(ctx, rqs, g, opts, Reader("response", seed))
	if err != nil {
		return nil, nil, fmt.Errorf("perf: respond: %w", err)
	}
	defer func() {
		for _, sec := range secrets {
			sec.Destroy()
		}
	}()
	out := make([]sentAnswer, len(answers))
	var garblers []*opening.Garbler
	for i, ans := range answers {
		out[i].bytes, _ = ans.MarshalBinary()
		session := qs[i].Digest()
		gb, gc, err := opening.Garble(p.ps.OpeningParams(), secrets[i], session[:], Reader("garble", probeSeed(seed, i)))
		if err != nil {
			return nil, garblers, fmt.Errorf("perf: garble: %w", err)
		}
		garblers, out[i].gc = append(garblers, gb), gc
	}
	return out, garblers, nil
}

// probeSeed is the seed of probe i of a batch: seed itself for the first,
// so that a batch of one draws what a single search draws.
func probeSeed(seed uint64, i int) uint64 { return seed ^ uint64(i)<<48 }

// Reader returns a deterministic stream of bytes for label and seed
// (ChaCha8 keyed by SHA-256 of both): reproducible measurements. It must
// never supply the randomness of real keys or queries.
func Reader(label string, seed uint64) io.Reader {
	h := sha256.New()
	h.Write([]byte("puente/perf/" + label + "\x00"))
	h.Write(binary.BigEndian.AppendUint64(nil, seed))
	var key [32]byte
	h.Sum(key[:0])
	return chacha{rand.NewChaCha8(key)}
}

type chacha struct{ c *rand.ChaCha8 }

func (r chacha) Read(p []byte) (int, error) { return r.c.Read(p) }
