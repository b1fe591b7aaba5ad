package keys

import (
	"os"
	"path/filepath"
	"testing"
)

// Store benchmarks beside the plain atomic write and read of the same
// bytes (no age sealing, no envelope): the ratio is the cost of sealing.

var benchData = make([]byte, 32)

func BenchmarkFileStorePut(b *testing.B) {
	s := newFileStore(b, newTestIdentity(b, false))
	b.ResetTimer()
	v := 0
	for b.Loop() {
		var err error
		if v, err = s.Put(ctx, "agreement/a/epoch/1/seed", benchData, PutOptions{CAS: v, Algorithm: AlgHKDFSHA256}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlainAtomicWrite(b *testing.B) {
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := writeFileAtomic(filepath.Join(dir, versionFile(i+1)), benchData, false, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileStoreGet(b *testing.B) {
	s := newFileStore(b, newTestIdentity(b, false))
	s.Put(ctx, "agreement/a/epoch/1/seed", benchData, PutOptions{Algorithm: AlgHKDFSHA256})
	b.ResetTimer()
	for b.Loop() {
		e, err := s.Get(ctx, "agreement/a/epoch/1/seed", 0)
		if err != nil {
			b.Fatal(err)
		}
		e.Zero()
	}
}

func BenchmarkPlainRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "plain")
	os.WriteFile(path, benchData, 0o600)
	b.ResetTimer()
	for b.Loop() {
		if _, err := os.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	k, _ := GenerateSigningKey(newDetRand("b"))
	msg := make([]byte, 32)
	for b.Loop() {
		k.Sign("puente/audit/v1", msg)
	}
}

func BenchmarkVerify(b *testing.B) {
	k, _ := GenerateSigningKey(newDetRand("b"))
	msg := make([]byte, 32)
	sig, _ := k.Sign("puente/audit/v1", msg)
	pub := k.PublicKey()
	for b.Loop() {
		if err := verifySig(pub, "puente/audit/v1", msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}
