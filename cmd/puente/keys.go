package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
	"github.com/puente-id/puente/protocol"
)

// A node's files live under its home directory (-home, or $PUENTE_HOME):
//
//	identity.age   the node's age identity (mode 0600)
//	keys/          the file key store
//	audit.log      the audit log (and audit.log.head)
//	policy.hcl     the key policy
//	node           the node's name, one line
func init() {
	for _, c := range []*command{
		{name: "keys init", summary: "create a node: age identity, key store, first signing key", usage: "[-home DIR] [-classical] NODE",
			examples: []string{"puente keys init -home /var/lib/puente us-cbp"}, run: runKeysInit},
		{name: "keys list", summary: "list the keys in the store with version, algorithm, age and custodians", usage: "[-home DIR]",
			examples: []string{"puente keys list"}, run: runKeysList},
		{name: "keys rotate", summary: "make a new signing key; the old one stays valid for the overlap", usage: "[-home DIR] [-overlap 7d]",
			examples: []string{"puente keys rotate -overlap 7d"}, run: runKeysRotate},
		{name: "keys destroy-expired", summary: "destroy the seeds of signing keys whose validity has ended (their public keys stay in the keyring)", usage: "[-home DIR]",
			examples: []string{"puente keys destroy-expired"}, run: runKeysDestroyExpired},
		{name: "keys revoke-signing", summary: "revoke a signing key now and destroy its seed", usage: "[-home DIR] KEYID",
			examples: []string{"puente keys revoke-signing 3f1a..."}, run: runKeysRevokeSigning},
		{name: "keys keyring", summary: "write the public signing keyring (for partners and privacy officers)", usage: "[-home DIR] OUT.json",
			examples: []string{"puente keys keyring keyring-us-cbp.json"}, run: runKeysKeyring},
		{name: "keys contribute", summary: "draw this node's contribution to an epoch's agreement secret", usage: "-agreement ID -epoch N -partner-recipient AGE1... OUT",
			examples: []string{"puente keys contribute -agreement us-co -epoch 2 -partner-recipient age1pq1... contribution-us.age"}, run: runKeysContribute},
		{name: "keys derive", summary: "open the partner's contribution and begin the epoch", usage: "-agreement ID -epoch N -partner NAME -commitment HEX IN",
			examples: []string{"puente keys derive -agreement us-co -epoch 2 -partner co-migracion -commitment 3f1a... contribution-co.age"}, run: runKeysDerive},
		{name: "keys epoch", summary: "retire, destroy or revoke an epoch of an agreement", usage: "-agreement ID -epoch N retire|destroy|revoke",
			examples: []string{"puente keys epoch -agreement us-co -epoch 1 retire", "puente keys epoch -agreement us-co -epoch 1 destroy"}, run: runKeysEpoch},
	} {
		register(c)
	}
}

// node is an opened node home: identity, store, policy (if any).
type node struct {
	home   string
	name   string
	id     *keys.Identity
	store  *keys.FileStore
	policy *policy.Policy
	unlock func() // releases the home's lock (a home with a configuration)
}

// close releases the home.
func (n *node) close() {
	if n != nil && n.unlock != nil {
		n.unlock()
	}
}

// lockNodeHome takes the home's lock when home is a full node's (it has a configuration), so
// that no serve starts while a command changes its files; it returns the release function.
func lockNodeHome(home string) (func(), error) {
	if _, err := os.Stat(configPath(home)); err != nil {
		return func() {}, nil
	}
	cfg, err := protocol.LoadConfig(configPath(home))
	if err != nil {
		return nil, err
	}
	return protocol.LockHome(cfg)
}

func homeFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("PUENTE_HOME")
	if def == "" {
		def = "."
	}
	return fs.String("home", def, "the node's home directory ($PUENTE_HOME when set)")
}

