package shard

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"net"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/he"
	pb "github.com/puente-id/puente/proto/puente/shard/v1"
)

// TestOwnerKnownAnswers pins the placement: a change would move entries between shards that
// hold them, so it must be deliberate (and rebalance every deployment).
func TestOwnerKnownAnswers(t *testing.T) {
	got := []int{Owner("ref-00000", 4), Owner("ref-00001", 4), Owner("ref-00002", 5), Owner("v1-1754fdd99d502bf4", 128)}
	if want := []int{1, 2, 1, 41}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Owner gives %v, want %v", got, want)
	}
	for n := 1; n <= 9; n++ {
		counts := make([]int, n)
		for i := 0; i < 9000; i++ {
			o := Owner(fmt.Sprintf("ref-%d", i), n)
			if o < 0 || o >= n {
				t.Fatalf("Owner %d of %d", o, n)
			}
			counts[o]++
		}
		for i, c := range counts {
			// Binomial(9000, 1/n): 6 standard deviations.
			mean := 9000.0 / float64(n)
			if math.Abs(float64(c)-mean) > 6*math.Sqrt(mean) {
				t.Errorf("%d shards: shard %d holds %d of 9000", n, i, c)
			}
		}
	}
}

func TestSplitKeepsEveryEntryOnce(t *testing.T) {
	var es []Entry
	for i := 0; i < 500; i++ {
		es = append(es, Entry{Ref: fmt.Sprintf("r%d", i), Template: []float64{float64(i)}})
	}
	for _, n := range []int{1, 4, 5} {
		seen := map[string]int{}
		for i, part := range Split(es, n) {
			for _, e := range part {
				if Owner(e.Ref, n) != i {
					t.Errorf("%d shards: %s in partition %d", n, e.Ref, i)
				}
				seen[e.Ref]++
			}
		}
		if len(seen) != len(es) {
			t.Errorf("%d shards: %d of %d entries placed", n, len(seen), len(es))
		}
		for r, c := range seen {
			if c != 1 {
				t.Errorf("%d shards: %s placed %d times", n, r, c)
			}
		}
	}
}

// TestGenerationOfContent: the generation a shard is checked against changes with any
// reference, template, presence, epoch, dimension or order of its partition, and not otherwise.
func TestGenerationOfContent(t *testing.T) {
	base := func() []Entry {
		return []Entry{{Ref: "a", Template: []float64{1, 0}}, {Ref: "b", Template: []float64{0, 1}}}
	}
	g0 := Generation(3, 2, base())
	if Generation(3, 2, base()) != g0 {
		t.Fatal("generation is not deterministic")
	}
	changes := map[string]func(es []Entry) (uint64, int, []Entry){
		"epoch":    func(es []Entry) (uint64, int, []Entry) { return 4, 2, es },
		"dims":     func(es []Entry) (uint64, int, []Entry) { return 3, 3, es },
		"ref":      func(es []Entry) (uint64, int, []Entry) { es[1].Ref = "c"; return 3, 2, es },
		"template": func(es []Entry) (uint64, int, []Entry) { es[1].Template[1] = 0.5; return 3, 2, es },
		"absent":   func(es []Entry) (uint64, int, []Entry) { es[1].Template = nil; return 3, 2, es },
		"order":    func(es []Entry) (uint64, int, []Entry) { es[0], es[1] = es[1], es[0]; return 3, 2, es },
		"removal":  func(es []Entry) (uint64, int, []Entry) { return 3, 2, es[:1] },
	}
	for name, f := range changes {
		if Generation(f(base())) == g0 {
			t.Errorf("%s: same generation", name)
		}
	}
}

