package gallery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func sampleRecord() *Record {
	return &Record{Ref: "subject-1", Template: []float64{0.5, -0.5, math.Copysign(0, -1), 1e-300},
		Scheme: testScheme, Epoch: 7, EnrolledAt: time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)}
}

func TestRecordEncoding(t *testing.T) {
	r := sampleRecord()
	enc := encodeRecord(r)
	got, err := decodeRecord(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Ref != r.Ref || got.Scheme != r.Scheme || got.Epoch != r.Epoch ||
		!got.EnrolledAt.Equal(r.EnrolledAt) || !equalFloats(got.Template, r.Template) {
		t.Errorf("round trip changed the record: %+v", got)
	}
	nanRec := sampleRecord()
	nanRec.Template[1] = math.Inf(1)
	long := sampleRecord()
	long.Ref = strings.Repeat("r", MaxRefLen+1)
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"empty":      {nil, "tag"},
		"archive":    {encodeArchived(&archived{ref: "a", raw: []float32{1}}), "not a record"},
		"truncated":  {enc[:len(enc)-3], "template"},
		"trailing":   {append(append([]byte(nil), enc...), 0), "needs"},
		"infinite":   {encodeRecord(nanRec), "not finite"},
		"long ref":   {encodeRecord(long), "ref is 129 bytes"},
		"zero dim":   {encodeRecord(&Record{Ref: "a", Scheme: "s"}), "template dim 0"},
		"empty ref":  {encodeRecord(&Record{Ref: "", Scheme: "s", Template: []float64{1}}), "empty"},
		"short head": {enc[:5], "ref"},
	} {
		_, err := decodeRecord(c.b)
		if !errors.Is(err, errDecode) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", name, err, c.want)
		}
	}
}

func TestArchiveEncoding(t *testing.T) {
	a := &archived{ref: "subject-2", raw: []float32{1, -2, 3.5}, enrolledAt: time.Unix(0, 42).UTC()}
	got, err := decodeArchived(encodeArchived(a))
	if err != nil {
		t.Fatal(err)
	}
	if got.ref != a.ref || !got.enrolledAt.Equal(a.enrolledAt) || len(got.raw) != 3 || got.raw[2] != 3.5 {
		t.Errorf("round trip changed the entry: %+v", got)
	}
	if _, err := decodeArchived(encodeRecord(sampleRecord())); !errors.Is(err, errDecode) {
		t.Errorf("a record decoded as an archive entry: %v", err)
	}
}

// FuzzDecodeRecord: the record decoder never panics, and whatever it accepts re-encodes to the
// same bytes (the encoding is canonical) and holds only finite values. A record built from the
// same bytes decodes back to itself exactly when it is valid.
func FuzzDecodeRecord(f *testing.F) {
	enc := encodeRecord(sampleRecord())
	f.Add(enc)
	f.Add(enc[:len(enc)-1])
	f.Add(enc[:20])
	f.Add([]byte{tagRecord})
	f.Add(encodeArchived(&archived{ref: "a", raw: []float32{1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeRecord(b); err == nil {
			if !bytes.Equal(encodeRecord(r), b) {
				t.Fatalf("accepted bytes do not re-encode to themselves")
			}
			if _, ok := firstNonFinite64(r.Template); !ok || checkRef(r.Ref) != nil {
				t.Fatalf("accepted a non-finite template or a bad reference")
			}
		}
		r := recordFrom(b)
		got, err := decodeRecord(encodeRecord(r))
		_, finite := firstNonFinite64(r.Template)
		if valid := finite && checkRef(r.Ref) == nil && len(r.Template) <= MaxDim && len(r.Template) > 0; valid != (err == nil) {
			t.Fatalf("a record (valid %v) decodes with error %v", valid, err)
		}
		if err == nil && (got.Ref != r.Ref || got.Scheme != r.Scheme || got.Epoch != r.Epoch ||
			!got.EnrolledAt.Equal(r.EnrolledAt) || !equalFloats(got.Template, r.Template)) {
			t.Fatalf("round trip changed the record: %+v, want %+v", got, r)
		}
	})
}

// recordFrom builds a record from fuzz bytes: a reference of up to 12 of them, the rest as
// float64 bits.
func recordFrom(b []byte) *Record {
	ref, rest := b[:min(len(b), 12)], b[min(len(b), 12):]
	r := &Record{Ref: string(ref), Scheme: "fuzz", Epoch: uint64(len(b)), EnrolledAt: time.Unix(0, int64(len(b))*1e9+7).UTC()}
	for ; len(rest) >= 8; rest = rest[8:] {
		r.Template = append(r.Template, math.Float64frombits(binary.BigEndian.Uint64(rest)))
	}
	return r
}

// FuzzDecodeArchived: the same for archive entries.
func FuzzDecodeArchived(f *testing.F) {
	enc := encodeArchived(&archived{ref: "subject-3", raw: []float32{0.25, -1}, enrolledAt: time.Unix(5, 0)})
	f.Add(enc)
	f.Add(enc[:len(enc)-2])
	f.Add([]byte{tagArchive, 0, 0})
	f.Add(encodeRecord(sampleRecord()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := decodeArchived(b); err == nil {
			if !bytes.Equal(encodeArchived(a), b) {
				t.Fatalf("accepted bytes do not re-encode to themselves")
			}
			if _, ok := firstNonFinite32(a.raw); !ok {
				t.Fatalf("accepted a non-finite feature")
			}
		}
		r := recordFrom(b)
		a := &archived{ref: r.Ref, enrolledAt: r.EnrolledAt}
		for _, v := range r.Template {
			a.raw = append(a.raw, math.Float32frombits(uint32(math.Float64bits(v))))
		}
		got, err := decodeArchived(encodeArchived(a))
		_, finite := firstNonFinite32(a.raw)
		if valid := finite && checkRef(a.ref) == nil && len(a.raw) <= MaxDim && len(a.raw) > 0; valid != (err == nil) {
			t.Fatalf("an entry (valid %v) decodes with error %v", valid, err)
		}
		if err == nil && (got.ref != a.ref || !got.enrolledAt.Equal(a.enrolledAt) || fmt.Sprint(got.raw) != fmt.Sprint(a.raw)) {
			t.Fatalf("round trip changed the entry: %+v, want %+v", got, a)
		}
	})
}

// FuzzOpenSealed: opening arbitrary bytes as a sealed value never panics and never succeeds;
// sealing them opens back to them, under their own key only.
func FuzzOpenSealed(f *testing.F) {
	key := testKey(f, 0x5E)
	s := newSealer(key.subkey(labelState, 0), bytes.NewReader(make([]byte, 64)))
	good, err := s.seal([]byte("b"), []byte("k"), []byte("value"))
	if err != nil {
		f.Fatal(err)
	}
	fresh := newSealer(key.subkey(labelState, 0), rand.NewChaCha8([32]byte{2})) // nonces for the round trip
	f.Add(good[:len(good)-1])
	f.Add(append([]byte{1}, good[1:]...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if !bytes.Equal(b, good) {
			if _, err := s.open([]byte("b"), []byte("k"), b); err == nil {
				t.Fatalf("opened a forged value")
			}
		}
		// The same bytes as a value: sealing then opening gives them back, under no other key.
		sealed, err := fresh.seal([]byte("b"), []byte("k"), b)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.open([]byte("b"), []byte("k"), sealed); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("sealed %x, opened %x, %v", b, got, err)
		}
		if _, err := s.open([]byte("b"), []byte("k2"), sealed); err == nil {
			t.Fatalf("opened a value under another key")
		}
	})
}
