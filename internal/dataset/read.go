package dataset

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/puente-id/puente/protect"
)

// Format is how an embeddings file is encoded.
type Format string

// The embeddings formats [Load] reads, with protect's readers.
const (
	NPY  Format = "npy"  // NumPy .npy, 2-D, '<f4' or '<f8', C order
	CSV  Format = "csv"  // one vector per record (RFC 4180)
	JSON Format = "json" // [[...], ...] or [{"name": ..., "embeddings": [[...], ...]}, ...]
)

// MaxLabelBytes bounds one identity name in a labels file.
const MaxLabelBytes = 256

// Source names the files of a labelled set.
type Source struct {
	Embeddings string
	Format     Format
	CSVHeader  bool   // the CSV file's first record names the columns
	Labels     string // one identity per line; optional for JSON groups, which name their rows
	Pairs      string // ten-fold pairs (ReadPairs); empty: built from the labels
	Name       string // the set's name in reports; default: the embeddings file's base name
	Model      string // the embedding model's name for the report's prose, or empty
	Note       string // provenance text
	Limits     protect.Limits
}

// Load reads a labelled set: the embeddings, their identities and, if
// named, the ten-fold pairs (otherwise Pairs is nil: [Set.TenFoldPairs]
// builds them from the labels). Each file's size and SHA-256 go into the
// set's provenance. Errors name the file and the row or line at fault.
func Load(src Source) (*Set, error) {
	emb, files, err := ReadEmbeddings(src)
	if err != nil {
		return nil, err
	}
	if emb.Labels == nil {
		return nil, fmt.Errorf("%w: %s: no identities: give a labels file (one identity per line, in row order)", ErrInput, src.Embeddings)
	}
	identity := emb.Labels
	emb.Labels = nil
	name := src.Name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(src.Embeddings), filepath.Ext(src.Embeddings))
	}
	s, err := New(name, emb, identity)
	if err != nil {
		return nil, err
	}
	s.Model = src.Model
	if src.Pairs != "" {
		f, err := ReadFile(src.Pairs, "pairs", func(r io.Reader) error {
			var err error
			s.Pairs, err = ReadPairs(r, src.Pairs, s.Label)
			return err
		})
		if err != nil {
			return nil, err
		}
		s.PairsGiven = true
		files = append(files, f)
	}
	s.Provenance = Provenance{Files: files, Note: src.Note}
	return s, nil
}

