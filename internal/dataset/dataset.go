// Package dataset holds a labelled set of face embeddings, one row per
// image and one identity per row, and builds from its labels the
// evaluation protocols that puente-lab eval measures (package evaluation).
// It reads any such set: NumPy .npy, CSV or JSON embeddings of any
// dimension, with the identities in a labels file (one per line, in row
// order) or, for JSON, in the file itself ([Load]); package lfw loads the
// LFW layout into the same [Set].
//
// # Protocols
//
// Every protocol is a function of the labels and a seed, so the same files
// give the same comparisons on every run and platform (PCG generators of
// math/rand/v2; they sample protocols only and never make keys).
// Identities are numbered in order of first appearance.
//
//   - Verification: every pair of rows of the same identity
//     ([Set.MatedPairs]) against n random pairs of rows of different
//     identities ([Set.NonMatedPairs]).
//   - Open-set hit/no-hit search ([Set.OpenSet]): the identities at even
//     positions that have two or more rows are enrolled with their first
//     row; their other rows are the mated searches, every row of every
//     other identity a non-mated search.
//   - Unlinkability ([Set.LinkagePairs]): up to k mated pairs per
//     identity, each with a non-mated pair that shares its first row.
//   - Ten-fold pairs ([Set.Pairs]): given with the set (the LFW View-2
//     pairs, or a pairs file: [ReadPairs]) or built from the labels
//     ([Set.TenFoldPairs]) the way View-2 is: identities split into ten
//     folds, up to 300 mated and 300 non-mated pairs within each.
//
// # Bad input
//
// Readers never panic on what they read: they check shapes, values,
// labels and row indices and name the file and the line or row at fault
// (errors wrap [ErrInput], or protect.ErrInput for the embeddings).
package dataset

import (
	"errors"
	"fmt"

	"github.com/puente-id/puente/protect"
)

// ErrInput reports a bad labels or pairs file, or labels that do not fit
// the embeddings.
var ErrInput = errors.New("dataset: bad input")

// Set is a labelled set of embeddings.
type Set struct {
	// Name is the set's short name in reports: the embeddings file's base
	// name, or the layout's ("lfw-dlib128").
	Name string
	// Description says what the vectors are, for a reader of the report
	// ("dlib ResNet 128-d descriptors of 3200 LFW images"); empty when
	// only the shape is known.
	Description string
	// Model names the embedding model in the report's prose ("dlib"), or
	// is empty when unknown.
	Model string

	Emb      *protect.Matrix // one raw embedding per row
	Identity []string        // identity name of each row
	Image    []string        // image or sample name of each row, or nil
	// Label is the identity of each row as an index into Names, numbered
	// in order of first appearance.
	Label []int
	Names []string
	// Pairs are the ten-fold verification pairs: given with the set
	// (PairsGiven) or built by TenFoldPairs.
	Pairs      []Pair
	PairsGiven bool

	Provenance Provenance
}

// Provenance is where a set came from: the files read, each with its size
// and digest, and what the person who ran the evaluation says about them.
type Provenance struct {
	Files []File
	Note  string // free text (puente-lab eval -provenance), or empty
}

// File is one input file as it was read.
type File struct {
	Role   string // "embeddings", "labels", "pairs", "index", "public population"
	Name   string // as given, or relative to the data directory
	Size   int64  // bytes
	SHA256 string // hex digest of the bytes read
}

// Pair is one ten-fold verification pair.
type Pair struct {
	Index, Fold int
	Same        bool
	A, B        int // rows
}

// New builds a set from embeddings and the identity of each row. It
// fails if they do not have the same length or an identity is empty.
func New(name string, emb *protect.Matrix, identity []string) (*Set, error) {
	if emb == nil || len(identity) != emb.Rows {
		rows := 0
		if emb != nil {
			rows = emb.Rows
		}
		return nil, fmt.Errorf("%w: %d labels for %d embeddings (one identity per row, in row order)", ErrInput, len(identity), rows)
	}
	s := &Set{Name: name, Emb: emb, Identity: identity, Label: make([]int, len(identity))}
	byName := map[string]int{}
	for r, id := range identity {
		if id == "" {
			return nil, fmt.Errorf("%w: row %d: empty identity", ErrInput, r)
		}
		l, ok := byName[id]
		if !ok {
			l = len(s.Names)
			byName[id] = l
			s.Names = append(s.Names, id)
		}
		s.Label[r] = l
	}
	return s, nil
}

// Dim returns the dimension of the embeddings.
func (s *Set) Dim() int { return s.Emb.Cols }

// ByIdentity returns the rows of each identity, indexed like Names.
func (s *Set) ByIdentity() [][]int {
	g := make([][]int, len(s.Names))
	for r, l := range s.Label {
		g[l] = append(g[l], r)
	}
	return g
}

// MultiImage returns the number of identities with two or more rows.
func (s *Set) MultiImage() int {
	n := 0
	for _, rows := range s.ByIdentity() {
		if len(rows) >= 2 {
			n++
		}
	}
	return n
}
