package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
// node's audit log, signed with the node's current signing key.
func (n *node) auditSink() keys.EventSink {
	return func(ctx context.Context, ev keys.Event) error {
		sk := &keys.SigningKeys{Store: n.store, Node: n.name}
		k, err := sk.Current(ctx)
		if err != nil {
			return err
		}
		defer k.Zero()
		w, err := audit.Open(filepath.Join(n.home, "audit.log"), audit.Options{Node: n.name, Signer: k})
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

func runKeysRotate(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	overlap := fs.String("overlap", "7d", "how long the old key stays valid (30m, 24h, 7d, ...)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	ov, err := policy.ParsePeriod(*overlap)
	if err != nil {
		return usagef("-overlap: %v", err)
	}
	n, err := openNode(*home)
	if err != nil {
		return err
	}
	sk := &keys.SigningKeys{Store: n.store, Node: n.name, Rand: rand.Reader, Events: n.auditSink()}
	k, err := sk.Rotate(ctx, ov.D)
	if err != nil {
		return err
	}
	defer k.Zero()
	fmt.Fprintf(st.out, "new signing key %s; the previous key stays valid for %s\n", k.ID(), ov)
	if ov.D == 0 {
		fmt.Fprintln(st.out, "the previous key's seed was destroyed (no overlap)")
	}
	return nil
}

func runKeysDestroyExpired(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	n, err := parseNode(fs, homeFlag(fs), args)
	if err != nil {
		return err
	}
	sk := &keys.SigningKeys{Store: n.store, Node: n.name, Events: n.auditSink()}
	done, err := sk.DestroyExpired(ctx)
	for _, id := range done {
		fmt.Fprintf(st.out, "destroyed the seed of signing key %s (its public key stays in the keyring)\n", id)
	}
	if err != nil {
		return err
	}
	if len(done) == 0 {
		fmt.Fprintln(st.out, "no signing key has ended its validity with its seed still stored")
	}
	return nil
}

func runKeysRevokeSigning(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("keys revoke-signing needs one key ID")
	}
	id, err := keys.ParseKeyID(rest[0])
	if err != nil {
		return usagef("%v", err)
	}
	n, err := openNode(*home)
	if err != nil {
		return err
	}
	// The revocation is audited with the node's current key, so record it
	// before the key itself may be the one revoked.
	sink := n.auditSink()
	if err := sink(ctx, keys.Event{Action: keys.ActSigningKeyRevoked, Key: keys.SigningKeyName(id), KeyID: id.String()}); err != nil {
		return err
	}
	if err := (&keys.SigningKeys{Store: n.store, Node: n.name}).Revoke(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(st.out, "signing key %s revoked; run 'puente keys rotate' if it was the current one\n", id)
	return nil
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

// epochFlags registers -agreement and -epoch.
func epochFlags(fs *flag.FlagSet) (*string, *uint64) {
	return fs.String("agreement", "", "agreement ID, e.g. us-co"), fs.Uint64("epoch", 0, "epoch number (from 1)")
}

func contributionName(agreement string, epoch uint64) string {
	return strings.TrimSuffix(keys.SeedName(agreement, epoch), "/seed") + "/contribution"
}

func runKeysContribute(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	agreement, epoch := epochFlags(fs)
	to := fs.String("partner-recipient", "", "the partner node's age recipient")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || *agreement == "" || *epoch == 0 || *to == "" {
		return usagef("keys contribute needs -agreement, -epoch, -partner-recipient and one output file")
	}
	n, err := openNode(*home)
	if err != nil {
		return err
	}
	c, err := keys.NewContribution(rand.Reader, n.name, *agreement, *epoch)
	if err != nil {
		return err
	}
	defer c.Zero()
	sealed, err := c.Seal(*to)
	if err != nil {
		return err
	}
	// Keep our own contribution (sealed by the store) until the partner's
	// arrives; 'keys derive' destroys it.
	own := c.Marshal()
	_, err = n.store.Put(ctx, contributionName(*agreement, *epoch), own, keys.PutOptions{Algorithm: keys.AlgHKDFSHA256})
	clear(own)
	if err != nil {
		return err
	}
	if err := os.WriteFile(rest[0], sealed, 0o600); err != nil {
		return err
	}
	cm := c.Commitment()
	fmt.Fprintf(st.out, "commitment (send it first, then the sealed contribution %s once you hold the partner's commitment):\n%s\n", rest[0], hex.EncodeToString(cm[:]))
	return nil
}

func runKeysDerive(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	agreement, epoch := epochFlags(fs)
	partner := fs.String("partner", "", "the partner node's name")
	commitment := fs.String("commitment", "", "the partner's commitment (hex), received before its contribution")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	cm, herr := hex.DecodeString(*commitment)
	if len(rest) != 1 || *agreement == "" || *epoch == 0 || *partner == "" || herr != nil || len(cm) != 32 {
		return usagef("keys derive needs -agreement, -epoch, -partner, a 64-hex-digit -commitment and the partner's sealed contribution")
	}
	n, err := openNode(*home)
	if err != nil {
		return err
	}
	sealed, err := os.ReadFile(rest[0])
	if err != nil {
		return err
	}
	theirs, err := keys.OpenContribution(sealed, n.id, *partner, *agreement, *epoch, [32]byte(cm))
	if err != nil {
		return fmt.Errorf("%s: %w", rest[0], err)
	}
	defer theirs.Zero()
	name := contributionName(*agreement, *epoch)
	e, err := n.store.Get(ctx, name, 0)
	if err != nil {
		return err
	}
	mine, err := keys.UnmarshalContribution(e.Data.Bytes())
	e.Zero()
	if err != nil {
		return &keys.KeyError{Op: "get", Name: name, Err: err}
	}
	defer mine.Zero()
	if mine.Party != n.name || mine.Agreement != *agreement || mine.Epoch != *epoch {
		return fmt.Errorf("%s holds a contribution for %s/%s/%d", name, mine.Party, mine.Agreement, mine.Epoch)
	}
	secret, err := keys.DeriveAgreementSecret(mine, theirs)
	if err != nil {
		return err
	}
	defer secret.Zero()
	ag := &keys.Agreements{Store: n.store, Events: n.auditSink()}
	if err := ag.Begin(ctx, *partner, secret); err != nil {
		return err
	}
	if err := n.store.Destroy(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(st.out, "epoch %d of agreement %s begun with %s; the previous epoch is superseded until the gallery is re-protected\n", *epoch, *agreement, *partner)
	return nil
}

func runKeysEpoch(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	agreement, epoch := epochFlags(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || *agreement == "" || *epoch == 0 {
		return usagef("keys epoch needs -agreement, -epoch and one of retire, destroy, revoke")
	}
	n, err := openNode(*home)
	if err != nil {
		return err
	}
	ag := &keys.Agreements{Store: n.store, Events: n.auditSink()}
	switch rest[0] {
	case "retire":
		err = ag.Retire(ctx, *agreement, *epoch)
	case "destroy":
		err = ag.Destroy(ctx, *agreement, *epoch)
	case "revoke":
		err = ag.Revoke(ctx, *agreement, *epoch)
	default:
		return usagef("unknown epoch action %q (retire, destroy or revoke)", rest[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "epoch %d of agreement %s: %s done\n", *epoch, *agreement, rest[0])
	return nil
}
