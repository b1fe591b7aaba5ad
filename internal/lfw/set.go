package lfw

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/puente-id/puente/internal/dataset"
	"github.com/puente-id/puente/protect"
)

// Subdirectory and file names of the set inside the data directory.
const (
	SetDir         = "lfw-dlib128"
	EmbeddingsFile = "embeddings_f32.npy"
	IndexFile      = "index.tsv"
	PairsFile      = "lfw_pairs_covered.tsv"
)

// ProvenanceNote is where lfw-dlib128 comes from, as the data directory's
// README.md records it.
const ProvenanceNote = "dlib ResNet face descriptors (the face_recognition library, HOG detector, first face per image) of the first " +
	"3,200 LFW images in alphabetical order, from github.com/paoloav26/BD2-P003 at 4f773d163e2447b35c48fd2aa7d0af7b51bfa814 " +
	"(no licence stated), converted to float32; LFW images are for research use (UMass LFW terms); pairs from LFW View-2 pairs.txt"

// Set is the loaded evaluation set: a labelled set of package dataset,
// with the LFW View-2 pairs as its ten-fold pairs.
type Set = dataset.Set

// Pair is one LFW View-2 pair.
type Pair = dataset.Pair

// Load reads the set from dataDir/lfw-dlib128. Errors name the file and
// the line at fault. The set's provenance lists the three files with
// their sizes and SHA-256 digests.
func Load(dataDir string) (*Set, error) {
	dir := filepath.Join(dataDir, SetDir)
	var emb *protect.Matrix
	embFile, err := dataset.ReadFile(filepath.Join(dir, EmbeddingsFile), "embeddings", func(r io.Reader) error {
		var err error
		emb, err = protect.ReadNPY(r, filepath.Join(dir, EmbeddingsFile), protect.DefaultLimits)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lfw: %w", err)
	}
	var ix index
	ixFile, err := dataset.ReadFile(filepath.Join(dir, IndexFile), "index", func(r io.Reader) error {
		return ix.read(r, filepath.Join(dir, IndexFile), emb.Rows)
	})
	if err != nil {
		return nil, err
	}
	s, err := dataset.New(SetDir, emb, ix.identity)
	if err != nil {
		return nil, fmt.Errorf("lfw: %w", err)
	}
	s.Image, s.Model = ix.image, "dlib"
	s.Description = fmt.Sprintf("dlib ResNet %d-d descriptors of %d LFW images", emb.Cols, emb.Rows)
	pairsFile, err := dataset.ReadFile(filepath.Join(dir, PairsFile), "pairs", func(r io.Reader) error {
		return readPairs(s, r, filepath.Join(dir, PairsFile))
	})
	if err != nil {
		return nil, err
	}
	s.PairsGiven = true
	for _, f := range []*dataset.File{&embFile, &ixFile, &pairsFile} {
		f.Name = filepath.ToSlash(filepath.Join(SetDir, filepath.Base(f.Name)))
	}
	s.Provenance = dataset.Provenance{Files: []dataset.File{embFile, ixFile, pairsFile}, Note: ProvenanceNote}
	return s, nil
}

// readTSV calls fn with the fields of each line of r (the file path)
// after the header, which must be exactly header.
func readTSV(r io.Reader, path, header string, fn func(line int, f []string) error) error {
	sc := bufio.NewScanner(io.LimitReader(r, 64<<20))
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

// index is the content of index.tsv: the identity and image of each row.
type index struct{ identity, image []string }

func (ix *index) read(r io.Reader, path string, rows int) error {
	err := readTSV(r, path, "row\tidentity\timage", func(_ int, f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("%d fields, want 3", len(f))
		}
		if row, err := strconv.Atoi(f[0]); err != nil || row != len(ix.identity) {
			return fmt.Errorf("row %q, want %d (rows in order)", f[0], len(ix.identity))
		}
		if f[1] == "" || f[2] == "" {
			return fmt.Errorf("empty identity or image")
		}
		ix.identity, ix.image = append(ix.identity, f[1]), append(ix.image, f[2])
		return nil
	})
	if err == nil && len(ix.identity) != rows {
		err = fmt.Errorf("lfw: %s: %d rows, the embeddings have %d", path, len(ix.identity), rows)
	}
	return err
}

// readPairs reads the View-2 pairs into s.Pairs.
func readPairs(s *Set, r io.Reader, path string) error {
	return readTSV(r, path, "pair_index\tfold\tsame\trow_a\trow_b\timage_a\timage_b", func(_ int, f []string) error {
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
