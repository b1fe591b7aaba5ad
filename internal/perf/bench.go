package perf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"strconv"
	"time"

	"github.com/puente-id/puente/he"
)

// Config says what [Run] measures. Zero fields take the defaults.
type Config struct {
	Params    *he.ParamSet // the parameter set (required)
	Sizes     []Size       // galleries, in this order (at least one)
	Reps      int          // encrypted searches per size (default 1)
	Tau       float64      // threshold (default DefaultTau)
	NTTBudget int64        // he.PackOptions.MemoryBudget of every gallery, or AutoNTTBudget
	Batch     int          // probes of one batched search per size, 2 to he.MaxBatch; 0: none
	Seed      uint64       // seed of keys, galleries and queries (default 1)
	Progress  io.Writer    // progress lines, or nil
}

// Seconds is a duration that encodes in JSON as a number of seconds.
type Seconds time.Duration

// MarshalJSON writes the duration in seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'g', 6, 64), nil
}

// Report is the result of one run of [Run].
type Report struct {
	ParamSet   string        `json:"param_set"`
	Insecure   bool          `json:"insecure"`
	Mode       string        `json:"mode"`
	Tau        float64       `json:"tau"`
	Reps       int           `json:"searches_per_size"`
	Started    time.Time     `json:"started"`
	Machine    Machine       `json:"machine"`
	NTTBudget  int64         `json:"ntt_budget_bytes"`   // Config.NTTBudget: -1 every block, 0 none, -2 auto
	MemLimit   int64         `json:"memory_limit_bytes"` // Go's soft memory limit during the run, 0 when none
	Ceremony   CeremonyStats `json:"ceremony"`
	Sizes      []SizeResult  `json:"sizes"`
	LoadAvgEnd []float64     `json:"load_average_end,omitempty"`
}

// SizeResult is what one gallery size measured. Times are means over the
// encrypted searches; Plain is the mean of PlainReps plaintext scans of
// the same gallery and probe, run in the same process right after.
type SizeResult struct {
	Size
	Blocks        int       `json:"blocks"`
	BabySteps     int       `json:"baby_steps"`
	Pack          Seconds   `json:"pack_s"`
	GalleryBytes  int64     `json:"gallery_memory_bytes"`
	NTTBudget     int64     `json:"ntt_budget_bytes"` // the budget packing used (auto resolved), -1 every block
	NTTBlocks     int       `json:"ntt_blocks"`       // blocks kept in NTT form; the others are converted during each search
	Encrypt       Seconds   `json:"encrypt_s"`
	Search        Seconds   `json:"search_wall_s"`
	SearchCPU     Seconds   `json:"search_cpu_s"`
	Decide        Seconds   `json:"decide_s"`
	Plain         Seconds   `json:"plain_scan_s"`
	PlainReps     int       `json:"plain_scan_reps"`
	Ratio         float64   `json:"ratio_wall"` // Search / Plain
	QueryBytes    int       `json:"query_bytes"`
	ResponseBytes int       `json:"response_bytes"`
	PeakRSS       int64     `json:"peak_rss_bytes"`
	PeakScope     PeakScope `json:"peak_rss_scope"`
	Hit           bool      `json:"hit"`
	PlainCount    int       `json:"plain_count"`
	Batch         *Batch    `json:"batch,omitempty"`
}

// Batch is what one batched search of K probes measured (Config.Batch),
// beside the single searches of the same size and the plaintext scans of
// the same probes.
type Batch struct {
	K         int     `json:"k"`
	Hits      int     `json:"hits"`            // probes decided a hit; each equals its plaintext count's decision
	Search    Seconds `json:"search_wall_s"`   // the responder's work for all K
	SearchCPU Seconds `json:"search_cpu_s"`    // the same, CPU
	PerProbe  Seconds `json:"cpu_per_probe_s"` // SearchCPU / K
	// OfSingles is SearchCPU over K times the single searches' mean CPU:
	// what a batch costs as a share of K single searches.
	OfSingles float64 `json:"of_single_searches_cpu"`
	Plain     Seconds `json:"plain_scans_s"` // K plaintext scans, one per probe
}