// TestPartitionsRouteChanges: an entry enrolled or removed changes the generation of the shard
// that owns it and of no other, so only that shard is sent a new partition.
func TestPartitionsRouteChanges(t *testing.T) {
	const n, dims = 4, 3
	var es []Entry
	for i := range 40 {
		es = append(es, Entry{Ref: fmt.Sprintf("case-%d", i), Template: []float64{float64(i), 1, 0}})
	}
	w := Want{Agreement: "a", Epoch: 2}
	before, parts := Partitions(w, n, dims, es)
	if !reflect.DeepEqual(parts, Split(es, n)) || len(before.Generations) != n {
		t.Fatalf("Partitions split %d ways with %d generations", len(parts), len(before.Generations))
	}
	for name, changed := range map[string][]Entry{
		"enrolment": append(append([]Entry(nil), es...), Entry{Ref: "case-new", Template: []float64{0, 0, 1}}),
		"removal":   append(append([]Entry(nil), es[:7]...), es[8:]...),
	} {
		owner := Owner("case-new", n)
		if name == "removal" {
			owner = Owner(es[7].Ref, n)
		}
		after, _ := Partitions(w, n, dims, changed)
		for i := range n {
			if moved := after.Generations[i] != before.Generations[i]; moved != (i == owner) {
				t.Errorf("%s owned by shard %d: shard %d's generation changed = %v", name, owner, i, moved)
			}
		}
	}
}

