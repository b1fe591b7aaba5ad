package home

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/internal/crashpoint"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
)

// NodeHome is a node's home opened: by [OpenNodeHome] for a command that works on its files
// while no node runs there (the key, policy and audit commands of puente), or by [Open] for the
// node runtime, so that every one of them honours the configuration's identity, key_store (a
// file store or Vault), policy and audit_log. A home that `puente keys init` made has no configuration; its
// files are at their default places.
type NodeHome struct {
	Dir    string
	Name   string
	Config *Config // nil for a home without puente.hcl
	ID     *keys.Identity
	Policy *policy.Policy // nil when the home has no policy yet
	Store  keys.Store
	lock   *Lock
}

// The default places of a node's files in its home, which puente.hcl may change; the
// configuration itself, the node file and the card are always at these places.
const (
	configFile          = "puente.hcl"
	nodeFile            = "node"
	cardFile            = "card.json"
	defaultIdentityFile = "identity.age"
	defaultPolicyFile   = "policy.hcl"
	defaultAuditLogFile = "audit.log"
	defaultKeyStoreDir  = "keys"
	defaultStateFile    = "state.db"
)

// ConfigFile returns where the node at dir keeps its configuration, dir/puente.hcl.
func ConfigFile(dir string) string { return filepath.Join(dir, configFile) }

// CardFile returns where the node at dir keeps its own card, dir/card.json.
func CardFile(dir string) string { return filepath.Join(dir, cardFile) }

// defaultAdminSocket is the operator socket's place when the configuration names none.
var defaultAdminSocket = filepath.Join("run", "admin.sock")

// AdminSocketFile returns where the node at dir has its operator socket when its configuration
// names no admin_socket, dir/run/admin.sock.
func AdminSocketFile(dir string) string { return filepath.Join(dir, defaultAdminSocket) }

// CSRFile returns where `puente init -csr` writes the node's certificate request,
// dir/tls/node.csr.
func CSRFile(dir string) string { return filepath.Join(dir, "tls", "node.csr") }

