package lfw

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/puente-id/puente/protect"
)

// Subdirectory and file names of the set inside the data directory.
const (
	SetDir         = "lfw-dlib128"
	EmbeddingsFile = "embeddings_f32.npy"
	IndexFile      = "index.tsv"
	PairsFile      = "lfw_pairs_covered.tsv"
)

// Set is the loaded evaluation set.
type Set struct {
	Emb      *protect.Matrix // one raw embedding per row
	Identity []string        // identity name of each row
	Image    []string        // image file name of each row
	// Label is the identity of each row as an index into Names, numbered in
	// order of first appearance (alphabetical in this set).
	Label []int
	Names []string
	Pairs []Pair // the LFW View-2 pairs covered by the set
}

// Pair is one LFW View-2 pair.
type Pair struct {
	Index, Fold int
	Same        bool
	A, B        int // rows
}

// Load reads the set from dataDir/lfw-dlib128. Errors name the file and
// the line at fault.
func Load(dataDir string) (*Set, error) {
	dir := filepath.Join(dataDir, SetDir)
	emb, err := readNPYFile(filepath.Join(dir, EmbeddingsFile))
	if err != nil {
		return nil, err
	}
	s := &Set{Emb: emb}
	if err := s.readIndex(filepath.Join(dir, IndexFile)); err != nil {
		return nil, err
	}
	if err := s.readPairs(filepath.Join(dir, PairsFile)); err != nil {
		return nil, err
	}
	return s, nil
}

func readNPYFile(path string) (*protect.Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lfw: %w", err)
	}
	defer f.Close()
	m, err := protect.ReadNPY(f, path, protect.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("lfw: %w", err)
	}
	return m, nil
}

// readTSV calls fn with the fields of each line after the header, which
// must be exactly header.
func readTSV(path, header string, fn func(line int, f []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("lfw: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			if sc.Text() != header {
				return fmt.Errorf("lfw: %s: line 1: header is not %q", path, header)
			}
			continue
		}
		if err := fn(line, strings.Split(sc.Text(), "\t")); err != nil {
			return fmt.Errorf("lfw: %s: line %d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("lfw: %s: %w", path, err)
	}
	return nil
}

func (s *Set) readIndex(path string) error {
	byName := map[string]int{}
	err := readTSV(path, "row\tidentity\timage", func(_ int, f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("%d fields, want 3", len(f))
		}
		if row, err := strconv.Atoi(f[0]); err != nil || row != len(s.Identity) {
			return fmt.Errorf("row %q, want %d (rows in order)", f[0], len(s.Identity))
		}
		if f[1] == "" || f[2] == "" {
			return fmt.Errorf("empty identity or image")
		}
		id, ok := byName[f[1]]
		if !ok {
			id = len(s.Names)
			byName[f[1]] = id
			s.Names = append(s.Names, f[1])
		}
		s.Identity, s.Image, s.Label = append(s.Identity, f[1]), append(s.Image, f[2]), append(s.Label, id)
		return nil
	})
	if err == nil && len(s.Identity) != s.Emb.Rows {
		err = fmt.Errorf("lfw: %s: %d rows, the embeddings have %d", path, len(s.Identity), s.Emb.Rows)
	}
	return err
}

func (s *Set) readPairs(path string) error {
	return readTSV(path, "pair_index\tfold\tsame\trow_a\trow_b\timage_a\timage_b", func(_ int, f []string) error {
		if len(f) != 7 {
			return fmt.Errorf("%d fields, want 7", len(f))
		}
		var v [5]int
		for i := range v {
			n, err := strconv.Atoi(f[i])
			if err != nil || n < 0 {
				return fmt.Errorf("field %d (%q) is not a non-negative integer", i+1, f[i])
			}
			v[i] = n
		}
		p := Pair{Index: v[0], Fold: v[1], Same: v[2] == 1, A: v[3], B: v[4]}
		switch {
		case v[2] > 1 || p.Fold > 9:
			return fmt.Errorf("same must be 0 or 1 and fold 0..9")
		case p.A >= len(s.Image) || p.B >= len(s.Image):
			return fmt.Errorf("row out of range")
		case s.Image[p.A] != f[5] || s.Image[p.B] != f[6]:
			return fmt.Errorf("images %s, %s do not match the index rows %d, %d", f[5], f[6], p.A, p.B)
		case p.Same != (s.Label[p.A] == s.Label[p.B]):
			return fmt.Errorf("same=%d disagrees with the identities of the index", v[2])
		}
		s.Pairs = append(s.Pairs, p)
		return nil
	})
}
