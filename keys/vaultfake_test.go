package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeVault answers the subset of Vault's HTTP API a VaultStore uses, with
// the request and response bodies of Vault's API documentation: KV v2
// (read, read version, write with options.cas, metadata read, LIST,
// metadata delete), Transit encrypt/decrypt and AppRole login. Errors use
// Vault's {"errors":[...]} body and status codes.
type fakeVault struct {
	mu       sync.Mutex
	tokens   map[string]bool
	roleID   string
	secretID string
	sealed   bool
	kv       map[string][]fakeVersion // path under "secret/" -> versions (index v-1)
	aead     cipher.AEAD
	requests []fakeRequest
	now      time.Time
}

type fakeVersion struct {
	data      map[string]any
	created   time.Time
	destroyed bool
}

type fakeRequest struct {
	Method, Path string
	Body         map[string]any
}

func newFakeVault(t *testing.T) (*fakeVault, *httptest.Server) {
	key := make([]byte, 32)
	rand.Read(key)
	blk, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(blk)
	f := &fakeVault{tokens: map[string]bool{"root-token": true}, roleID: "role-1", secretID: "secret-1",
		kv: map[string][]fakeVersion{}, aead: aead, now: t0}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func vaultErrors(w http.ResponseWriter, code int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, code, map[string]any{"errors": msgs})
}

// respond wraps data in Vault's response envelope.
func respond(w http.ResponseWriter, data any, auth any) {
	writeJSON(w, http.StatusOK, map[string]any{
		"request_id": "9ee2a8a1-2f1d-4ae3-8fd1-0b1cdfe44d44", "lease_id": "", "renewable": false,
		"lease_duration": 0, "data": data, "wrap_info": nil, "warnings": nil, "auth": auth,
	})
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			vaultErrors(w, 400, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	method := r.Method
	if method == "GET" && r.URL.Query().Get("list") == "true" {
		method = "LIST"
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	f.requests = append(f.requests, fakeRequest{Method: method, Path: path, Body: body})
	if f.sealed {
		vaultErrors(w, 503, "Vault is sealed")
		return
	}
	if path == "auth/approle/login" {
		f.login(w, body)
		return
	}
	if !f.tokens[r.Header.Get("X-Vault-Token")] {
		vaultErrors(w, 403, "permission denied")
		return
	}
	switch {
	case strings.HasPrefix(path, "secret/data/"):
		f.kvData(w, r, method, strings.TrimPrefix(path, "secret/data/"), body)
	case strings.HasPrefix(path, "secret/metadata"):
		f.kvMetadata(w, method, strings.Trim(strings.TrimPrefix(path, "secret/metadata"), "/"))
	case path == "transit/encrypt/puente-node":
		pt, err := base64.StdEncoding.DecodeString(fmt.Sprint(body["plaintext"]))
		if err != nil {
			vaultErrors(w, 400, "failed to base64-decode plaintext")
			return
		}
		nonce := make([]byte, 12)
		rand.Read(nonce)
		ct := f.aead.Seal(nonce, nonce, pt, nil)
		respond(w, map[string]any{"ciphertext": "vault:v1:" + base64.StdEncoding.EncodeToString(ct), "key_version": 1}, nil)
	case path == "transit/decrypt/puente-node":
		ct, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(fmt.Sprint(body["ciphertext"]), "vault:v1:"))
		if err != nil || len(ct) < 12 {
			vaultErrors(w, 400, "invalid ciphertext: unable to decode")
			return
		}
		pt, err := f.aead.Open(nil, ct[:12], ct[12:], nil)
		if err != nil {
			vaultErrors(w, 400, "cipher: message authentication failed")
			return
		}
		respond(w, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)}, nil)
	default:
		vaultErrors(w, 404, "no handler for route \""+path+"\". route entry not found.")
	}
}

func (f *fakeVault) login(w http.ResponseWriter, body map[string]any) {
	if body["role_id"] != f.roleID || body["secret_id"] != f.secretID {
		vaultErrors(w, 400, "invalid role or secret ID")
		return
	}
	tok := fmt.Sprintf("hvs.approle-%d", len(f.tokens))
	f.tokens[tok] = true
	respond(w, nil, map[string]any{"renewable": true, "lease_duration": 1200, "metadata": nil,
		"token_policies": []string{"default", "puente"}, "accessor": "fd6c9a00-d2dc-3b11-0be5-af7ae0e1d374", "client_token": tok})
}

func (f *fakeVault) versionMeta(v fakeVersion, n int) map[string]any {
	return map[string]any{"created_time": v.created.Format(time.RFC3339Nano), "custom_metadata": nil,
		"deletion_time": "", "destroyed": v.destroyed, "version": n}
}

func (f *fakeVault) kvData(w http.ResponseWriter, r *http.Request, method, p string, body map[string]any) {
	vs := f.kv[p]
	switch method {
	case "GET":
		n := len(vs)
		if q := r.URL.Query().Get("version"); q != "" {
			n, _ = strconv.Atoi(q)
		}
		if n < 1 || n > len(vs) {
			vaultErrors(w, 404)
			return
		}
		v := vs[n-1]
		var data any = v.data
		if v.destroyed {
			data = nil
		}
		respond(w, map[string]any{"data": data, "metadata": f.versionMeta(v, n)}, nil)
	case "POST", "PUT":
		if opts, ok := body["options"].(map[string]any); ok {
			if cas, ok := opts["cas"].(float64); ok && int(cas) != len(vs) {
				vaultErrors(w, 400, "check-and-set parameter did not match the current version")
				return
			}
		}
		data, ok := body["data"].(map[string]any)
		if !ok {
			vaultErrors(w, 400, "no data provided")
			return
		}
		f.now = f.now.Add(time.Second)
		v := fakeVersion{data: data, created: f.now}
		f.kv[p] = append(vs, v)
		respond(w, f.versionMeta(v, len(vs)+1), nil)
	default:
		vaultErrors(w, 405)
	}
}

func (f *fakeVault) kvMetadata(w http.ResponseWriter, method, p string) {
	switch method {
	case "GET":
		vs, ok := f.kv[p]
		if !ok {
			vaultErrors(w, 404)
			return
		}
		versions := map[string]any{}
		for i, v := range vs {
			versions[strconv.Itoa(i+1)] = map[string]any{"created_time": v.created.Format(time.RFC3339Nano), "deletion_time": "", "destroyed": v.destroyed}
		}
		respond(w, map[string]any{"cas_required": false, "created_time": vs[0].created.Format(time.RFC3339Nano),
			"current_version": len(vs), "custom_metadata": nil, "delete_version_after": "0s", "max_versions": 0,
			"oldest_version": 0, "updated_time": vs[len(vs)-1].created.Format(time.RFC3339Nano), "versions": versions}, nil)
	case "LIST":
		dir := p
		if dir != "" {
			dir += "/"
		}
		set := map[string]bool{}
		for k := range f.kv {
			if rest, ok := strings.CutPrefix(k, dir); ok {
				if i := strings.Index(rest, "/"); i >= 0 {
					set[rest[:i+1]] = true
				} else {
					set[rest] = true
				}
			}
		}
		if len(set) == 0 {
			vaultErrors(w, 404)
			return
		}
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		respond(w, map[string]any{"keys": keys}, nil)
	case "DELETE":
		delete(f.kv, p)
		w.WriteHeader(http.StatusNoContent)
	default:
		vaultErrors(w, 405)
	}
}

func (f *fakeVault) last(method, pathPrefix string) fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Method == method && strings.HasPrefix(f.requests[i].Path, pathPrefix) {
			return f.requests[i]
		}
	}
	return fakeRequest{}
}