func TestTargets(t *testing.T) {
	got, err := Targets(nil, "s-{i}.svc:7443", 3)
	if err != nil || !reflect.DeepEqual(got, []string{"s-0.svc:7443", "s-1.svc:7443", "s-2.svc:7443"}) {
		t.Errorf("pattern: %v %v", got, err)
	}
	if got, err := Targets([]string{"a:1", "b:1"}, "", 0); err != nil || len(got) != 2 {
		t.Errorf("list: %v %v", got, err)
	}
	for name, c := range map[string]struct {
		addrs   []string
		pattern string
		count   int
	}{
		"both": {[]string{"a:1"}, "s-{i}:1", 1}, "neither": {nil, "", 3}, "no {i}": {nil, "s:1", 2},
		"count 0": {nil, "s-{i}:1", 0}, "count too large": {nil, "s-{i}:1", 129}, "twice": {[]string{"a:1", "a:1"}, "", 0},
		"empty": {[]string{""}, "", 0},
	} {
		if _, err := Targets(c.addrs, c.pattern, c.count); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestEntriesRoundTrip(t *testing.T) {
	es := []Entry{{Ref: "a", Template: []float64{0.5, -0.25}}, {Ref: "absent"}, {Ref: "c", Template: []float64{1, 0}}}
	b, err := EncodeEntries(es, 2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEntries(b, 3, 2)
	if err != nil || !reflect.DeepEqual(got, es) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if _, err := EncodeEntries([]Entry{{Ref: "x", Template: []float64{1}}}, 2); err == nil {
		t.Error("an entry of the wrong dimension encoded")
	}
	if _, err := EncodeEntries([]Entry{{Template: []float64{1, 0}}}, 2); err == nil {
		t.Error("an entry without a reference encoded")
	}
	// Every truncation, a byte more, a wrong count or dimension: an error, never a panic.
	for i := 0; i < len(b); i++ {
		if _, err := DecodeEntries(b[:i], 3, 2); err == nil {
			t.Errorf("truncated to %d bytes: accepted", i)
		}
	}
	for _, c := range []struct {
		b    []byte
		n    uint64
		dims int
	}{{append(append([]byte(nil), b...), 0), 3, 2}, {b, 2, 2}, {b, 4, 2}, {b, 3, 3}, {b, math.MaxUint64, 2}} {
		if _, err := DecodeEntries(c.b, c.n, c.dims); err == nil {
			t.Errorf("%d bytes as %d entries of %d: accepted", len(c.b), c.n, c.dims)
		}
	}
}

// FuzzDecodeEntries: what DecodeEntries accepts is n entries that re-encode to the same bytes.
func FuzzDecodeEntries(f *testing.F) {
	b, _ := EncodeEntries([]Entry{{Ref: "a", Template: []float64{0.5, -0.25}}, {Ref: "b"}}, 2)
	f.Add(b, uint64(2), 2)
	f.Fuzz(func(t *testing.T, b []byte, n uint64, dims int) {
		es, err := DecodeEntries(b, n, dims)
		if err != nil {
			return
		}
		if uint64(len(es)) != n {
			t.Fatalf("%d entries for %d", len(es), n)
		}
		if again, err := EncodeEntries(es, dims); err != nil || string(again) != string(b) {
			t.Fatalf("accepted entries do not re-encode to the same bytes: %v", err)
		}
	})
}

func TestPartitionFileRefusesDamage(t *testing.T) {
	dir := t.TempDir()
	path, err := partitionPath(dir, "us-co")
	if err != nil {
		t.Fatal(err)
	}
	h := &pb.InstallHeader{Partition: &pb.PartitionID{Agreement: "us-co", Count: 1}, ParamSet: "x", Dims: 2, KeysSize: 3, Entries: 0}
	if err := writePartition(path, h, []byte{1, 2, 3}, nil); err != nil {
		t.Fatal(err)
	}
	h2, keys, entries, err := readPartition(path)
	if err != nil || h2.Partition.Agreement != "us-co" || len(keys) != 3 || len(entries) != 0 {
		t.Fatalf("read back: %v %v %v %v", h2, keys, entries, err)
	}
	for _, bad := range []string{"../x", "", "a/b", ".hidden"} {
		if _, err := partitionPath(dir, bad); err == nil {
			t.Errorf("agreement %q: a path was made", bad)
		}
	}
	if _, _, _, err := readPartition(filepath.Join(dir, "missing.partition")); err == nil {
		t.Error("a missing file read")
	}
}

func TestMetrics(t *testing.T) {
	m := NewMetrics()
	m.count("us-co", "ok", 2*time.Second)
	m.count("us-co", "refused", 0)
	m.held("us-co", 1234)
	var nilM *Metrics
	nilM.count("x", "ok", 0) // a shard without metrics records nothing, and does not panic
	nilM.held("x", 1)
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, mt := range f.Metric {
			switch {
			case mt.Counter != nil:
				got[f.GetName()+"/"+mt.Label[1].GetValue()] = mt.Counter.GetValue()
			case mt.Gauge != nil:
				got[f.GetName()] = mt.Gauge.GetValue()
			case mt.Histogram != nil:
				got[f.GetName()] = float64(mt.Histogram.GetSampleCount())
			}
		}
	}
	want := map[string]float64{"puente_shard_counts_total/ok": 1, "puente_shard_counts_total/refused": 1,
		"puente_shard_entries": 1234, "puente_shard_count_seconds": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
}

// TestPoolObservesCalls: every call to a shard reaches the pool's observer with the shard's
// index and the outcome the pool classified it as (here a shard that does not listen:
// Unavailable), which is what the node's per-shard metrics count.
func TestPoolObservesCalls(t *testing.T) {
	dead := deadAddr(t)
	pl, err := Dial([]string{dead, dead + "0"}, &tls.Config{MinVersion: tls.VersionTLS13}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	type call struct {
		shard int
		name  string
		code  codes.Code
	}
	var mu sync.Mutex
	var got []call
	pl.Observe(func(i int, name string, code codes.Code, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, call{i, name, code})
	})
	ps, err := he.Lookup(he.N15V2)
	if err != nil {
		t.Fatal(err)
	}
	want := Want{Agreement: "us-co", Epoch: 1, Generations: []uint64{1, 1}, ParamSet: ps}
	if err := pl.Install(context.Background(), 0, want, 4, nil, nil); err == nil {
		t.Fatal("install on a shard that does not listen succeeded")
	}
	if len(got) != 1 || got[0] != (call{0, "install", codes.Unavailable}) {
		t.Errorf("observer saw %+v, want one Unavailable install of shard 0", got)
	}
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}
