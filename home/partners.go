package home

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/puente-id/puente/internal/atomicfile"
	"github.com/puente-id/puente/protect"
)

// PartnerOptions describe an agreement for AddPartner.
type PartnerOptions struct {
	Agreement string
	Address   string
	Purposes  []string
	HEParams  string // default puente-ckks-n15-v2
	Threshold float64
	Transform protect.Params
	// VerifyLimit is the per-reference verification limit ("N per PERIOD") for the policy
	// block returned; empty leaves it out, and the partner's verifications are refused.
	VerifyLimit string
}

// AddPartner copies a partner's card into the home's partners/ directory and appends its
// partner block to the configuration. It returns the block to add to the key policy (with the
// partner's query quota and per-reference verification limit), which the privacy officer's file
// keeps: no command writes the policy.
func AddPartner(dir string, card *Card, o PartnerOptions, quota string) (string, error) {
	cfgPath := ConfigFile(dir)
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return "", err
	}
	if _, dup := cfg.Partner(card.Node); dup {
		return "", fmt.Errorf("protocol: %s already has a partner %q", cfgPath, card.Node)
	}
	if o.HEParams == "" {
		o.HEParams = "puente-ckks-n15-v2"
	}
	rel := filepath.Join("partners", card.Node+".card.json")
	cardPath := filepath.Join(dir, rel)
	if _, err := os.Stat(cardPath); err == nil {
		return "", fmt.Errorf("protocol: %s already exists (a partner's card the configuration does not name); remove it first", cardPath)
	}
	t := o.Transform
	block := fmt.Sprintf("\npartner %s {\n  agreement = %s\n  address   = %s\n  card      = %s\n  purposes  = [%s]\n  he_params = %s\n  threshold = %s\n  transform {\n    scheme    = %s\n    input_dim = %d\n",
		hclQuote(card.Node), hclQuote(o.Agreement), hclQuote(o.Address), hclQuote(filepath.ToSlash(rel)), quoteList(o.Purposes), hclQuote(o.HEParams),
		strconv.FormatFloat(o.Threshold, 'g', -1, 64), hclQuote(t.Scheme.String()), t.InputDim)
	for _, f := range []struct {
		name string
		v    int
	}{{"m", t.M}, {"q", t.Q}, {"order", t.Order}, {"overlap", t.Overlap}} {
		if f.v != 0 {
			block += fmt.Sprintf("    %-9s = %d\n", f.name, f.v)
		}
	}
	if t.Scale != 0 {
		block += fmt.Sprintf("    scale     = %s\n", strconv.FormatFloat(t.Scale, 'g', -1, 64))
	}
	block += "  }\n}\n"
	src, err := os.ReadFile(cfgPath)
	if err != nil {
		return "", err
	}
	next := append(src, block...)
	// The new configuration is checked before anything is written, and the card goes only with
	// it: a refused partner leaves no card behind.
	if _, err := ParseConfig(next, cfgPath); err != nil {
		return "", err
	}
	if err := WriteCard(cardPath, card); err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(cfgPath, next, 0o600); err != nil {
		os.Remove(cardPath)
		return "", err
	}
	pol := fmt.Sprintf("partner %s {\n  agreement    = %s\n  quota        = %s\n", hclQuote(card.Node), hclQuote(o.Agreement), hclQuote(quota))
	if o.VerifyLimit != "" {
		pol += fmt.Sprintf("  verify_limit = %s\n", hclQuote(o.VerifyLimit))
	}
	return pol + "}\n", nil
}

// UpdatePartnerCard replaces the stored card of an existing partner with card, the partner's
// new card after it rotated or revoked a signing key, renewed its TLS certificate or changed
// its age identity, and returns the card it replaced. The replacement is refused, changing
// nothing, when the node has no such partner, the stored card cannot be read, or the new card
// lists as valid a signing key the stored card has revoked (a revocation is never undone by a
// card). A running node reads the cards when it starts.
func UpdatePartnerCard(dir string, card *Card) (*Card, error) {
	cfgPath := ConfigFile(dir)
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	pc, ok := cfg.Partner(card.Node)
	if !ok {
		return nil, fmt.Errorf("protocol: %s has no partner %q (add it with puente partner add)", cfgPath, card.Node)
	}
	path := cfg.Path(pc.Card)
	old, err := LoadCard(path)
	if err != nil {
		return nil, err
	}
	for _, e := range old.Keyring.Entries() {
		if n, ok := card.Keyring.Lookup(e.ID); ok && e.Revoked && !n.Revoked {
			return nil, fmt.Errorf("protocol: the new card of %s lists signing key %s as valid, but %s has it revoked", card.Node, e.ID, path)
		}
	}
	b, err := card.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil { // a card is public
		return nil, err
	}
	return old, nil
}
