package evaluation

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"time"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/perf"
	"github.com/puente-id/puente/protect"
)

// DefaultHESearches is the number of real encrypted searches the report runs: half
// verifications, half open-set searches, each with its opening.
const DefaultHESearches = 12

// SampleItem is one real encrypted search and what it is checked against.
type SampleItem struct {
	Search bool // an open-set search; else a verification (a one-entry gallery)
	Mated  bool
	Band   bool    // chosen by its emulated value; else at random
	Index  int     // in Protocols.Mated/NonMated, or Open.Mated/NonMated
	Offset float64 // score (best score) - tau
	Value  float64 // the emulation's noise-free count
	// Exact is the exact decision (score >= tau), Emulated the emulation's
	// (EncryptedResult), Encrypted what the opening gave the querier.
	Exact, Emulated, Encrypted Outcome
}

// InBand reports whether the item's score is within band of tau, where
// the encrypted decision may differ from the exact one.
func (it SampleItem) InBand(band float64) bool { return math.Abs(it.Offset) < band }

// Sample is a set of real encrypted searches on a parameter set with one
// scheme's protected templates, checked against the emulation.
type Sample struct {
	ParamSet        string
	Insecure        bool
	Params          protect.Params
	Tau3, TauOpen   float64
	Band3, BandOpen float64
	MaxDims         int
	Items           []SampleItem
}

// Agreements counts the items whose encrypted outcome equals the emulated one, and the
// disagreements.
func (s *Sample) Agreements() (agree, disagree int) {
	for _, it := range s.Items {
		if it.Encrypted != it.Emulated {
			disagree++
		} else {
			agree++
		}
	}
	return agree, disagree
}

// OutsideBand counts the items outside the band and those of them whose
// encrypted outcome differs from the exact decision (he guarantees none).
func (s *Sample) OutsideBand() (n, wrong int) {
	for _, it := range s.Items {
		band := s.Band3
		if it.Search {
			band = s.BandOpen
		}
		if !it.InBand(band) {
			n++
			if it.Encrypted != it.Exact {
				wrong++
			}
		}
	}
	return n, wrong
}

// RunSample runs n real encrypted searches (through the wire encodings, with their openings)
// with er's templates on ps: n/2 verifications and the rest open-set searches, chosen by
// pickItems. The key ceremony runs once, in this process. Every random choice and all
// randomness of shares, queries, answers and openings come from fixed seeds.
func RunSample(ctx context.Context, env *Env, er *EncryptedResult, acc *Accuracy, ps *he.ParamSet, n int, progress func(string, ...any)) (*Sample, error) {
	m := er.Params.OutputDim()
	s := &Sample{ParamSet: ps.Name(), Insecure: ps.Insecure(), Params: er.Params, Tau3: acc.Tau3, TauOpen: acc.TauOpen,
		Band3: er.Band3, BandOpen: er.BandOpen, MaxDims: 1 << bits.Len(uint(m-1))}
	nv := n / 2
	s.Items = append(pickItems(false, er.Mated, er.NonMated, acc.Tau3, nv, 1), pickItems(true, er.OpenMated, er.OpenNonMated, acc.TauOpen, n-nv, 2)...)
	var crs he.KeySetID
	if _, err := io.ReadFull(perf.Reader("evaluation crs", 1), crs[:]); err != nil {
		return nil, err
	}
	progress("key ceremony on %s (max dims %d)", ps.Name(), s.MaxDims)
	keys, st, err := perf.RunCeremony(ps, s.MaxDims, crs, perf.Reader("evaluation querier share", 1), perf.Reader("evaluation responder share", 1))
	if err != nil {
		return nil, fmt.Errorf("evaluation: %w", err)
	}
	defer keys.Destroy()
	progress("ceremony: %v", time.Duration(st.Wall).Round(time.Millisecond))
	parties, err := perf.NewParties(keys)
	if err != nil {
		return nil, err
	}
	t, p := er.templates, env.Proto
	gallery := make([][]float64, len(p.Open.Gallery))
	for i, r := range p.Open.Gallery {
		gallery[i] = t.Row(r)
	}
	openGal, err := he.Pack(ps, m, gallery, he.PackOptions{})
	if err != nil {
		return nil, fmt.Errorf("evaluation: open-set gallery: %w", err)
	}
	for i := range s.Items {
		it := &s.Items[i]
		probe, g, tau, err := s.query(ps, t, p, it, openGal)
		if err != nil {
			return nil, fmt.Errorf("evaluation: verification gallery: %w", err)
		}
		it.Emulated = er.emulated(it).Out[it.Index]
		start := time.Now()
		smp, err := parties.Search(ctx, g, probe, searchOptions(tau), uint64(i+1))
		if it.Encrypted, err = searchOutcome(smp, err); err != nil {
			return nil, fmt.Errorf("evaluation: encrypted search %d: %w", i+1, err)
		}
		progress("encrypted search %d/%d: %v (emulated %v, exact %v), %v", i+1, len(s.Items), it.Encrypted, it.Emulated, it.Exact, time.Since(start).Round(time.Millisecond))
	}
	return s, nil
}