// Run runs the ceremony once, then for each size packs a synthetic
// gallery, runs c.Reps encrypted searches and the plaintext scan of the
// same gallery, and checks every encrypted decision against the plaintext
// count. ctx is checked between searches.
func Run(ctx context.Context, c Config) (*Report, error) {
	if c.Params == nil || len(c.Sizes) == 0 {
		return nil, errors.New("perf: a parameter set and at least one size are needed")
	}
	if c.Reps <= 0 {
		c.Reps = 1
	}
	if c.Batch != 0 && (c.Batch < 2 || c.Batch > he.MaxBatch) {
		return nil, fmt.Errorf("perf: a batch has 2 to %d probes, not %d", he.MaxBatch, c.Batch)
	}
	if c.Tau == 0 {
		c.Tau = DefaultTau
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	progress := func(format string, args ...any) {
		if c.Progress != nil {
			fmt.Fprintf(c.Progress, format+"\n", args...)
		}
	}
	maxDims := 1
	for _, s := range c.Sizes {
		if s.Dims < 1 || s.Dims > c.Params.Slots()/2 {
			return nil, fmt.Errorf("perf: %v: m must be in [1, %d] for %s", s, c.Params.Slots()/2, c.Params.Name())
		}
		maxDims = max(maxDims, 1<<bits.Len(uint(s.Dims-1)))
	}
	rep := &Report{ParamSet: c.Params.Name(), Insecure: c.Params.Insecure(), Mode: "one-bit opening", Tau: c.Tau,
		Reps: c.Reps, Started: time.Now().UTC().Truncate(time.Second), Machine: ThisMachine(),
		NTTBudget: c.NTTBudget, MemLimit: MemoryLimit()}
	progress("ceremony on %s, max dims %d", c.Params.Name(), maxDims)
	var crs he.KeySetID
	if _, err := io.ReadFull(Reader("crs", c.Seed), crs[:]); err != nil {
		return nil, err
	}
	keys, st, err := RunCeremony(c.Params, maxDims, crs, Reader("querier share", c.Seed), Reader("responder share", c.Seed))
	if err != nil {
		return nil, err
	}
	defer keys.Destroy()
	rep.Ceremony = st
	progress("ceremony: %v wall, %v CPU", time.Duration(st.Wall).Round(time.Millisecond), time.Duration(st.CPU).Round(time.Millisecond))
	parties, err := NewParties(keys)
	if err != nil {
		return nil, err
	}
	for i, s := range c.Sizes {
		progress("%v: packing and searching", s)
		r, err := measureSize(ctx, parties, s, c, c.Seed<<8+uint64(i))
		if err != nil {
			return nil, err
		}
		progress("%v: search %v wall, %v CPU; plaintext scan %v", s, time.Duration(r.Search).Round(time.Millisecond),
			time.Duration(r.SearchCPU).Round(time.Millisecond), time.Duration(r.Plain))
		rep.Sizes = append(rep.Sizes, r)
	}
	rep.LoadAvgEnd = LoadAverage()
	return rep, nil
}

// AutoNTTBudget, as Config.NTTBudget, keeps in NTT form the blocks that
// Go's memory limit leaves room for (autoNTTBudget), every block when
// there is no limit.
const AutoNTTBudget = -2

// searchReserve is what autoNTTBudget leaves for one search's working set
// beside what is live before it: the evaluators' buffers, baby steps and
// blocks in flight, which grow with the workers, and the collector's
// headroom. At N = 10^6, m = 128 and two workers the live heap during the
// search is 1.2 GB above what it holds before it (docs/performance.md,
// "Memory and batches"); the reserve is 1.5 GiB there.
func searchReserve(workers int) int64 { return 1<<30 + int64(workers)<<28 }

// autoNTTBudget returns the NTT budget for a gallery of size s under a
// memory limit, with live bytes of heap already held (keys, parties): the
// limit less live, the gallery's compact coefficients, its float32 copy,
// the float64 templates packing reads and searchReserve; -1 (every block)
// when there is no limit (0), 0 when nothing is left.
func autoNTTBudget(ps *he.ParamSet, s Size, limit, live int64) int64 {
	if limit == 0 {
		return -1
	}
	compact, _ := ps.PackedBytes(s.N, s.Dims)
	templates := int64(s.N) * int64(s.Dims) * (4 + 8)
	return max(0, limit-live-compact-templates-searchReserve(runtime.GOMAXPROCS(0)))
}

// measureSize measures one gallery size; its peak RSS is reset first.
func measureSize(ctx context.Context, p *Parties, s Size, c Config, seed uint64) (SizeResult, error) {
	r := SizeResult{Size: s, PeakScope: ResetPeakRSS()}
	budget := c.NTTBudget
	if budget == AutoNTTBudget {
		budget = autoNTTBudget(p.ps, s, MemoryLimit(), HeapLive())
	}
	r.NTTBudget = budget
	g, err := NewGallery(p.ps, s, seed, he.PackOptions{MemoryBudget: budget})
	if err != nil {
		return r, err
	}
	r.Blocks, r.BabySteps, r.Pack, r.GalleryBytes = g.Packed.Blocks(), g.Packed.BabySteps(), Seconds(g.Pack), g.Packed.MemoryBytes()
	r.NTTBlocks = g.Packed.NTTBlocks()
	opts := he.Options{Threshold: he.Threshold{Tau: c.Tau}}
	var sum SearchSample
	for k := 0; k < c.Reps; k++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		// Collect the garbage of what ran before (the ceremony, packing,
		// the last search), so that a search's CPU time is its own.
		runtime.GC()
		smp, err := p.Search(ctx, g.Packed, g.Probe, opts, seed<<8+uint64(k))
		if err != nil {
			return r, fmt.Errorf("perf: %v: %w", s, err)
		}
		sum.Encrypt += smp.Encrypt
		sum.Search += smp.Search
		sum.SearchCPU += smp.SearchCPU
		sum.Decide += smp.Decide
		r.QueryBytes, r.ResponseBytes = smp.QueryBytes, smp.ResponseBytes
		if k == 0 {
			r.Hit = smp.Hit
		} else if smp.Hit != r.Hit {
			return r, fmt.Errorf("perf: %v: encrypted searches of the same probe decided differently", s)
		}
	}
	n := time.Duration(c.Reps)
	r.Encrypt, r.Search, r.SearchCPU, r.Decide = Seconds(sum.Encrypt/n), Seconds(sum.Search/n), Seconds(sum.SearchCPU/n), Seconds(sum.Decide/n)
	plain, reps, count := TimePlainScan(g.Plain, g.Probe, c.Tau, 200*time.Millisecond)
	r.Plain, r.PlainReps, r.PlainCount = Seconds(plain), reps, count
	if plain > 0 {
		r.Ratio = float64(r.Search) / float64(plain)
	}
	if r.Hit != (count > 0) {
		return r, fmt.Errorf("perf: %v: encrypted decision hit=%v, plaintext count %d", s, r.Hit, count)
	}
	if c.Batch > 0 {
		if r.Batch, err = measureBatch(ctx, p, g, c, r.SearchCPU, seed); err != nil {
			return r, fmt.Errorf("perf: %v: %w", s, err)
		}
	}
	r.PeakRSS, _ = PeakRSS()
	return r, nil
}

