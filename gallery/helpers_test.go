package gallery

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

const (
	testDim    = 16
	testRawDim = 24
	testScheme = "test-signed-permutation-v1"
)

// testKey returns a deterministic key; different seeds give different keys.
func testKey(t testing.TB, seed byte) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{seed}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testProtector is a stand-in for the protect package: a keyed signed selection of raw features,
// normalised to a unit vector, different for every epoch. It is deterministic, so a test can
// recompute the template any record must hold. (Not a secure transform.)
type testProtector struct {
	epoch  uint64
	scheme string
	dim    int
	failAt int // Protect fails on its failAt-th call (1-based); 0 never
	calls  int
	nan    bool // return a NaN template
}

func newTestProtector(epoch uint64) *testProtector {
	return &testProtector{epoch: epoch, scheme: testScheme, dim: testDim}
}

func (p *testProtector) Epoch() uint64  { return p.epoch }
func (p *testProtector) Scheme() string { return p.scheme }
func (p *testProtector) Dim() int       { return p.dim }

func (p *testProtector) Protect(raw []float32) ([]float64, error) {
	p.calls++
	if p.failAt > 0 && p.calls == p.failAt {
		return nil, errors.New("test protector refuses this vector")
	}
	return expectedTemplate(p.epoch, p.dim, raw, p.nan), nil
}

// expectedTemplate is the template testProtector makes for raw under epoch.
func expectedTemplate(epoch uint64, dim int, raw []float32, nan bool) []float64 {
	t := make([]float64, dim)
	var norm float64
	for j := range t {
		v := float64(raw[(j*7+int(epoch))%len(raw)])
		if (j+int(epoch))%3 == 0 {
			v = -v
		}
		t[j] = v
		norm += v * v
	}
	for j := range t {
		t[j] /= math.Sqrt(norm)
	}
	if nan {
		t[dim/2] = math.NaN()
	}
	return t
}

// rawFor returns subject i's deterministic raw feature vector.
func rawFor(i int, dim int) []float32 {
	r := rand.New(rand.NewPCG(uint64(i), 0x9e3779b97f4a7c15))
	v := make([]float32, dim)
	for j := range v {
		v[j] = float32(r.NormFloat64())
	}
	return v
}

// refFor names subject i.
func refFor(i int) string { return fmt.Sprintf("subject-%05d", i) }

// idOf is the inverse of refFor.
func idOf(ref string) int {
	var id int
	fmt.Sscanf(ref, "subject-%d", &id)
	return id
}

// batchOf returns the enrolments of subjects from..to-1.
func batchOf(from, to int) []Enrolment {
	b := make([]Enrolment, 0, to-from)
	for i := from; i < to; i++ {
		b = append(b, Enrolment{Ref: refFor(i), Raw: rawFor(i, testRawDim)})
	}
	return b
}

// testOptions are deterministic options with the test archive key.
func testOptions(t testing.TB) *Options {
	return &Options{
		ArchiveKey: testKey(t, 0xA7),
		Rand:       rand.NewChaCha8([32]byte{1}),
		Now:        func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC) },
	}
}

// newTestStore creates a gallery at epoch 1 in a temporary directory.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gallery.db")
	s, err := Create(path, Params{Scheme: testScheme, Dim: testDim, RawDim: testRawDim, Epoch: 1},
		testKey(t, 0xD1), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkContents asserts that the store's current epoch holds exactly subjects of ids, each with
// the template the test protector makes for the epoch.
func checkContents(t *testing.T, s *Store, epoch uint64, ids []int) {
	t.Helper()
	if got := s.Params().Epoch; got != epoch {
		t.Fatalf("current epoch %d, want %d", got, epoch)
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if snap.Count() != len(ids) {
		t.Fatalf("snapshot holds %d subjects, want %d", snap.Count(), len(ids))
	}
	n, err := s.Count()
	if err != nil || n != len(ids) {
		t.Fatalf("Count() = %d, %v; want %d", n, err, len(ids))
	}
	row := map[string]int{}
	for i, ref := range snap.Refs {
		row[ref] = i
	}
	for _, id := range ids {
		i, ok := row[refFor(id)]
		if !ok {
			t.Fatalf("subject %d missing", id)
		}
		want := expectedTemplate(epoch, snap.Dim, rawFor(id, testRawDim), false)
		if !equalFloats(snap.Row(i), want) {
			t.Fatalf("subject %d: template differs from epoch %d's", id, epoch)
		}
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func span(from, to int) []int {
	ids := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		ids = append(ids, i)
	}
	return ids
}
