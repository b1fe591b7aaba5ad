package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// VaultStore is a [Store] in HashiCorp Vault. Each entry is one secret in
// a KV version 2 engine, at "<mount>/data/<prefix>/<name>", whose data holds
// the entry's envelope wrapped by Vault's Transit engine
// ("<transit mount>/encrypt/<transit key>"), so the plaintext never rests
// in KV storage and reading it needs both KV read and Transit decrypt
// permission. Versions and check-and-set are Vault's own (the KV v2 "cas"
// option, sent with every write); the envelope records the version the
// write creates, and Get refuses a record Vault serves as another version,
// so KV write access alone cannot replay an old version as the newest.
// Destroy deletes the secret's metadata, which destroys every version.
//
// What remains possible: someone who can delete an entry's KV metadata and
// write the entry again can rebuild its history so that an old record
// lands on its original version number as the newest; Vault's audit
// device records such deletes and writes.
//
// Custodians of a Vault entry are the holders of Vault's unseal or recovery
// key shares; they are named in [VaultConfig.Custodians] and recorded with
// each entry so that the key policy can be checked, but Vault, not Puente,
// enforces them.
type VaultStore struct {
	c   *vault.Client
	cfg VaultConfig
	mu  sync.Mutex // guards re-login
}

var _ Store = (*VaultStore)(nil)

// VaultConfig configures a [VaultStore].
type VaultConfig struct {
	Address      string // e.g. "https://vault.example:8200"
	Mount        string // KV v2 mount; default "secret"
	Prefix       string // path under the mount for this node, e.g. "puente/us-cbp"
	TransitMount string // default "transit"
	TransitKey   string // Transit key name; required
	Auth         VaultAuth
	Custodians   []string // names recorded with entries (see VaultStore)
	// HTTPClient, if set, replaces the default client (tests, custom TLS).
	HTTPClient *http.Client
	// MaxRetries for 5xx and connection errors; 0 means none.
	MaxRetries int
	Timeout    time.Duration // per request; default 30s
}

// VaultAuth is how a VaultStore logs in: [VaultToken] or [VaultAppRole].
type VaultAuth interface {
	login(ctx context.Context, c *vault.Client) error
}

// VaultToken authenticates with a fixed token.
type VaultToken string

func (t VaultToken) login(_ context.Context, c *vault.Client) error {
	if t == "" {
		return errors.New("empty Vault token")
	}
	c.SetToken(string(t))
	return nil
}

// VaultAppRole authenticates with AppRole (POST auth/<mount>/login with
// role_id and secret_id). The store logs in again once if a request is
// refused with 403, which is how Vault reports an expired token.
type VaultAppRole struct {
	Mount    string // default "approle"
	RoleID   string
	SecretID string
}

func (a VaultAppRole) login(ctx context.Context, c *vault.Client) error {
	mount := a.Mount
	if mount == "" {
		mount = "approle"
	}
	c.ClearToken()
	s, err := c.Logical().WriteWithContext(ctx, "auth/"+mount+"/login", map[string]any{"role_id": a.RoleID, "secret_id": a.SecretID})
	if err != nil {
		return err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return errors.New("AppRole login returned no client token")
	}
	c.SetToken(s.Auth.ClientToken)
	return nil
}

// NewVaultStore connects and logs in to Vault. It does not check that the
// mounts exist; the first operation does.
func NewVaultStore(ctx context.Context, cfg VaultConfig) (*VaultStore, error) {
	if cfg.Mount == "" {
		cfg.Mount = "secret"
	}
	if cfg.TransitMount == "" {
		cfg.TransitMount = "transit"
	}
	if cfg.TransitKey == "" || cfg.Auth == nil || cfg.Address == "" {
		return nil, errors.New("keys: vault: address, transit key and authentication are required")
	}
	if cfg.Prefix != "" && !ValidName(cfg.Prefix) {
		return nil, fmt.Errorf("keys: vault: prefix %q: %w", cfg.Prefix, ErrInvalidName)
	}
	vc := vault.DefaultConfig()
	vc.Address = cfg.Address
	vc.MaxRetries = cfg.MaxRetries
	vc.Timeout = cfg.Timeout
	if vc.Timeout == 0 {
		vc.Timeout = 30 * time.Second
	}
	if cfg.HTTPClient != nil {
		vc.HttpClient = cfg.HTTPClient
	}
	c, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("keys: vault %s: %w", cfg.Address, err)
	}
	if err := cfg.Auth.login(ctx, c); err != nil {
		return nil, fmt.Errorf("keys: vault %s: login: %w", cfg.Address, vaultErr(err))
	}
	return &VaultStore{c: c, cfg: cfg}, nil
}