// HomeConfig returns the configuration of the node at dir, or nil when dir has no puente.hcl.
func HomeConfig(dir string) (*Config, error) {
	cfg, err := LoadConfig(ConfigFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return cfg, err
}

// HomePaths returns where the node at dir keeps its identity, key policy and audit log: the
// configuration's places, or the defaults for a home without one.
func HomePaths(dir string) (identity, policyFile, auditLog string, err error) {
	cfg, err := HomeConfig(dir)
	if err != nil {
		return "", "", "", err
	}
	if cfg == nil {
		return filepath.Join(dir, defaultIdentityFile), filepath.Join(dir, defaultPolicyFile), filepath.Join(dir, defaultAuditLogFile), nil
	}
	return cfg.Path(cfg.Identity), cfg.Path(cfg.Policy), cfg.Path(cfg.AuditLog), nil
}

// OpenNodeHome opens the node at dir: its identity, its key policy (if it has one yet) and its
// key store. With lock, it first takes the home's lock (a home with a configuration), so that
// no serve starts while the command changes the node's files; Close releases it.
func OpenNodeHome(ctx context.Context, dir string, lock bool) (_ *NodeHome, err error) {
	h := &NodeHome{Dir: dir}
	if h.Config, err = HomeConfig(dir); err != nil {
		return nil, err
	}
	if lock && h.Config != nil {
		if h.lock, err = LockHome(h.Config); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	if h.Config != nil {
		h.Name = h.Config.Node
	} else {
		b, err := os.ReadFile(filepath.Join(dir, nodeFile))
		if err != nil {
			return nil, fmt.Errorf("%s is not a node home (run 'puente init'): %w", dir, err)
		}
		h.Name = strings.TrimSpace(string(b))
	}
	identity, policyFile, _, err := HomePaths(dir)
	if err != nil {
		return nil, err
	}
	cfg := h.Config
	if cfg == nil {
		cfg = &Config{Dir: dir, KeyStore: KeyStoreConfig{Type: "file", Path: defaultKeyStoreDir}}
	}
	if err := h.openKeys(ctx, cfg, identity, policyFile, false); err != nil {
		return nil, err
	}
	return h, nil
}

// Open opens the keys of the node that cfg configures, for the node runtime (protocol.Open):
// its identity, its key policy, which must exist and be this node's, and its key store. It does
// not take the home's lock: the caller holds it ([LockHome]).
func Open(ctx context.Context, cfg *Config) (*NodeHome, error) {
	h := &NodeHome{Dir: cfg.Dir, Name: cfg.Node, Config: cfg}
	if err := h.openKeys(ctx, cfg, cfg.Path(cfg.Identity), cfg.Path(cfg.Policy), true); err != nil {
		return nil, err
	}
	return h, nil
}

// openKeys loads the identity and the policy (a home without a configuration may have none
// yet) and opens the key store; with checkNode, a policy that names another node is refused.
func (h *NodeHome) openKeys(ctx context.Context, cfg *Config, identity, policyFile string, checkNode bool) (err error) {
	if h.ID, err = keys.LoadIdentity(identity); err != nil {
		return err
	}
	if h.Policy, err = policy.Load(policyFile); err != nil {
		if h.Config != nil || !errors.Is(err, os.ErrNotExist) {
			return err
		}
		h.Policy = nil
	}
	if checkNode && h.Policy.Node != "" && h.Policy.Node != h.Name {
		return fmt.Errorf("protocol: policy %s is for node %q, this node is %q", h.Policy.File, h.Policy.Node, h.Name)
	}
	h.Store, err = OpenStore(ctx, cfg, h.ID, h.Policy)
	return err
}

// Close releases the home's lock, if OpenNodeHome took it.
func (h *NodeHome) Close() {
	if h != nil {
		h.lock.Release()
	}
}

// NodeName returns the name of the node at dir: its configuration's node when dir has a
// configuration that loads, else the one line of its node file (a home that `puente keys init`
// made), whose error it returns when there is none.
func NodeName(dir string) (string, error) {
	if cfg, err := HomeConfig(dir); err == nil && cfg != nil {
		return cfg.Node, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, nodeFile))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// PolicyFile returns where the node keeps its key policy.
func (h *NodeHome) PolicyFile() string {
	if h.Config != nil {
		return h.Config.Path(h.Config.Policy)
	}
	return filepath.Join(h.Dir, defaultPolicyFile)
}

// AuditLog returns where the node keeps its audit log.
func (h *NodeHome) AuditLog() string {
	if h.Config != nil {
		return h.Config.Path(h.Config.AuditLog)
	}
	return filepath.Join(h.Dir, defaultAuditLogFile)
}

// AuditSink returns an event sink that appends each key action to the node's audit log, signed
// with the node's current signing key. The log is checked against its head when it is opened,
// as every writer does. The crash tests stop a test build before the record (crash point
// "key-ACTION-unrecorded", the action having taken effect) and after it ("key-ACTION").
func (h *NodeHome) AuditSink() keys.EventSink {
	return func(ctx context.Context, ev keys.Event) error {
		crashpoint.Reach("key-" + string(ev.Action) + "-unrecorded")
		sk := &keys.SigningKeys{Store: h.Store, Node: h.Name}
		k, err := sk.Current(ctx)
		if err != nil {
			return err
		}
		defer k.Zero()
		ring, _, err := sk.Keyring(ctx)
		if err != nil {
			return err
		}
		w, err := audit.Open(h.AuditLog(), audit.Options{Node: h.Name, Signer: k, Verifier: ring})
		if err != nil {
			return err
		}
		_, err = w.Append(ctx, audit.KindKey, KeyRecord(ev))
		if err = errors.Join(err, w.Close()); err == nil {
			crashpoint.Reach("key-" + string(ev.Action))
		}
		return err
	}
}
