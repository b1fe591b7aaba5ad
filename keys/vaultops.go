package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// kvFormat marks the KV records a VaultStore writes.
const kvFormat = "puente-key/v1+transit"

// Get implements [Store].
func (s *VaultStore) Get(ctx context.Context, name string, version int) (*Entry, error) {
	if err := checkName("get", name); err != nil {
		return nil, err
	}
	if version < 0 {
		return nil, &KeyError{Op: "get", Name: name, Err: fmt.Errorf("version %d: %w", version, ErrNotFound)}
	}
	kv, err := s.readVersion(ctx, "get", name, version)
	if err != nil {
		return nil, err
	}
	if kvString(kv, "format") != kvFormat {
		return nil, &KeyError{Op: "get", Name: name, Err: fmt.Errorf("%w: KV record is not a Puente entry (format %q)", ErrCorrupt, kvString(kv, "format"))}
	}
	plain, err := s.transit(ctx, "get", name, "decrypt", map[string]any{"ciphertext": kvString(kv, "ciphertext")}, "plaintext")
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	env, err := unmarshalEnvelope(plain)
	switch {
	case err != nil:
	case env.name != name:
		err = fmt.Errorf("%w: record holds entry %q (moved or copied)", ErrCorrupt, env.name)
	case env.version != kv.Metadata.Version || (version > 0 && version != kv.Metadata.Version):
		err = fmt.Errorf("%w: the record was written as version %d but Vault serves it as version %d (an old version replayed?)",
			ErrCorrupt, env.version, kv.Metadata.Version)
	}
	if err != nil {
		return nil, &KeyError{Op: "get", Name: name, Err: err}
	}
	info := Info{Name: name, Version: kv.Metadata.Version, Created: kv.Metadata.CreatedTime.UTC(),
		Algorithm: env.algorithm, Custodians: env.custodians}
	return &Entry{Info: info, Data: NewSecret(env.data)}, nil
}