// ReadEmbeddings reads the embeddings of src and, with src.Labels, their
// identities into the matrix's Labels (JSON groups name theirs; otherwise
// Labels stays nil). It returns the files read, with their sizes and
// digests. src.Pairs is not read.
func ReadEmbeddings(src Source) (*protect.Matrix, []File, error) {
	var emb *protect.Matrix
	f, err := ReadFile(src.Embeddings, "embeddings", func(r io.Reader) error {
		var err error
		switch src.Format {
		case NPY:
			emb, err = protect.ReadNPY(r, src.Embeddings, src.Limits)
		case CSV:
			emb, err = protect.ReadCSV(r, src.Embeddings, src.Limits, src.CSVHeader)
		case JSON:
			emb, err = protect.ReadJSON(r, src.Embeddings, src.Limits)
		default:
			err = fmt.Errorf("%w: format %q (want npy, csv or json)", ErrInput, src.Format)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	files := []File{f}
	if src.Labels == "" {
		return emb, files, nil
	}
	if emb.Labels != nil {
		return nil, nil, fmt.Errorf("%w: %s names its rows' identities and %s names them again: give one", ErrInput, src.Embeddings, src.Labels)
	}
	f, err = ReadFile(src.Labels, "labels", func(r io.Reader) error {
		var err error
		emb.Labels, err = ReadLabels(r, src.Labels, emb.Rows)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return emb, append(files, f), nil
}

// ReadFile opens path, calls read with its content and returns the file's
// provenance: its size and the SHA-256 of every byte in it (the bytes
// read, and any the reader left).
func ReadFile(path, role string, read func(io.Reader) error) (File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("dataset: %s: %w", role, err)
	}
	defer fh.Close()
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(fh, h)}
	if err := read(cr); err != nil {
		return File{}, err
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return File{}, fmt.Errorf("dataset: %s: %w", path, err)
	}
	return File{Role: role, Name: path, Size: cr.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ReadLabels reads one identity per line, in row order, for a set of rows
// rows (a negative rows accepts any number). A line is the identity's name
// with surrounding spaces trimmed; it must not be empty, hold control
// characters or invalid UTF-8, or exceed MaxLabelBytes. A final newline
// is optional; a "\r\n" line end is read as "\n". Errors wrap ErrInput
// and name source and the line.
func ReadLabels(r io.Reader, source string, rows int) ([]string, error) {
	most := rows
	if most < 0 {
		most = protect.DefaultLimits.MaxRows
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLabelBytes+2)
	var out []string
	for line := 1; sc.Scan(); line++ {
		if len(out) == most {
			return nil, fmt.Errorf("%w: %s: line %d: more identities than the %d rows", ErrInput, source, line, most)
		}
		id, err := parseLabel(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%w: %s: line %d: %s", ErrInput, source, line, err)
		}
		out = append(out, id)
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, fmt.Errorf("%w: %s: line %d: longer than %d bytes", ErrInput, source, len(out)+1, MaxLabelBytes)
		}
		return nil, fmt.Errorf("dataset: %s: %w", source, err)
	}
	if rows >= 0 && len(out) != rows {
		return nil, fmt.Errorf("%w: %s: %d identities for %d rows (one per line, in row order)", ErrInput, source, len(out), rows)
	}
	return out, nil
}

func parseLabel(b []byte) (string, error) {
	b = bytes.TrimSuffix(b, []byte("\r"))
	if !utf8.Valid(b) {
		return "", fmt.Errorf("not UTF-8 text")
	}
	s := strings.TrimSpace(string(b))
	switch {
	case s == "":
		return "", fmt.Errorf("empty identity")
	case len(s) > MaxLabelBytes:
		return "", fmt.Errorf("identity longer than %d bytes", MaxLabelBytes)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", fmt.Errorf("control character in the identity")
	}
	return s, nil
}

// MaxPairs bounds a pairs file.
const MaxPairs = 1 << 20

// ReadPairs reads ten-fold verification pairs, one per line as four
// fields separated by spaces or tabs: row_a row_b same fold, with rows
// 0-based indices into labels, same 1 for a mated pair and 0 for a
// non-mated one, and fold 0 to 9. Empty lines and lines starting with #
// are skipped; so is a first line starting with "row_a" (a header). same
// must agree with the labels. Errors wrap ErrInput and name source and the
// line.
func ReadPairs(r io.Reader, source string, labels []int) ([]Pair, error) {
	sc := bufio.NewScanner(r)
	var out []Pair
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") || (line == 1 && strings.HasPrefix(text, "row_a")) {
			continue
		}
		if len(out) == MaxPairs {
			return nil, fmt.Errorf("%w: %s: line %d: more than %d pairs", ErrInput, source, line, MaxPairs)
		}
		p, err := parsePair(strings.Fields(text), labels)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: line %d: %s", ErrInput, source, line, err)
		}
		p.Index = len(out)
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInput, source, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s: no pairs", ErrInput, source)
	}
	return out, nil
}

func parsePair(f []string, labels []int) (Pair, error) {
	if len(f) != 4 {
		return Pair{}, fmt.Errorf("%d fields, want 4 (row_a row_b same fold)", len(f))
	}
	names := [4]string{"row_a", "row_b", "same", "fold"}
	limits := [4]int{len(labels) - 1, len(labels) - 1, 1, 9}
	var v [4]int
	for i := range v {
		n, err := strconv.Atoi(f[i])
		if err != nil || n < 0 || n > limits[i] {
			return Pair{}, fmt.Errorf("%s %q is not a whole number in [0, %d]", names[i], f[i], limits[i])
		}
		v[i] = n
	}
	p := Pair{A: v[0], B: v[1], Same: v[2] == 1, Fold: v[3]}
	switch {
	case p.A == p.B:
		return Pair{}, fmt.Errorf("row_a and row_b are the same row")
	case p.Same != (labels[p.A] == labels[p.B]):
		return Pair{}, fmt.Errorf("same = %d, but the labels of rows %d and %d say otherwise", v[2], p.A, p.B)
	}
	return p, nil
}
