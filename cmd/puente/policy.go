package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
)

func init() {
	register(&command{name: "policy check", summary: "compare the key policy with the key store and report problems",
		usage: "[-home DIR] [-policy FILE] [-vault-addr URL -vault-prefix P -vault-transit-key K [-node NAME]]",
		examples: []string{"puente policy check -home /var/lib/puente",
			"VAULT_TOKEN=... puente policy check -vault-addr https://vault:8200 -vault-prefix puente/us-cbp -vault-transit-key puente-us-cbp"},
		run: runPolicyCheck})
	register(&command{name: "policy show", summary: "print the key policy for a reader", usage: "[-home DIR] [-policy FILE]",
		examples: []string{"puente policy show -policy policy.hcl"}, run: runPolicyShow})
}

// policyFlags registers -home and -policy and returns a loader.
func policyFlags(fs *flag.FlagSet) func() (*policy.Policy, string, error) {
	dir := homeFlag(fs)
	file := fs.String("policy", "", "the key policy file (default: puente.hcl's policy, or HOME/policy.hcl)")
	return func() (*policy.Policy, string, error) {
		path := *file
		if path == "" {
			_, pf, _, err := home.HomePaths(*dir)
			if err != nil {
				return nil, *dir, err
			}
			path = pf
		}
		p, err := policy.Load(path)
		return p, *dir, err
	}
}

func runPolicyShow(_ context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	load := policyFlags(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	p, _, err := load()
	if err != nil {
		return err
	}
	return policy.Show(st.out, p)
}

func runPolicyCheck(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	load := policyFlags(fs)
	addr := fs.String("vault-addr", "", "check a Vault store instead of the file store (token from $VAULT_TOKEN, or AppRole from $VAULT_ROLE_ID and $VAULT_SECRET_ID)")
	prefix := fs.String("vault-prefix", "", "path of this node's entries under the KV v2 mount")
	mount := fs.String("vault-mount", "secret", "KV v2 mount")
	transitKey := fs.String("vault-transit-key", "", "Transit key that wraps the entries")
	nodeName := fs.String("node", "", "with -vault-addr: the node whose entries these are (default: the node of -home)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	p, dir, err := load()
	if err != nil {
		return err
	}
	target := policy.Target{Kind: "file"}
	if *addr != "" {
		name := *nodeName
		if name == "" {
			if name, err = home.NodeName(dir); err != nil {
				return usagef("policy check -vault-addr needs the node's name: -node NAME, or -home with a node file (%v)", err)
			}
		}
		if name != p.Node {
			return fmt.Errorf("%s is the policy of node %s, but the Vault entries are node %s's", p.File, p.Node, name)
		}
		var auth keys.VaultAuth = keys.VaultToken(os.Getenv("VAULT_TOKEN"))
		if id := os.Getenv("VAULT_ROLE_ID"); id != "" {
			auth = keys.VaultAppRole{RoleID: id, SecretID: os.Getenv("VAULT_SECRET_ID")}
		}
		vs, err := keys.NewVaultStore(ctx, keys.VaultConfig{Address: *addr, Mount: *mount, Prefix: *prefix, TransitKey: *transitKey, Auth: auth})
		if err != nil {
			return err
		}
		target = policy.Target{Store: vs, Kind: "vault"}
	} else {
		n, err := openNode(dir)
		if err != nil {
			return err
		}
		if n.Name != p.Node {
			return fmt.Errorf("%s is the policy of node %s, but %s is node %s", p.File, p.Node, dir, n.Name)
		}
		target.Store = n.Store
		if n.Config != nil && n.Config.KeyStore.Type == "vault" {
			target.Kind = "vault" // the store puente.hcl names
		}
	}
	findings, err := policy.Check(ctx, p, target, time.Now())
	if err != nil {
		return err
	}
	lines := make([]string, 0, len(findings))
	for _, f := range findings {
		lines = append(lines, f.String())
	}
	// The node's configuration, when there is one, must name its partners as the policy does:
	// serve refuses a partner whose agreement differs.
	if *addr == "" {
		if cfg, err := loadConfig(dir); err == nil {
			lines = append(lines, cfg.PolicyFindings(p)...)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if len(lines) == 0 {
		fmt.Fprintf(st.out, "%s: the %s store follows the policy\n", p.File, target.Kind)
		return nil
	}
	for _, l := range lines {
		fmt.Fprintln(st.out, l)
	}
	return &findingsError{n: len(lines)}
}