// measureBatch runs one batched search of c.Batch probes against g: the
// gallery's probe, and in turn a probe matching another entry than the
// gallery's match (a hit) and a random unit vector (a miss). Every decision is checked against the
// plaintext scan of its probe.
func measureBatch(ctx context.Context, p *Parties, g *Gallery, c Config, single Seconds, seed uint64) (*Batch, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(c.Batch)))
	probes := [][]float64{g.Probe}
	for i := 1; i < c.Batch; i++ {
		if i%2 == 1 {
			k := (i * len(g.Plain)) / c.Batch
			if k == g.Match {
				k = (k + 1) % len(g.Plain)
			}
			row := g.Plain[k]
			v := make([]float64, len(row))
			for j, x := range row {
				v[j] = float64(x)
			}
			probes = append(probes, WithScore(rng, v, MatchScore))
		} else {
			probes = append(probes, UnitVector(rng, len(g.Probe)))
		}
	}
	runtime.GC()
	opts := he.Options{Threshold: he.Threshold{Tau: c.Tau}}
	samples, search, cpu, err := p.SearchBatch(ctx, g.Packed, probes, opts, seed<<8+0xb0)
	if err != nil {
		return nil, err
	}
	b := &Batch{K: c.Batch, Search: Seconds(search), SearchCPU: Seconds(cpu), PerProbe: Seconds(cpu / time.Duration(c.Batch))}
	if single > 0 {
		b.OfSingles = float64(cpu) / (float64(c.Batch) * float64(single))
	}
	for i, smp := range samples {
		per, _, count := TimePlainScan(g.Plain, probes[i], c.Tau, 0)
		b.Plain += Seconds(per)
		if smp.Hit != (count > 0) {
			return nil, fmt.Errorf("batch probe %d: encrypted decision hit=%v, plaintext count %d", i, smp.Hit, count)
		}
		if smp.Hit {
			b.Hits++
		}
	}
	return b, nil
}
