package perf

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/puente-id/puente/he"
)

func TestParseStatusKB(t *testing.T) {
	status := []byte("Name:\tpuente\nVmPeak:\t  123456 kB\nVmHWM:\t    2048 kB\nVmRSS:\t1024 kB\nThreads:\t5\n")
	for _, tc := range []struct {
		status, field string
		want          int64
		ok            bool
	}{
		{string(status), "VmHWM:", 2048 << 10, true},
		{string(status), "VmRSS:", 1024 << 10, true},
		{string(status), "VmSwap:", 0, false},
		{"VmHWM:\t12 MB\n", "VmHWM:", 0, false},
		{"VmHWM:\t-5 kB\n", "VmHWM:", 0, false},
		{"VmHWM:\t99999999999999999999 kB\n", "VmHWM:", 0, false},
		{"VmHWM:\t9223372036854775807 kB\n", "VmHWM:", 0, false},
		{"VmHWM:\n", "VmHWM:", 0, false},
		{"", "VmHWM:", 0, false},
	} {
		got, ok := parseStatusKB([]byte(tc.status), tc.field)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseStatusKB(%q, %q) = %d, %v; want %d, %v", tc.status, tc.field, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseStatusKB: any text either yields a non-negative size (whole
// kB) or false, and never panics; a size read is read again from its line.
func FuzzParseStatusKB(f *testing.F) {
	f.Add([]byte("VmHWM:\t    2048 kB\n"))
	f.Add([]byte("VmHWM:\t1 kB"))
	f.Add([]byte("VmHWM:"))
	f.Add([]byte("VmHWM: 9223372036854775807 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := parseStatusKB(b, "VmHWM:")
		if n < 0 || (!ok && n != 0) || n%1024 != 0 {
			t.Fatalf("parseStatusKB(%q) = %d, %v", b, n, ok)
		}
		// Round trip: the size, written as the kernel writes it, reads back the same.
		if ok {
			line := fmt.Appendf(nil, "VmRSS:\t1 kB\nVmHWM:\t%8d kB\n", n>>10)
			if again, ok := parseStatusKB(line, "VmHWM:"); !ok || again != n {
				t.Fatalf("%q reads as %d, %v; want %d", line, again, ok, n)
			}
		}
	})
}

func TestPeakRSS(t *testing.T) {
	rss, _ := RSS()
	peak, ok := PeakRSS()
	if !ok {
		if runtime.GOOS == "linux" {
			t.Fatal("no VmHWM in /proc/self/status")
		}
		return // other systems report no peak, by contract
	}
	if peak <= 0 || peak < rss {
		t.Errorf("peak RSS %d below current RSS %d", peak, rss)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Duration(631 * time.Nanosecond), "631 ns"},
		{Duration(812 * time.Microsecond), "812 µs"},
		{Duration(1500 * time.Microsecond), "1.5 ms"},
		{Duration(8800 * time.Millisecond), "8.8 s"},
		{Duration(1234 * time.Second), "1234 s"},
		{Bytes(512), "512 B"},
		{Bytes(8 << 10), "8.0 KiB"},
		{Bytes(2711626), "2.59 MiB"},
		{Bytes(6 << 30), "6.00 GiB"},
		{Thousands(0), "0"},
		{Thousands(999), "999"},
		{Thousands(1000), "1,000"},
		{Thousands(1000000), "1,000,000"},
		{Thousands(-12345), "-12,345"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestSyntheticGallery: the probe scores MatchScore against its match and
// the plaintext scan finds that one entry and no other.
func TestSyntheticGallery(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dims := range []int{16, 128} {
		gal := make([][]float64, 500)
		for i := range gal {
			gal[i] = UnitVector(rng, dims)
			if d := dot(gal[i], gal[i]); math.Abs(d-1) > 1e-12 {
				t.Fatalf("norm² %v", d)
			}
		}
		p := WithScore(rng, gal[7], MatchScore)
		if s := dot(p, gal[7]); math.Abs(s-MatchScore) > 1e-12 {
			t.Errorf("m = %d: score %v, want %v", dims, s, MatchScore)
		}
		if n := PlainScan(gal, p, DefaultTau); n != 1 {
			t.Errorf("m = %d: plaintext count %d, want 1", dims, n)
		}
		if _, reps, n := TimePlainScan(gal, p, DefaultTau, 0); reps < 3 || n != 1 {
			t.Errorf("m = %d: %d scans, count %d", dims, reps, n)
		}
		// The float32 copy scans to the same count, also with the probe
		// right at the threshold of one entry.
		if n := PlainScan(Float32(gal), p, DefaultTau); n != 1 {
			t.Errorf("m = %d: float32 plaintext count %d, want 1", dims, n)
		}
		g32 := Float32(gal)
		var at float64
		for i, x := range g32[7] {
			at += float64(x) * p[i]
		}
		if PlainScan(g32, p, at) != 1 || PlainScan(g32, p, math.Nextafter(at, 2)) != 0 {
			t.Errorf("m = %d: float32 scan does not score entry 7 at %v", dims, at)
		}
	}
}

func TestReader(t *testing.T) {
	read := func(label string, seed uint64) []byte {
		b := make([]byte, 64)
		if _, err := io.ReadFull(Reader(label, seed), b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read("query", 1), read("query", 1)) {
		t.Error("the same label and seed gave different streams")
	}
	if bytes.Equal(read("query", 1), read("query", 2)) || bytes.Equal(read("query", 1), read("response", 1)) {
		t.Error("different labels or seeds gave the same stream")
	}
}

// TestAutoNTTBudget checks -ntt-budget auto's arithmetic against the
// production set, with the bench's live heap before a gallery (the keys and
// both parties: 0.94 GiB measured) and its default limit: every block
// without a limit, one block of N = 10^4 kept, none of N = 10^6, and
// exactly what is left when the limit is raised.
func TestAutoNTTBudget(t *testing.T) {
	ps, err := he.Lookup(he.N15V2)
	if err != nil {
		t.Fatal(err)
	}
	const live, limit = 1 << 30, 3584 << 20
	million, small := Size{N: 1000000, Dims: 128}, Size{N: 10000, Dims: 128}
	if b := autoNTTBudget(ps, million, 0, live); b != -1 {
		t.Errorf("no limit: budget %d, want -1 (every block)", b)
	}
	_, block := ps.PackedBytes(small.N, small.Dims)
	if b := autoNTTBudget(ps, small, limit, live); b < block {
		t.Errorf("10^4: budget %d, want at least one block (%d)", b, block)
	}
	if b := autoNTTBudget(ps, million, limit, live); b != 0 {
		t.Errorf("10^6: budget %d, want 0", b)
	}
	// 31 blocks of 128 diagonals of 32,768 int32 coefficients, and 10^6
	// templates in float32 and float64.
	need := int64(live + 31*128*32768*4 + 1000000*128*12 + searchReserve(runtime.GOMAXPROCS(0)))
	if b := autoNTTBudget(ps, million, need+5*block, live); b != 5*block {
		t.Errorf("limit five blocks above the need: budget %d, want %d", b, 5*block)
	}
}
