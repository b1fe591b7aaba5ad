package gallery

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnrolGetListCount(t *testing.T) {
	s := newTestStore(t)
	p := newTestProtector(1)
	if err := s.Enrol(p, batchOf(0, 20)); err != nil {
		t.Fatal(err)
	}
	if err := s.Enrol(p, batchOf(20, 50)); err != nil {
		t.Fatal(err)
	}
	checkContents(t, s, 1, span(0, 50))

	r, err := s.Get(refFor(7))
	if err != nil {
		t.Fatal(err)
	}
	if r.Ref != refFor(7) || r.Epoch != 1 || r.Scheme != testScheme ||
		!r.EnrolledAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)) ||
		!equalFloats(r.Template, expectedTemplate(1, testDim, rawFor(7, testRawDim), false)) {
		t.Errorf("Get returned a different record: %+v", r)
	}
	refs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.List()
	if !slices.Equal(refs, again) {
		t.Error("List order is not stable")
	}
	sorted := slices.Sorted(slices.Values(refs))
	if slices.Equal(refs, sorted) {
		t.Error("List is in reference order; it should follow the keyed MACs")
	}
	want := make([]string, 50)
	for i := range want {
		want[i] = refFor(i)
	}
	if !slices.Equal(sorted, want) {
		t.Errorf("List holds %v", sorted)
	}
	if _, err := s.Get("nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

// TestEnrolBadInputChangesNothing checks that every kind of bad enrolment is refused with the
// right error, names the bad item, and leaves the store exactly as it was.
func TestEnrolBadInputChangesNothing(t *testing.T) {
	s := newTestStore(t)
	if err := s.Enrol(newTestProtector(1), batchOf(0, 5)); err != nil {
		t.Fatal(err)
	}
	gen := s.Generation()
	withRaw := func(i int, f func([]float32) []float32) []Enrolment {
		b := batchOf(10, 13)
		b[i].Raw = f(b[i].Raw)
		return b
	}
	withRef := func(i int, ref string) []Enrolment {
		b := batchOf(10, 13)
		b[i].Ref = ref
		return b
	}
	nan := float32(0)
	nan = nan / nan
	cases := []struct {
		name  string
		p     *testProtector
		batch []Enrolment
		want  error
		index int
	}{
		{"raw too short", nil, withRaw(1, func(r []float32) []float32 { return r[:5] }), ErrInvalid, 1},
		{"raw NaN", nil, withRaw(2, func(r []float32) []float32 { r[3] = nan; return r }), ErrInvalid, 2},
		{"empty ref", nil, withRef(0, ""), ErrInvalid, 0},
		{"long ref", nil, withRef(1, strings.Repeat("x", MaxRefLen+1)), ErrInvalid, 1},
		{"bad UTF-8 ref", nil, withRef(2, "a\xffb"), ErrInvalid, 2},
		{"repeat in batch", nil, withRef(2, refFor(10)), ErrDuplicate, 2},
		{"already enrolled", nil, withRef(1, refFor(3)), ErrDuplicate, 1},
		{"protector epoch", &testProtector{epoch: 2, scheme: testScheme, dim: testDim}, batchOf(10, 13), ErrEpoch, -1},
		{"protector scheme", &testProtector{epoch: 1, scheme: "other", dim: testDim}, batchOf(10, 13), ErrEpoch, -1},
		{"protector dim", &testProtector{epoch: 1, scheme: testScheme, dim: 8}, batchOf(10, 13), ErrInvalid, -1},
		{"protector NaN", &testProtector{epoch: 1, scheme: testScheme, dim: testDim, nan: true}, batchOf(10, 13), ErrInvalid, 0},
	}
	for _, c := range cases {
		p := c.p
		if p == nil {
			p = newTestProtector(1)
		}
		err := s.Enrol(p, c.batch)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
			continue
		}
		var ie *InputError
		if !errors.As(err, &ie) || ie.Index != c.index {
			t.Errorf("%s: error %v does not name item %d", c.name, err, c.index)
		}
		if s.Generation() != gen {
			t.Errorf("%s: the store was written", c.name)
		}
	}
	failing := newTestProtector(1)
	failing.failAt = 2
	if err := s.Enrol(failing, batchOf(10, 13)); err == nil || !strings.Contains(err.Error(), "item 1") {
		t.Errorf("failing protector: got %v, want an error naming item 1", err)
	}
	checkContents(t, s, 1, span(0, 5))
}