// transit calls Transit encrypt or decrypt and returns the named output
// field, base64-decoded for "plaintext" and raw for "ciphertext".
func (s *VaultStore) transit(ctx context.Context, op, name, verb string, body map[string]any, field string) ([]byte, error) {
	var sec *vault.Secret
	err := s.do(ctx, op, name, func() (err error) {
		sec, err = s.c.Logical().WriteWithContext(ctx, s.cfg.TransitMount+"/"+verb+"/"+s.cfg.TransitKey, body)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out string
	if sec != nil {
		out, _ = sec.Data[field].(string)
	}
	if out == "" {
		return nil, &KeyError{Op: op, Name: name, Err: fmt.Errorf("%w: Transit %s returned no %s", ErrCorrupt, verb, field)}
	}
	if field == "ciphertext" {
		return []byte(out), nil
	}
	b, err := base64.StdEncoding.DecodeString(out)
	if err != nil {
		return nil, &KeyError{Op: op, Name: name, Err: fmt.Errorf("%w: Transit plaintext is not base64", ErrCorrupt)}
	}
	return b, nil
}

// Put implements [Store]. The envelope is sealed with the version the
// write creates (the check-and-set version plus one), which Get checks, so
// an old record written again as a newer version is refused. With NoCAS,
// Put reads the current version first and writes with check-and-set on it,
// trying again a few times if another writer gets in between.
func (s *VaultStore) Put(ctx context.Context, name string, data []byte, opts PutOptions) (int, error) {
	if err := checkName("put", name); err != nil {
		return 0, err
	}
	if opts.Algorithm == "" {
		return 0, &KeyError{Op: "put", Name: name, Err: errors.New("no algorithm given")}
	}
	if opts.CAS != NoCAS {
		return s.put(ctx, name, data, opts.Algorithm, opts.CAS)
	}
	var err error
	for range 3 {
		var md *kvMetadata
		cas := 0
		if md, err = s.metadata(ctx, "put", name); err == nil {
			cas = md.CurrentVersion
		} else if !errors.Is(err, ErrNotFound) {
			return 0, err
		}
		var v int
		if v, err = s.put(ctx, name, data, opts.Algorithm, cas); !errors.Is(err, ErrCASConflict) {
			return v, err
		}
	}
	return 0, err
}

// put writes version cas+1 with check-and-set cas.
func (s *VaultStore) put(ctx context.Context, name string, data []byte, algorithm string, cas int) (int, error) {
	env := &envelope{name: name, version: cas + 1, created: time.Now().UTC(), algorithm: algorithm, custodians: s.cfg.Custodians, data: data}
	plain, err := env.marshal()
	if err != nil {
		return 0, &KeyError{Op: "put", Name: name, Err: err}
	}
	b64 := base64.StdEncoding.EncodeToString(plain)
	clear(plain)
	ct, err := s.transit(ctx, "put", name, "encrypt", map[string]any{"plaintext": b64}, "ciphertext")
	if err != nil {
		return 0, err
	}
	body := map[string]any{
		"options": map[string]any{"cas": cas},
		"data": map[string]any{
			"format":     kvFormat,
			"ciphertext": string(ct),
			"algorithm":  algorithm,
			"custodians": strings.Join(s.cfg.Custodians, ","),
		},
	}
	var sec *vault.Secret
	err = s.do(ctx, "put", name, func() (err error) {
		sec, err = s.c.Logical().WriteWithContext(ctx, s.path("data", name), body)
		return err
	})
	if err != nil {
		return 0, err
	}
	v, ok := intField(sec, "version")
	if !ok {
		return 0, &KeyError{Op: "put", Name: name, Err: fmt.Errorf("%w: KV write returned no version", ErrCorrupt)}
	}
	if v != cas+1 {
		return 0, &KeyError{Op: "put", Name: name, Err: fmt.Errorf("%w: KV wrote version %d after check-and-set on version %d", ErrCorrupt, v, cas)}
	}
	return v, nil
}

func intField(sec *vault.Secret, field string) (int, bool) {
	if sec == nil {
		return 0, false
	}
	switch n := sec.Data[field].(type) {
	case interface{ Int64() (int64, error) }:
		v, err := n.Int64()
		return int(v), err == nil
	case float64:
		return int(n), true
	}
	return 0, false
}

// kvMetadata is the shape of a KV v2 metadata read.
type kvMetadata struct {
	CurrentVersion int `json:"current_version"`
	Versions       map[string]struct {
		CreatedTime  time.Time `json:"created_time"`
		DeletionTime string    `json:"deletion_time"`
		Destroyed    bool      `json:"destroyed"`
	} `json:"versions"`
}

func (s *VaultStore) metadata(ctx context.Context, op, name string) (*kvMetadata, error) {
	var sec *vault.Secret
	err := s.do(ctx, op, name, func() (err error) {
		sec, err = s.c.Logical().ReadWithContext(ctx, s.path("metadata", name))
		return err
	})
	if err != nil {
		return nil, err
	}
	if sec == nil || sec.Data == nil {
		return nil, &KeyError{Op: op, Name: name, Err: ErrNotFound}
	}
	var md kvMetadata
	if err := decodeInto(sec.Data, &md); err != nil {
		return nil, &KeyError{Op: op, Name: name, Err: fmt.Errorf("%w: unexpected metadata response: %v", ErrCorrupt, err)}
	}
	return &md, nil
}

// Stat implements [Store]: the metadata gives the versions, the current
// KV record (not decrypted) the algorithm and custodians.
func (s *VaultStore) Stat(ctx context.Context, name string) (Info, error) {
	if err := checkName("stat", name); err != nil {
		return Info{}, err
	}
	md, err := s.metadata(ctx, "stat", name)
	if err != nil {
		return Info{}, err
	}
	kv, err := s.readVersion(ctx, "stat", name, 0)
	if err != nil {
		return Info{}, err
	}
	info := Info{Name: name, Version: kv.Metadata.Version, Created: kv.Metadata.CreatedTime.UTC(), Algorithm: kvString(kv, "algorithm")}
	if c := kvString(kv, "custodians"); c != "" {
		info.Custodians = strings.Split(c, ",")
	}
	for k, v := range md.Versions {
		if n, err := strconv.Atoi(k); err == nil && !v.Destroyed && v.DeletionTime == "" {
			info.Versions = append(info.Versions, n)
		}
	}
	slices.Sort(info.Versions)
	return info, nil
}

// List implements [Store] by walking the KV metadata tree with LIST.
func (s *VaultStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	folder := ""
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		folder = prefix[:i+1]
	}
	var names []string
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		if depth > 32 {
			return fmt.Errorf("%w: KV tree deeper than 32 levels", ErrCorrupt)
		}
		var sec *vault.Secret
		err := s.do(ctx, "list", prefix, func() (err error) {
			sec, err = s.c.Logical().ListWithContext(ctx, s.path("metadata", strings.TrimSuffix(dir, "/")))
			return err
		})
		if err != nil || sec == nil {
			return err
		}
		keys, _ := sec.Data["keys"].([]any)
		for _, k := range keys {
			ks, _ := k.(string)
			if strings.HasSuffix(ks, "/") {
				if err := walk(dir+ks, depth+1); err != nil {
					return err
				}
			} else if n := dir + ks; ValidName(n) && matchPrefix(n, prefix) {
				names = append(names, n)
			}
		}
		return nil
	}
	if err := walk(folder, 0); err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// Destroy implements [Store]: DELETE on the metadata path, which removes
// every version permanently.
func (s *VaultStore) Destroy(ctx context.Context, name string) error {
	if err := checkName("destroy", name); err != nil {
		return err
	}
	if _, err := s.metadata(ctx, "destroy", name); err != nil {
		return err
	}
	return s.do(ctx, "destroy", name, func() error {
		_, err := s.c.Logical().DeleteWithContext(ctx, s.path("metadata", name))
		return err
	})
}
