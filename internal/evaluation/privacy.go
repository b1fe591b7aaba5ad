package evaluation

import (
	"runtime"
	"sync"

	"github.com/puente-id/puente/internal/dataset"
	"github.com/puente-id/puente/protect"
)

// Linkage measures what the templates of one subject under two epochs (two
// seeds) reveal about each other.
type Linkage struct {
	// Unlinkability across epochs, mated pairs being different images of
	// the same subject (the protocol of Gomez-Barrero et al. 2018).
	Cross *protect.Unlinkability
	// Unlinkability when the mated pairs are the same image under the two
	// epochs: the renewability case.
	SameImage *protect.Unlinkability
	// CrossMated and CrossNonMated are the scores Cross is estimated
	// from: mated and non-mated pairs, first template under epoch e,
	// second under e+1.
	CrossMated, CrossNonMated []float64
	// Scores of each image's template under epoch e against its own
	// re-protection under e+1, and of non-mated pairs within one epoch.
	Renewed, NonMated []float64
	// Floor is D_sys between two samples of non-mated cross-epoch scores
	// (both under H_nm) of the size of the mated sample: what the
	// histogram estimator reports for perfectly unlinkable templates.
	Floor float64
	// RenewedNonMated pairs each image's template under epoch e with a
	// template of another subject under e+1: the cross-epoch scores the
	// renewed ones should look like.
	RenewedNonMated []float64
}

// MeasureLinkage protects raw under a and b (the same parameters, two
// epochs' seeds) and compares the two sets of templates.
func MeasureLinkage(raw *protect.Matrix, a, b protect.Transform, p *Protocols) (*Linkage, error) {
	ta, err := protect.ApplyAll(a, raw)
	if err != nil {
		return nil, err
	}
	tb, err := protect.ApplyAll(b, raw)
	if err != nil {
		return nil, err
	}
	self := make([]dataset.RowPair, raw.Rows)
	for i := range self {
		self[i] = dataset.RowPair{A: i, B: i}
	}
	l := &Linkage{Renewed: Scores(ta, tb, self), NonMated: Scores(ta, ta, p.NonMated),
		CrossMated: Scores(ta, tb, p.LinkMated), CrossNonMated: Scores(ta, tb, p.LinkNonMated)}
	if l.Cross, err = protect.UnlinkabilityScores(l.CrossMated, l.CrossNonMated, 0, 1); err != nil {
		return nil, err
	}
	crossNM := l.CrossNonMated
	floor, err := protect.UnlinkabilityScores(Scores(ta, tb, p.NonMated[:min(len(crossNM), len(p.NonMated))]), crossNM, 0, 1)
	if err != nil {
		return nil, err
	}
	l.Floor = floor.Sys
	l.RenewedNonMated = Scores(ta, tb, p.SelfNonMated)
	if l.SameImage, err = protect.UnlinkabilityScores(l.Renewed, l.RenewedNonMated, 0, 1); err != nil {
		return nil, err
	}
	return l, nil
}

// parallel calls fn(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, fn func(int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				fn(k)
			}
		}()
	}
	for k := range n {
		next <- k
	}
	close(next)
	wg.Wait()
}