func (s *VaultStore) path(kind, name string) string {
	p := s.cfg.Mount + "/" + kind
	if s.cfg.Prefix != "" {
		p += "/" + s.cfg.Prefix
	}
	if name != "" {
		p += "/" + name
	}
	return p
}

// vaultErr maps a Vault client error onto the package sentinels.
func vaultErr(err error) error {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		msg := strings.Join(re.Errors, "; ")
		switch {
		case re.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%w: Vault said %q", ErrPermission, msg)
		case re.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w: Vault said %q", ErrNotFound, msg)
		case re.StatusCode == http.StatusBadRequest && strings.Contains(msg, "check-and-set"):
			return fmt.Errorf("%w: Vault said %q", ErrCASConflict, msg)
		case re.StatusCode >= 500:
			return fmt.Errorf("%w: Vault answered %d: %q", ErrUnavailable, re.StatusCode, msg)
		}
		return fmt.Errorf("Vault answered %d: %q", re.StatusCode, msg)
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

// do runs one Vault call, logging in again and retrying once if an AppRole
// token was refused, and maps its error.
func (s *VaultStore) do(ctx context.Context, op, name string, f func() error) error {
	err := f()
	var re *vault.ResponseError
	if _, approle := s.cfg.Auth.(VaultAppRole); approle && errors.As(err, &re) && re.StatusCode == http.StatusForbidden {
		s.mu.Lock()
		lerr := s.cfg.Auth.login(ctx, s.c)
		s.mu.Unlock()
		if lerr == nil {
			err = f()
		}
	}
	if err != nil {
		return &KeyError{Op: op, Name: name, File: "vault:" + s.cfg.Address, Err: vaultErr(err)}
	}
	return nil
}

// kvVersion is the shape of a KV v2 read: data.data and data.metadata.
type kvVersion struct {
	Data     map[string]any `json:"data"`
	Metadata struct {
		CreatedTime  time.Time `json:"created_time"`
		DeletionTime string    `json:"deletion_time"`
		Destroyed    bool      `json:"destroyed"`
		Version      int       `json:"version"`
	} `json:"metadata"`
}

func decodeInto(raw map[string]any, v any) error {
	b, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// readVersion reads one version's KV record (0: current).
func (s *VaultStore) readVersion(ctx context.Context, op, name string, version int) (*kvVersion, error) {
	var sec *vault.Secret
	err := s.do(ctx, op, name, func() (err error) {
		q := map[string][]string{}
		if version > 0 {
			q["version"] = []string{fmt.Sprint(version)}
		}
		sec, err = s.c.Logical().ReadWithDataWithContext(ctx, s.path("data", name), q)
		return err
	})
	if err != nil {
		return nil, err
	}
	var kv kvVersion
	if sec == nil || sec.Data == nil {
		return nil, &KeyError{Op: op, Name: name, Err: ErrNotFound}
	}
	if err := decodeInto(sec.Data, &kv); err != nil {
		return nil, &KeyError{Op: op, Name: name, Err: fmt.Errorf("%w: unexpected KV response: %v", ErrCorrupt, err)}
	}
	if kv.Data == nil || kv.Metadata.Destroyed || kv.Metadata.DeletionTime != "" {
		return nil, &KeyError{Op: op, Name: name, Err: ErrNotFound}
	}
	return &kv, nil
}

func kvString(kv *kvVersion, field string) string {
	s, _ := kv.Data[field].(string)
	return s
}
