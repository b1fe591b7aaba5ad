package keys

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newVaultStore(t *testing.T, addr string, auth VaultAuth) (*VaultStore, error) {
	t.Helper()
	return NewVaultStore(ctx, VaultConfig{Address: addr, Prefix: "puente/us-cbp", TransitKey: "puente-node",
		Auth: auth, Custodians: []string{"alice", "bob"}})
}

func TestVaultStoreContract(t *testing.T) {
	_, srv := newFakeVault(t)
	s, err := newVaultStore(t, srv.URL, VaultToken("root-token"))
	if err != nil {
		t.Fatal(err)
	}
	testStoreContract(t, s)
}

func TestVaultStoreRequestShapes(t *testing.T) {
	fv, srv := newFakeVault(t)
	s, err := newVaultStore(t, srv.URL, VaultToken("root-token"))
	if err != nil {
		t.Fatal(err)
	}
	name := "agreement/us-co/epoch/1/seed"
	if _, err := s.Put(ctx, name, []byte("seed bytes"), PutOptions{Algorithm: AlgHKDFSHA256}); err != nil {
		t.Fatal(err)
	}
	// Write: POST secret/data/<prefix>/<name> with {"options":{"cas":0},"data":{...}}.
	// (Vault accepts PUT and POST alike; the client sends PUT.)
	w := fv.last("PUT", "secret/data/")
	if w.Path != "secret/data/puente/us-cbp/"+name {
		t.Fatalf("write path %q", w.Path)
	}
	if opts, _ := w.Body["options"].(map[string]any); opts["cas"] != float64(0) {
		t.Errorf("write options %v, want cas 0", w.Body["options"])
	}
	data, _ := w.Body["data"].(map[string]any)
	ct, _ := data["ciphertext"].(string)
	if !strings.HasPrefix(ct, "vault:v1:") || data["algorithm"] != AlgHKDFSHA256 || data["custodians"] != "alice,bob" {
		t.Errorf("write data %v", data)
	}
	raw, _ := json.Marshal(w.Body)
	if strings.Contains(string(raw), "seed bytes") {
		t.Error("plaintext reached the KV write")
	}
	// Transit encrypt request: {"plaintext": base64}.
	if enc := fv.last("PUT", "transit/encrypt/puente-node"); len(enc.Body) != 1 || enc.Body["plaintext"] == nil {
		t.Errorf("transit encrypt body %v", enc.Body)
	}

	// CAS conflict: Vault's 400 body maps to ErrCASConflict.
	_, err = s.Put(ctx, name, []byte("x"), PutOptions{CAS: 5, Algorithm: AlgHKDFSHA256})
	if !errors.Is(err, ErrCASConflict) || !strings.Contains(err.Error(), name) {
		t.Errorf("CAS conflict: %v", err)
	}
	if v, err := s.Put(ctx, name, []byte("seed two"), PutOptions{CAS: 1, Algorithm: AlgHKDFSHA256}); err != nil || v != 2 {
		t.Fatalf("cas=1: %d %v", v, err)
	}
	// Version read: GET secret/data/...?version=1.
	e, err := s.Get(ctx, name, 1)
	if err != nil || string(e.Data.Bytes()) != "seed bytes" || e.Version != 1 {
		t.Fatalf("version 1: %+v %v", e, err)
	}
	info, err := s.Stat(ctx, name)
	if err != nil || info.Version != 2 || len(info.Versions) != 2 || info.Algorithm != AlgHKDFSHA256 || len(info.Custodians) != 2 {
		t.Fatalf("Stat: %+v %v", info, err)
	}

	// A record moved to another path is detected after decryption.
	fv.mu.Lock()
	fv.kv["puente/us-cbp/agreement/us-co/epoch/9/seed"] = fv.kv["puente/us-cbp/"+name]
	fv.mu.Unlock()
	if _, err := s.Get(ctx, "agreement/us-co/epoch/9/seed", 0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("moved record: %v", err)
	}
	// A record whose ciphertext was altered fails Transit decryption.
	fv.mu.Lock()
	vs := fv.kv["puente/us-cbp/"+name]
	bad := map[string]any{}
	for k, v := range vs[1].data {
		bad[k] = v
	}
	bad["ciphertext"] = "vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	vs[1].data = bad
	fv.mu.Unlock()
	if _, err := s.Get(ctx, name, 0); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("altered ciphertext: %v", err)
	}
}

func TestVaultStoreAuth(t *testing.T) {
	fv, srv := newFakeVault(t)
	s, err := newVaultStore(t, srv.URL, VaultToken("wrong-token"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "sign/keyring", 0)
	if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "sign/keyring") || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("bad token: %v, want ErrPermission naming the key", err)
	}
	if _, err := newVaultStore(t, srv.URL, VaultAppRole{RoleID: "role-1", SecretID: "nope"}); err == nil || !strings.Contains(err.Error(), "invalid role or secret ID") {
		t.Errorf("AppRole with a wrong secret ID: %v", err)
	}
	s, err = newVaultStore(t, srv.URL, VaultAppRole{RoleID: "role-1", SecretID: "secret-1"})
	if err != nil {
		t.Fatal(err)
	}
	if lg := fv.last("PUT", "auth/approle/login"); lg.Body["role_id"] != "role-1" || lg.Body["secret_id"] != "secret-1" {
		t.Errorf("login body %v", lg.Body)
	}
	if _, err := s.Put(ctx, "sign/keyring", []byte("{}"), PutOptions{Algorithm: "keyring"}); err != nil {
		t.Fatal(err)
	}
	// The token expires (Vault then answers 403); the store logs in again.
	fv.mu.Lock()
	for tok := range fv.tokens {
		if tok != "root-token" {
			delete(fv.tokens, tok)
		}
	}
	fv.mu.Unlock()
	if _, err := s.Get(ctx, "sign/keyring", 0); err != nil {
		t.Errorf("after token expiry: %v", err)
	}
}