// openNode loads the identity, the policy (its custodians seal new keys)
// and the file store.
func openNode(home string) (*node, error) {
	name, err := os.ReadFile(filepath.Join(home, "node"))
	if err != nil {
		return nil, fmt.Errorf("%s is not a node home (run 'puente init'): %w", home, err)
	}
	n := &node{home: home, name: strings.TrimSpace(string(name))}
	if n.id, err = keys.LoadIdentity(filepath.Join(home, "identity.age")); err != nil {
		return nil, err
	}

	var cs []keys.Custodian
	if p, err := policy.Load(filepath.Join(home, "policy.hcl")); err == nil {
		n.policy = p
		for _, c := range p.Custodians {
			if c.Recipient == "" {
				continue
			}
			kc, err := keys.ParseCustodian(c.Name, c.Recipient)
			if err != nil {
				return nil, err
			}
			cs = append(cs, kc)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	n.store, err = keys.OpenFileStore(filepath.Join(home, "keys"), n.id, keys.FileStoreOptions{Custodians: cs})
	return n, err
}

// openNodeForWrite opens the node at home for a command that changes its files itself: it takes
// the home's lock first, so that no serve starts meanwhile (a running node is reached through
// its operator socket instead, see keyCommand). The caller releases it with close.
func openNodeForWrite(home string) (*node, error) {
	unlock, err := lockNodeHome(home)
	if err != nil {
		return nil, err
	}
	n, err := openNode(home)
	if err != nil {
		unlock()
		return nil, err
	}
	n.unlock = unlock
	return n, nil
}

// parseNoArgs parses args for a command that takes flags only.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	rest, err := parse(fs, args)
	if err == nil && len(rest) > 0 {
		err = usagef("%s takes no arguments, got %q", strings.TrimPrefix(fs.Name(), "puente "), rest[0])
	}
	return err
}

// parseNode parses args for a command that takes flags only and opens the
// node at *home.
func parseNode(fs *flag.FlagSet, home *string, args []string) (*node, error) {
	if err := parseNoArgs(fs, args); err != nil {
		return nil, err
	}
	return openNode(*home)
}

// auditSink returns an event sink that appends each key action to the
// node's audit log, signed with the node's current signing key. The log is
// checked against its head when it is opened, as every writer does.
func (n *node) auditSink() keys.EventSink {
	return func(ctx context.Context, ev keys.Event) error {
		sk := &keys.SigningKeys{Store: n.store, Node: n.name}
		k, err := sk.Current(ctx)
		if err != nil {
			return err
		}
		defer k.Zero()
		ring, _, err := sk.Keyring(ctx)
		if err != nil {
			return err
		}
		w, err := audit.Open(filepath.Join(n.home, "audit.log"), audit.Options{Node: n.name, Signer: k, Verifier: ring})
		if err != nil {
			return err
		}
		_, err = w.Append(ctx, audit.KindKey, audit.Event{Action: string(ev.Action), Key: ev.Key, KeyID: ev.KeyID, Epoch: ev.Epoch})
		return errors.Join(err, w.Close())
	}
}

// Compile-time checks that the key types serve the audit log.
var (
	_ audit.Signer   = (*keys.SigningKey)(nil)
	_ audit.Verifier = (*keys.Keyring)(nil)
)

func runKeysInit(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	classical := fs.Bool("classical", false, "use a classical X25519 identity instead of hybrid ML-KEM-768+X25519")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || !audit.ValidNodeName(rest[0]) {
		return usagef("keys init needs one node name ([a-z0-9._-]), got %q", rest)
	}
	if err := os.MkdirAll(*home, 0o700); err != nil {
		return err
	}
	id, err := keys.GenerateIdentity(*classical)
	if err != nil {
		return err
	}
	if err := id.Save(filepath.Join(*home, "identity.age"), time.Now()); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*home, "node"), []byte(rest[0]+"\n"), 0o600); err != nil {
		return err
	}
	n, err := openNode(*home)
	if err != nil {
		return err
	}
	sk := &keys.SigningKeys{Store: n.store, Node: n.name, Rand: rand.Reader}
	k, err := sk.Rotate(ctx, 0)
	if err != nil {
		return err
	}
	defer k.Zero()
	if err := n.auditSink()(ctx, keys.Event{Action: keys.ActSigningKeyCreated, Key: keys.SigningKeyName(k.ID()), KeyID: k.ID().String()}); err != nil {
		return err
	}
	fmt.Fprintf(st.out, "node %s created in %s\nrecipient (give it to the partner): %s\nsigning key: %s\n", n.name, *home, id.Recipient(), k.ID())
	return nil
}

func runKeysList(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	n, err := parseNode(fs, homeFlag(fs), args)
	if err != nil {
		return err
	}
	names, err := n.store.List(ctx, "")
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(st.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tALGORITHM\tCREATED\tCUSTODIANS")
	for _, name := range names {
		info, err := n.store.Stat(ctx, name)
		if err != nil {
			fmt.Fprintf(tw, "%s\t?\t?\t?\tunreadable: %v\n", name, err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", name, info.Version, info.Algorithm, info.Created.Format(time.DateOnly), strings.Join(info.Custodians, ","))
	}
	return tw.Flush()
}

func runKeysKeyring(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("keys keyring needs one output file")
	}
	n, err := openNode(*home)
	if err != nil {
		return err
	}
	ring, _, err := (&keys.SigningKeys{Store: n.store, Node: n.name}).Keyring(ctx)
	if err != nil {
		return err
	}
	b, err := ring.MarshalJSON()
	if err != nil {
		return err
	}
	return os.WriteFile(rest[0], append(b, '\n'), 0o644)
}