func TestRemove(t *testing.T) {
	s := newTestStore(t)
	if err := s.Enrol(newTestProtector(1), batchOf(0, 10)); err != nil {
		t.Fatal(err)
	}
	err := s.Remove(refFor(1), "nobody", refFor(2))
	var ie *InputError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &ie) || ie.Index != 1 {
		t.Fatalf("Remove with an unknown reference = %v, want ErrNotFound naming item 1", err)
	}
	checkContents(t, s, 1, span(0, 10))
	if err := s.Remove(refFor(1), refFor(2)); err != nil {
		t.Fatal(err)
	}
	checkContents(t, s, 1, []int{0, 3, 4, 5, 6, 7, 8, 9})
	// A removed subject can be enrolled again (its archive entry went too).
	if err := s.Enrol(newTestProtector(1), batchOf(1, 2)); err != nil {
		t.Fatalf("re-enrol after remove: %v", err)
	}
}

func TestReopenAndKeys(t *testing.T) {
	s := newTestStore(t)
	if err := s.Enrol(newTestProtector(1), batchOf(0, 8)); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	if err := s.Enrol(newTestProtector(1), batchOf(8, 9)); !errors.Is(err, ErrClosed) {
		t.Errorf("Enrol after Close = %v, want ErrClosed", err)
	}

	if _, err := Open(path, testKey(t, 0x01), nil); !errors.Is(err, ErrWrongKey) {
		t.Errorf("wrong data key: %v, want ErrWrongKey", err)
	}
	if _, err := Open(path, testKey(t, 0xD1), &Options{ArchiveKey: testKey(t, 0x02)}); !errors.Is(err, ErrWrongKey) {
		t.Errorf("wrong archive key: %v, want ErrWrongKey", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none.db"), testKey(t, 0xD1), nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
	if _, err := Create(path, Params{Scheme: testScheme, Dim: 4, RawDim: 4, Epoch: 1}, testKey(t, 0xD1),
		testOptions(t)); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("Create over an existing file: %v", err)
	}

	// Without the archive key: read, search and remove, but no enrolment.
	ro, err := Open(path, testKey(t, 0xD1), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkContents(t, ro, 1, span(0, 8))
	if err := ro.Enrol(newTestProtector(1), batchOf(8, 9)); !errors.Is(err, ErrNoArchiveKey) {
		t.Errorf("Enrol without archive key = %v, want ErrNoArchiveKey", err)
	}
	ro.Close()

	rw, err := Open(path, testKey(t, 0xD1), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	checkContents(t, rw, 1, span(0, 8))
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("gallery file mode %v, %v; want 0600", info.Mode().Perm(), err)
	}
}

func TestCreateBadParams(t *testing.T) {
	dir := t.TempDir()
	for i, p := range []Params{
		{Scheme: "", Dim: 4, RawDim: 4, Epoch: 1},
		{Scheme: "s", Dim: 0, RawDim: 4, Epoch: 1},
		{Scheme: "s", Dim: 4, RawDim: MaxDim + 1, Epoch: 1},
		{Scheme: "s", Dim: 4, RawDim: 4, Epoch: 0},
	} {
		path := filepath.Join(dir, "g.db")
		if _, err := Create(path, p, testKey(t, 1), testOptions(t)); !errors.Is(err, ErrInvalid) {
			t.Errorf("params %d: %v, want ErrInvalid", i, err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("params %d: a file was left behind", i)
		}
	}
	if _, err := Create(filepath.Join(dir, "g.db"), Params{Scheme: "s", Dim: 4, RawDim: 4, Epoch: 1},
		testKey(t, 1), nil); !errors.Is(err, ErrNoArchiveKey) {
		t.Errorf("Create without archive key: %v", err)
	}
	if _, err := NewKey(make([]byte, 31)); err == nil {
		t.Error("NewKey accepted 31 bytes")
	}
}

func TestSnapshotCacheAndDerived(t *testing.T) {
	s := newTestStore(t)
	p := newTestProtector(1)
	if err := s.Enrol(p, batchOf(0, 4)); err != nil {
		t.Fatal(err)
	}
	builds := 0
	d := NewDerived(s, func(snap *Snapshot) (int, error) { builds++; return snap.Count(), nil })
	a, _ := s.Snapshot()
	b, _ := s.Snapshot()
	if a != b {
		t.Error("second Snapshot was rebuilt without a write")
	}
	for range 3 {
		if n, err := d.Get(); err != nil || n != 4 {
			t.Fatalf("Derived.Get = %d, %v", n, err)
		}
	}
	if builds != 1 {
		t.Errorf("built %d times without a write, want 1", builds)
	}
	if err := s.Enrol(p, batchOf(4, 5)); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Snapshot()
	if c == a || c.Count() != 5 || c.Generation <= a.Generation {
		t.Errorf("snapshot after a write: count %d, generation %d (was %d)", c.Count(), c.Generation, a.Generation)
	}
	if n, _ := d.Get(); n != 5 || builds != 2 {
		t.Errorf("Derived after a write = %d after %d builds, want 5 after 2", n, builds)
	}
	if err := s.Remove(refFor(0)); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.Get(); n != 4 || builds != 3 {
		t.Errorf("Derived after a removal = %d after %d builds, want 4 after 3", n, builds)
	}
}