func TestVaultStoreUnavailable(t *testing.T) {
	fv, srv := newFakeVault(t)
	s, err := newVaultStore(t, srv.URL, VaultToken("root-token"))
	if err != nil {
		t.Fatal(err)
	}
	fv.mu.Lock()
	fv.sealed = true
	fv.mu.Unlock()
	if _, err := s.Get(ctx, "he/a/b/sk", 0); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "sealed") {
		t.Errorf("sealed Vault: %v", err)
	}
	srv.Close()
	if _, err := s.Put(ctx, "he/a/b/sk", []byte("x"), PutOptions{Algorithm: AlgCKKSShare}); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "he/a/b/sk") {
		t.Errorf("unreachable Vault: %v", err)
	}
}

// TestVaultIntegration runs the store contract against a real Vault when
// VAULT_ADDR is set (with VAULT_TOKEN, a KV v2 engine at "secret" and a
// Transit key named by PUENTE_VAULT_TRANSIT_KEY, default "puente-test").
func TestVaultIntegration(t *testing.T) {
	addr := os.Getenv("VAULT_ADDR")
	if addr == "" {
		t.Skip("VAULT_ADDR not set; the httptest tests above cover the API shapes")
	}
	key := os.Getenv("PUENTE_VAULT_TRANSIT_KEY")
	if key == "" {
		key = "puente-test"
	}
	s, err := NewVaultStore(ctx, VaultConfig{Address: addr, Prefix: "puente-test/" + strings.ToLower(randomHex(4)),
		TransitKey: key, Auth: VaultToken(os.Getenv("VAULT_TOKEN")), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.Logical().WriteWithContext(ctx, "transit/keys/"+key, map[string]any{}); err != nil {
		t.Fatalf("creating Transit key %s: %v", key, err)
	}
	testStoreContract(t, s)
	names, _ := s.List(ctx, "")
	for _, n := range names {
		s.Destroy(ctx, n)
	}
}

// TestVaultStoreRollback: someone with KV write access but no Transit
// access replays an old version's record as the newest. Each record is
// sealed with the version it was written as, so the replay is refused.
func TestVaultStoreRollback(t *testing.T) {
	fv, srv := newFakeVault(t)
	s, err := newVaultStore(t, srv.URL, VaultToken("root-token"))
	if err != nil {
		t.Fatal(err)
	}
	name := AgreementStateName("us-co")
	if _, err := s.Put(ctx, name, []byte(`{"revoked":false}`), PutOptions{Algorithm: AlgAgreementState}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, name, []byte(`{"revoked":true}`), PutOptions{CAS: 1, Algorithm: AlgAgreementState}); err != nil {
		t.Fatal(err)
	}
	fv.mu.Lock()
	p := "puente/us-cbp/" + name
	fv.kv[p] = append(fv.kv[p], fakeVersion{data: fv.kv[p][0].data, created: fv.now})
	fv.mu.Unlock()
	for _, v := range []int{0, 3} {
		e, err := s.Get(ctx, name, v)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "version 1") {
			t.Errorf("Get(%d) after replaying version 1 as 3: %v %v; want ErrCorrupt naming the versions", v, e, err)
		}
	}
	if e, err := s.Get(ctx, name, 1); err != nil || string(e.Data.Bytes()) != `{"revoked":false}` {
		t.Errorf("the genuine version 1: %v", err)
	}
	// A NoCAS write is sealed with the version it becomes.
	if v, err := s.Put(ctx, name, []byte(`{"revoked":true}`), PutOptions{CAS: NoCAS, Algorithm: AlgAgreementState}); err != nil || v != 4 {
		t.Fatalf("NoCAS put: %d %v", v, err)
	}
	if e, err := s.Get(ctx, name, 0); err != nil || e.Version != 4 {
		t.Errorf("after a NoCAS put: %v %v", e, err)
	}
}

// TestFileStoreReplayedVersion: a version file copied in as a newer
// version is refused, since each file is sealed with its own version.
func TestFileStoreReplayedVersion(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	name := AgreementStateName("us-co")
	s.Put(ctx, name, []byte(`{"revoked":false}`), PutOptions{Algorithm: AlgAgreementState})
	s.Put(ctx, name, []byte(`{"revoked":true}`), PutOptions{CAS: 1, Algorithm: AlgAgreementState})
	dir := filepath.Join(s.Root(), name)
	old, err := os.ReadFile(filepath.Join(dir, versionFile(1)))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, versionFile(3)), old, 0o600)
	if _, err := s.Get(ctx, name, 0); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "version 1") {
		t.Errorf("version 1 replayed as version 3: %v", err)
	}
}
