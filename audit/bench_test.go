package audit

import (
	"os"
	"path/filepath"
	"testing"
)

// The audit benchmarks run beside the plain write of the same bytes:
// BenchmarkPlainAppendFsync writes an already-encoded record line and
// fsyncs it, the floor under BenchmarkAppend (which also validates,
// hashes, signs with ML-DSA-65 and updates the head file).

func BenchmarkAppend(b *testing.B) {
	w, _ := openTest(b, newTestKey(1))
	defer w.Close()
	e := queryEvent(1, RoleResponder)
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.Append(ctx, KindQuery, e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendParallel(b *testing.B) {
	w, _ := openTest(b, newTestKey(1))
	defer w.Close()
	e := queryEvent(1, RoleResponder)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.Append(ctx, KindQuery, e); err != nil {
				b.Error(err)
			}
		}
	})
}

func BenchmarkPlainAppendFsync(b *testing.B) {
	k := newTestKey(1)
	w, path := openTest(b, k)
	w.Append(ctx, KindQuery, queryEvent(1, RoleResponder))
	w.Close()
	line, _ := os.ReadFile(path)
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "plain.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ResetTimer()
	for b.Loop() {
		f.Write(line)
		f.Sync()
	}
}

// log1000 writes a log of 1000 query records and returns it with its verifier.
func log1000(b *testing.B) (string, testRing) {
	k := newTestKey(1)
	w, path := openTest(b, k)
	for i := range 1000 {
		w.Append(ctx, KindQuery, queryEvent(i, RoleResponder))
	}
	w.Close()
	return path, ringOf(k)
}

func BenchmarkVerify1000(b *testing.B) {
	path, ring := log1000(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := VerifyFile(path, ring, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenCheck1000 is the check a writer makes when it opens a log of 1000 records (every
// record's form and chain, the last record's signature), beside BenchmarkVerify1000 (every
// signature).
func BenchmarkOpenCheck1000(b *testing.B) {
	path, ring := log1000(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := CheckFile(path, ring, FileOptions{RequireHead: true, LastSignatureOnly: true}); err != nil {
			b.Fatal(err)
		}
	}
}
