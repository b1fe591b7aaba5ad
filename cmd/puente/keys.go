package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
)

// A node's files live under its home directory (-home, or $PUENTE_HOME), at the places its
// puente.hcl names; package home opens them (its doc shows the layout).
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
		{name: "keys epoch", summary: "retire, destroy or revoke an epoch of an agreement", usage: "-agreement ID -epoch N retire|destroy|revoke",
			examples: []string{"puente keys epoch -agreement us-co -epoch 1 retire", "puente keys epoch -agreement us-co -epoch 1 destroy"}, run: runKeysEpoch},
	} {
		register(c)
	}
}

// node is an opened node home: identity, key store, policy (if any), as home.OpenNodeHome
// opens it, honouring puente.hcl.
type node = home.NodeHome

func homeFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("PUENTE_HOME")
	if def == "" {
		def = "."
	}
	return fs.String("home", def, "the node's home directory ($PUENTE_HOME when set)")
}

// openNode opens the node at dir (home.OpenNodeHome): its configured identity, key store
// (file or Vault) and policy.
func openNode(dir string) (*node, error) {
	return home.OpenNodeHome(context.Background(), dir, false)
}

// openNodeForWrite opens the node at dir for a command that changes its files itself: it takes
// the home's lock first, so that no serve starts meanwhile (a running node is reached through
// its operator socket instead, see keyCommand). The caller releases it with Close.
func openNodeForWrite(dir string) (*node, error) {
	return home.OpenNodeHome(context.Background(), dir, true)
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

// Compile-time checks that the key types serve the audit log.
var (
	_ audit.Signer   = (*keys.SigningKey)(nil)
	_ audit.Verifier = (*keys.Keyring)(nil)
)

func runKeysInit(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := homeFlag(fs)
	classical := fs.Bool("classical", false, "use a classical X25519 identity instead of hybrid ML-KEM-768+X25519")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || !audit.ValidNodeName(rest[0]) {
		return usagef("keys init needs one node name ([a-z0-9._-]), got %q", rest)
	}
	n, id, err := home.InitKeys(ctx, *dir, rest[0], *classical)
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "node %s created in %s\nrecipient (give it to the partner): %s\nsigning key: %s\n", n.Name, *dir, n.ID.Recipient(), id)
	return nil
}

func runKeysList(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	n, err := parseNode(fs, homeFlag(fs), args)
	if err != nil {
		return err
	}
	names, err := n.Store.List(ctx, "")
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(st.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tALGORITHM\tCREATED\tCUSTODIANS")
	for _, name := range names {
		info, err := n.Store.Stat(ctx, name)
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
	ring, _, err := (&keys.SigningKeys{Store: n.Store, Node: n.Name}).Keyring(ctx)
	if err != nil {
		return err
	}
	b, err := ring.MarshalJSON()
	if err != nil {
		return err
	}
	return os.WriteFile(rest[0], append(b, '\n'), 0o644)
}
