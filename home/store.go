package home

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
)

// OpenStore opens the configured key store; a file store seals new entries to the policy's
// custodians too.
func OpenStore(ctx context.Context, cfg *Config, id *keys.Identity, pol *policy.Policy) (keys.Store, error) {
	ks := cfg.KeyStore
	if ks.Type == "vault" {
		token := os.Getenv("VAULT_TOKEN")
		if ks.TokenFile != "" {
			b, err := os.ReadFile(cfg.Path(ks.TokenFile))
			if err != nil {
				return nil, fmt.Errorf("protocol: vault token: %w", err)
			}
			token = strings.TrimSpace(string(b))
		}
		return keys.NewVaultStore(ctx, keys.VaultConfig{Address: ks.Address, Mount: ks.Mount, Prefix: ks.Prefix,
			TransitMount: ks.TransitPath, TransitKey: ks.TransitKey, Auth: keys.VaultToken(token), Custodians: ks.Custodians})
	}
	var cs []keys.Custodian
	for _, c := range custodiansOf(pol) {
		if c.Recipient == "" {
			continue
		}
		kc, err := keys.ParseCustodian(c.Name, c.Recipient)
		if err != nil {
			return nil, err
		}
		cs = append(cs, kc)
	}
	return keys.OpenFileStore(cfg.Path(ks.Path), id, keys.FileStoreOptions{Custodians: cs})
}

// custodiansOf returns the policy's custodians; none for a home without a policy yet.
func custodiansOf(pol *policy.Policy) []policy.Custodian {
	if pol == nil {
		return nil
	}
	return pol.Custodians
}
