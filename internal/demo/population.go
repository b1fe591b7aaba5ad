package demo

import (
	"fmt"
	"math"
)

// Population is the demo's data: one capture of each subject an agency enrols, and probe
// candidates the other agency searches with. All of it is synthetic.
type Population struct {
	Gallery [][]float64 // one capture per enrolled subject
	Refs    []string    // the enrolling agency's subject reference of each gallery row
	// Mated are new captures of enrolled subjects (never the enrolled capture itself).
	Mated []Probe
	// NonMated are captures of subjects who were never enrolled.
	NonMated []Probe
}

// Probe is a probe candidate.
type Probe struct {
	Features []float64
	Subject  int // the gallery row of the same subject; -1 when not enrolled
}

// RefPrefix starts the subject references of a Population: case-0000, case-0001, ...
const RefPrefix = "case-"

// NewPopulation draws a gallery of size subjects and candidates mated and non-mated probes from
// m's population with seed. Mated probes are of distinct subjects spread over the gallery.
func NewPopulation(m Model, seed uint64, size, candidates int) (*Population, error) {
	if size < 1 || candidates < 1 || candidates > size {
		return nil, fmt.Errorf("demo: a population needs at least one subject and 1 to %d candidates, got %d and %d", size, size, candidates)
	}
	g, err := NewGenerator(m, seed)
	if err != nil {
		return nil, err
	}
	p := &Population{}
	subjects := make([]Subject, size)
	for i := range subjects {
		subjects[i] = g.Subject()
		p.Gallery = append(p.Gallery, g.Capture(subjects[i]))
		p.Refs = append(p.Refs, fmt.Sprintf("%s%04d", RefPrefix, i))
	}
	for k := range candidates {
		// Spread the subjects over the gallery, starting away from its first row.
		i := (size/(2*candidates) + k*size/candidates) % size
		p.Mated = append(p.Mated, Probe{Features: g.Capture(subjects[i]), Subject: i})
		p.NonMated = append(p.NonMated, Probe{Features: g.Capture(g.Subject()), Subject: -1})
	}
	return p, nil
}

// BestScores returns, for each probe, its highest inner product with any gallery vector: the
// plaintext answer's score when both are protected templates (unit vectors).
func BestScores(gallery, probes [][]float64) []float64 {
	out := make([]float64, len(probes))
	for i, p := range probes {
		out[i] = math.Inf(-1)
		for _, g := range gallery {
			out[i] = max(out[i], dot(p, g))
		}
	}
	return out
}

// PickClear returns the index of the first score that is clearly a hit (hit true: at least
// tau+margin) or clearly a miss (below tau-margin), and how many scores before it were not.
// Scores within margin of tau are where the encrypted threshold may answer either way. ok is
// false when no score qualifies.
func PickClear(scores []float64, tau, margin float64, hit bool) (i, skipped int, ok bool) {
	for i, s := range scores {
		if hit && s >= tau+margin || !hit && s < tau-margin {
			return i, i, true
		}
	}
	return -1, len(scores), false
}