// query returns an item's probe, gallery and threshold: the open-set
// gallery for a search, a one-entry gallery for a verification.
func (s *Sample) query(ps *he.ParamSet, t *protect.Matrix, p *Protocols, it *SampleItem, openGal *he.Gallery) ([]float64, *he.Gallery, float64, error) {
	if it.Search {
		rows := p.Open.NonMated
		if it.Mated {
			rows = p.Open.Mated
		}
		return t.Row(rows[it.Index]), openGal, s.TauOpen, nil
	}
	pr := p.NonMated[it.Index]
	if it.Mated {
		pr = p.Mated[it.Index]
	}
	g, err := he.Pack(ps, t.Cols, [][]float64{t.Row(pr.B)}, he.PackOptions{})
	return t.Row(pr.A), g, s.Tau3, err
}

// emulated returns the emulated decisions an item draws from.
func (er *EncryptedResult) emulated(it *SampleItem) Emulated {
	switch {
	case it.Search && it.Mated:
		return er.OpenMated
	case it.Search:
		return er.OpenNonMated
	case it.Mated:
		return er.Mated
	}
	return er.NonMated
}

// sampleTargets are the counts the sample's first half is chosen by, in turn: scores within the
// band, on either side of the opening's comparison with 1/2.
var sampleTargets = [...]float64{3.0 / 8, 1.0 / 8, 7.0 / 8, 5.0 / 8}

// pickItems chooses n comparisons (searches): the first half those whose
// noise-free count lies nearest to sampleTargets in turn, the rest
// at random, mated and non-mated alternately; none twice.
func pickItems(search bool, mated, nonMated Emulated, tau float64, n int, seed uint64) []SampleItem {
	sets := [2]Emulated{nonMated, mated}
	used := map[[2]int]bool{} // {mated 0/1, index}
	var out []SampleItem
	add := func(m, i int, near bool) {
		used[[2]int{m, i}] = true
		sc := sets[m].Score[i]
		out = append(out, SampleItem{Search: search, Mated: m == 1, Band: near, Index: i, Offset: sc - tau, Value: sets[m].Value[i], Exact: exactOutcome(sc, tau)})
	}
	h := (n + 1) / 2
	for j := 0; j < h; j++ {
		target := sampleTargets[j%len(sampleTargets)]
		bm, bi, bd := 0, -1, math.Inf(1)
		for m, set := range sets {
			for i, v := range set.Value {
				if d := math.Abs(v - target); d < bd && !used[[2]int{m, i}] {
					bm, bi, bd = m, i, d
				}
			}
		}
		if bi >= 0 {
			add(bm, bi, true)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for k := 0; len(out) < n && k < 100*n; k++ {
		m := 1 - (len(out)-h)%2 // mated first
		if len(sets[m].Score) == 0 {
			continue
		}
		if i := rng.IntN(len(sets[m].Score)); !used[[2]int{m, i}] {
			add(m, i, false)
		}
	}
	return out
}
