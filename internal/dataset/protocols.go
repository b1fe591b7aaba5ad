package dataset

import (
	"fmt"
	"math/rand/v2"
)

// DefaultNonMated and DefaultSampleSeed fix the verification protocol's
// non-mated sample: 200,000 random different-identity pairs drawn with
// this seed (the LFW data README's protocol, used for every set).
const (
	DefaultNonMated   = 200000
	DefaultSampleSeed = 20240601
)

// RowPair is a comparison between two rows of the set.
type RowPair struct{ A, B int }

// MatedPairs returns every pair of distinct rows of the same identity, in
// row order.
func (s *Set) MatedPairs() []RowPair {
	var out []RowPair
	for _, rows := range s.ByIdentity() {
		for i, a := range rows {
			for _, b := range rows[i+1:] {
				out = append(out, RowPair{a, b})
			}
		}
	}
	return out
}

// NonMatedPairs returns n random pairs of rows of different identities,
// drawn uniformly with replacement by a PCG generator seeded with seed:
// the same seed gives the same pairs on every platform. (The generator
// samples the evaluation protocol only; it is never used for keys.)
func (s *Set) NonMatedPairs(n int, seed uint64) []RowPair {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]RowPair, 0, n)
	rows := len(s.Label)
	for len(out) < n {
		a, b := rng.IntN(rows), rng.IntN(rows)
		if s.Label[a] != s.Label[b] {
			out = append(out, RowPair{a, b})
		}
	}
	return out
}

// OpenSet is the open-set hit/no-hit search protocol.
type OpenSet struct {
	Gallery  []int // enrolled rows, one per enrolled identity
	Mated    []int // searches of enrolled identities (their other rows)
	NonMated []int // searches of identities not enrolled (all their rows)
}

// OpenSet builds the open-set protocol (the LFW data README's): identities
// are taken in order of first appearance (alphabetical in LFW); those at even positions (0, 2, 4, ...)
// that have two or more rows are enrolled with their first row; their other
// rows are the mated searches and every row of every other identity is a
// non-mated search. On lfw-dlib128 this gives 211 enrolled, 1,067 mated and
// 1,922 non-mated searches.
func (s *Set) OpenSet() OpenSet {
	var o OpenSet
	for id, rows := range s.ByIdentity() {
		if id%2 == 0 && len(rows) >= 2 {
			o.Gallery = append(o.Gallery, rows[0])
			o.Mated = append(o.Mated, rows[1:]...)
		} else {
			o.NonMated = append(o.NonMated, rows...)
		}
	}
	return o
}

// LinkagePairs builds a balanced protocol for unlinkability: for every
// identity with two or more rows, up to perIdentity of its mated pairs
// (drawn with seed), and for each mated pair (a, b) one non-mated pair
// (a, c) with c a random row of another identity. Mated and non-mated pairs
// thus share their first templates, and no identity with many images
// dominates the mated score distribution (which would make the two
// distributions differ by population, not by linkage).
func (s *Set) LinkagePairs(perIdentity int, seed uint64) (mated, nonMated []RowPair) {
	rng := rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc909))
	for _, rows := range s.ByIdentity() {
		var all []RowPair
		for i, a := range rows {
			for _, b := range rows[i+1:] {
				all = append(all, RowPair{a, b})
			}
		}
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		mated = append(mated, all[:min(perIdentity, len(all))]...)
	}
	return s.LinkagePairsOf(mated, seed^0xbb67ae8584caa73b)
}

// LinkagePairsOf returns mated unchanged and, for each of its pairs (a, b),
// a non-mated pair (a, c) with c a random row of another identity.
func (s *Set) LinkagePairsOf(mated []RowPair, seed uint64) ([]RowPair, []RowPair) {
	rng := rand.New(rand.NewPCG(seed, 0x3c6ef372fe94f82b))
	nonMated := make([]RowPair, len(mated))
	for i, p := range mated {
		nonMated[i] = RowPair{p.A, s.otherIdentityRow(rng, p.A)}
	}
	return mated, nonMated
}

func (s *Set) otherIdentityRow(rng *rand.Rand, a int) int {
	for {
		if c := rng.IntN(len(s.Label)); s.Label[c] != s.Label[a] {
			return c
		}
	}
}

// TenFold sizes: the pairs per fold of each kind that TenFoldPairs draws,
// as LFW View-2 has.
const TenFoldPerKind = 300

// TenFoldPairs builds ten-fold verification pairs from the labels the way
// LFW View-2 is built: identities are assigned to folds in turn (the
// identity numbered l to fold l mod 10), so that no identity is in two
// folds; each fold gets up to TenFoldPerKind mated pairs drawn without
// replacement from the pairs of rows of its identities, and as many
// non-mated pairs of rows of two different identities of the fold (at
// most TenFoldPerKind). A fold with no mated pair, or fewer than two
// identities, gets no pairs. Pairs are numbered in order.
func (s *Set) TenFoldPairs(seed uint64) []Pair {
	rng := rand.New(rand.NewPCG(seed, 0x510e527fade682d1))
	byID := s.ByIdentity()
	var out []Pair
	for f := 0; f < 10; f++ {
		var ids []int
		var mated []RowPair
		for l := f; l < len(byID); l += 10 {
			ids = append(ids, l)
			rows := byID[l]
			for i, a := range rows {
				for _, b := range rows[i+1:] {
					mated = append(mated, RowPair{a, b})
				}
			}
		}
		if len(mated) == 0 || len(ids) < 2 {
			continue
		}
		rng.Shuffle(len(mated), func(i, j int) { mated[i], mated[j] = mated[j], mated[i] })
		mated = mated[:min(TenFoldPerKind, len(mated))]
		for _, p := range mated {
			out = append(out, Pair{Index: len(out), Fold: f, Same: true, A: p.A, B: p.B})
		}
		for range len(mated) {
			i := rng.IntN(len(ids))
			j := rng.IntN(len(ids) - 1)
			if j >= i {
				j++
			}
			a, b := byID[ids[i]], byID[ids[j]]
			out = append(out, Pair{Index: len(out), Fold: f, A: a[rng.IntN(len(a))], B: b[rng.IntN(len(b))]})
		}
	}
	return out
}

// Check reports whether every protocol can be built and measured on the
// set: two or more identities, some identity with two or more rows (mated
// pairs), and an open set with an enrolled identity, a mated search and a
// non-mated search. The error wraps ErrInput and says what is missing.
func (s *Set) Check() error {
	if len(s.Names) < 2 {
		return fmt.Errorf("%w: %d identities: the protocols need two or more", ErrInput, len(s.Names))
	}
	if s.MultiImage() == 0 {
		return fmt.Errorf("%w: no identity has two or more rows: there are no mated pairs", ErrInput)
	}
	o := s.OpenSet()
	if len(o.Gallery) == 0 || len(o.NonMated) == 0 {
		return fmt.Errorf("%w: the open-set search needs an identity with two or more rows at an even position in order of first appearance (enrolled) and another identity (%d enrolled, %d non-mated searches)",
			ErrInput, len(o.Gallery), len(o.NonMated))
	}
	return nil
}
