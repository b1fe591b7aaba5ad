package keys

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
)

var ctx = context.Background()

// fixedClock returns a clock that starts at t0 and advances one second per call.
func fixedClock(t0 time.Time) func() time.Time {
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Second) }
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestIdentity(t testing.TB, classical bool) *Identity {
	t.Helper()
	id, err := GenerateIdentity(classical)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newFileStore(t testing.TB, id *Identity, cs ...Custodian) *FileStore {
	t.Helper()
	s, err := OpenFileStore(filepath.Join(t.TempDir(), "keys"), id, FileStoreOptions{Custodians: cs, Now: fixedClock(t0)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFileStoreVersionsAndCAS(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	testStoreContract(t, s)
}

// testStoreContract checks the behaviour every Store must have.
func testStoreContract(t *testing.T, s Store) {
	t.Helper()
	const name = "he/agr-1/q2r/sk"
	if _, err := s.Get(ctx, name, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of missing entry: %v, want ErrNotFound", err)
	}
	v, err := s.Put(ctx, name, []byte("share one"), PutOptions{Algorithm: "ckks-secret-share"})
	if err != nil || v != 1 {
		t.Fatalf("first Put: version %d, %v", v, err)
	}
	if _, err := s.Put(ctx, name, []byte("clobber"), PutOptions{Algorithm: "ckks-secret-share"}); !errors.Is(err, ErrCASConflict) {
		t.Fatalf("create-only Put over existing entry: %v, want ErrCASConflict", err)
	}
	v, err = s.Put(ctx, name, []byte("share two"), PutOptions{CAS: 1, Algorithm: "ckks-secret-share"})
	if err != nil || v != 2 {
		t.Fatalf("Put with cas=1: version %d, %v", v, err)
	}
	if _, err := s.Put(ctx, name, []byte("stale"), PutOptions{CAS: 1, Algorithm: "ckks-secret-share"}); !errors.Is(err, ErrCASConflict) {
		t.Fatalf("Put with stale cas: %v, want ErrCASConflict", err)
	}
	e, err := s.Get(ctx, name, 0)
	if err != nil || string(e.Data.Bytes()) != "share two" || e.Version != 2 {
		t.Fatalf("Get current: %+v, %v", e, err)
	}
	e1, err := s.Get(ctx, name, 1)
	if err != nil || string(e1.Data.Bytes()) != "share one" {
		t.Fatalf("Get version 1: %v", err)
	}
	for _, v := range []int{7, -1} {
		if e, err := s.Get(ctx, name, v); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get version %d: %v %v, want ErrNotFound", v, e, err)
		}
	}
	info, err := s.Stat(ctx, name)
	if err != nil || info.Version != 2 || info.Algorithm != "ckks-secret-share" || info.Created.IsZero() {
		t.Fatalf("Stat: %+v, %v", info, err)
	}
	if _, err := s.Put(ctx, "sign/key-a", []byte("k"), PutOptions{Algorithm: "ml-dsa-65"}); err != nil {
		t.Fatal(err)
	}
	names, err := s.List(ctx, "he/")
	if err != nil || len(names) != 1 || names[0] != name {
		t.Fatalf("List he/: %q, %v", names, err)
	}
	all, err := s.List(ctx, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("List all: %q, %v", all, err)
	}
	if _, err := s.Put(ctx, "Bad/Name", nil, PutOptions{Algorithm: "x"}); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("Put with bad name: %v", err)
	}
	if err := s.Destroy(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, name, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Destroy: %v, want ErrNotFound", err)
	}
	if err := s.Destroy(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Destroy: %v, want ErrNotFound", err)
	}
}

func TestFileStoreFilesAreSealedAndPrivate(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	secret := []byte("0123456789abcdef-transform-seed-material")
	if _, err := s.Put(ctx, "agreement/a1/epoch/1/seed", secret, PutOptions{Algorithm: "hkdf-sha256"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Root(), "agreement/a1/epoch/1/seed", versionFile(1))
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, secret[:16]) || !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n-> mlkem768x25519 ")) {
		t.Fatalf("file is not a post-quantum age file or holds the plaintext:\n%.120q", raw)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %#o, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Dir(path))
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %#o, want 0700", dst.Mode().Perm())
	}
}

func TestFileStoreCustodianCanRecover(t *testing.T) {
	for _, classical := range []bool{false, true} {
		node := newTestIdentity(t, classical)
		alice := newTestIdentity(t, classical)
		c, err := ParseCustodian("alice", alice.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		s := newFileStore(t, node, c)
		if _, err := s.Put(ctx, "sign/k1", []byte("signing seed"), PutOptions{Algorithm: "ml-dsa-65"}); err != nil {
			t.Fatal(err)
		}
		info, err := s.Stat(ctx, "sign/k1")
		if err != nil || len(info.Custodians) != 1 || info.Custodians[0] != "alice" {
			t.Fatalf("custodians recorded: %+v, %v", info, err)
		}
		// Alice recovers the file with plain age and her own identity.
		f, _ := os.Open(filepath.Join(s.Root(), "sign/k1", versionFile(1)))
		r, err := age.Decrypt(f, alice.id)
		if err != nil {
			t.Fatalf("classical=%v: custodian cannot decrypt: %v", classical, err)
		}
		plain, _ := io.ReadAll(r)
		f.Close()
		env, err := unmarshalEnvelope(plain)
		if err != nil || string(env.data) != "signing seed" {
			t.Fatalf("custodian's plaintext: %v", err)
		}
	}
}

func TestFileStoreRefusesMixedRecipients(t *testing.T) {
	node := newTestIdentity(t, false)
	bob := newTestIdentity(t, true)
	c, err := ParseCustodian("bob", bob.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenFileStore(t.TempDir(), node, FileStoreOptions{Custodians: []Custodian{c}})
	if err == nil || !strings.Contains(err.Error(), `custodian "bob"`) {
		t.Fatalf("mixed recipients: %v, want an error naming bob", err)
	}
}

func TestFileStoreBadFiles(t *testing.T) {
	id := newTestIdentity(t, false)
	s := newFileStore(t, id)
	for _, n := range []string{"a/k", "b/k"} {
		if _, err := s.Put(ctx, n, []byte("value of "+n), PutOptions{Algorithm: "hkdf-sha256"}); err != nil {
			t.Fatal(err)
		}
	}
	fileA := filepath.Join(s.Root(), "a/k", versionFile(1))
	fileB := filepath.Join(s.Root(), "b/k", versionFile(1))
	orig, _ := os.ReadFile(fileA)

	other, err := OpenFileStore(s.Root(), newTestIdentity(t, false), FileStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, "a/k", 0); !errors.Is(err, ErrWrongIdentity) || !strings.Contains(err.Error(), fileA) {
		t.Errorf("wrong identity: %v, want ErrWrongIdentity naming %s", err, fileA)
	}

	flipped := bytes.Clone(orig)
	flipped[len(flipped)-5] ^= 1
	cases := map[string][]byte{
		"flipped byte": flipped,
		"truncated":    orig[:len(orig)/2],
		"empty":        {},
		"not age":      []byte("hello\n"),
	}
	for what, content := range cases {
		if err := os.WriteFile(fileA, content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := s.Get(ctx, "a/k", 0)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), fileA) {
			t.Errorf("%s: %v, want ErrCorrupt naming the file", what, err)
		}
		// The other entry is untouched and still readable.
		if e, err := s.Get(ctx, "b/k", 0); err != nil || string(e.Data.Bytes()) != "value of b/k" {
			t.Errorf("%s: other entry: %v", what, err)
		}
	}
	// A valid file moved to another entry is detected.
	bRaw, _ := os.ReadFile(fileB)
	os.WriteFile(fileA, bRaw, 0o600)
	if _, err := s.Get(ctx, "a/k", 0); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "moved or copied") {
		t.Errorf("moved file: %v", err)
	}
}

func TestIdentityFile(t *testing.T) {
	dir := t.TempDir()
	id := newTestIdentity(t, false)
	path := filepath.Join(dir, "identity.age")
	if err := id.Save(path, t0); err != nil {
		t.Fatal(err)
	}
	if err := id.Save(path, t0); err == nil {
		t.Fatal("Save overwrote an existing identity file")
	}
	got, err := LoadIdentity(path)
	if err != nil || got.Recipient() != id.Recipient() || !got.PostQuantum() {
		t.Fatalf("LoadIdentity: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadIdentity(path); !errors.Is(err, ErrPermission) {
		t.Errorf("world-readable identity: %v, want ErrPermission", err)
	}
	bad := filepath.Join(dir, "bad.age")
	os.WriteFile(bad, []byte("AGE-SECRET-KEY-PQ-1NOTAKEY\n"), 0o600)
	_, err = LoadIdentity(bad)
	if err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "NOTAKEY") {
		t.Errorf("bad identity file: %v (want the file named and the line not echoed)", err)
	}
}

// TestCrashDuringPut kills a real process half-way through writing a new
// version and checks that the old version is still current and readable.
func TestCrashDuringPut(t *testing.T) {
	if dir := os.Getenv("PUENTE_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	root := t.TempDir()
	id := newTestIdentity(t, false)
	idPath := filepath.Join(root, "identity.age")
	if err := id.Save(idPath, t0); err != nil {
		t.Fatal(err)
	}
	s, err := OpenFileStore(filepath.Join(root, "keys"), id, FileStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "agreement/a1/epoch/1/seed", []byte("old seed"), PutOptions{Algorithm: "hkdf-sha256"}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringPut$")
	cmd.Env = append(os.Environ(), "PUENTE_CRASH_CHILD="+root)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child says when it is in the middle of its write; it cannot say it and not be there.
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "mid-write" {
	}
	if sc.Text() != "mid-write" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child never reached the middle of its write (%v)", sc.Err())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v", err)
	}

	dir := filepath.Join(root, "keys", "agreement/a1/epoch/1/seed")
	des, _ := os.ReadDir(dir)
	var partial bool
	for _, de := range des {
		partial = partial || strings.HasPrefix(de.Name(), tmpPrefix)
	}
	if !partial {
		t.Fatalf("no partial temporary file left: the kill did not land mid-write (%v)", des)
	}
	e, err := s.Get(ctx, "agreement/a1/epoch/1/seed", 0)
	if err != nil || e.Version != 1 || string(e.Data.Bytes()) != "old seed" {
		t.Fatalf("after the crash: version %v, %v; want version 1 with the old seed", e, err)
	}
	if v, err := s.Put(ctx, "agreement/a1/epoch/1/seed", []byte("new seed"), PutOptions{CAS: 1, Algorithm: "hkdf-sha256"}); err != nil || v != 2 {
		t.Fatalf("Put after the crash: %d, %v", v, err)
	}
}

// awaitKill blocks a crash test's child until its parent kills it (SIGKILL; a SIGTERM ends it
// too): the parent learns where the child stopped from the line it printed before.
func awaitKill() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	<-stop
	os.Exit(2)
}

// crashChild writes version 2 and stops half-way, waiting to be killed.
func crashChild(root string) {
	id, err := LoadIdentity(filepath.Join(root, "identity.age"))
	if err != nil {
		panic(err)
	}
	s, err := OpenFileStore(filepath.Join(root, "keys"), id, FileStoreOptions{})
	if err != nil {
		panic(err)
	}
	s.midWrite = func(string) {
		fmt.Println("mid-write")
		awaitKill()
	}
	s.Put(ctx, "agreement/a1/epoch/1/seed", bytes.Repeat([]byte("n"), 1<<20), PutOptions{CAS: 1, Algorithm: "hkdf-sha256"})
	os.Exit(0)
}
