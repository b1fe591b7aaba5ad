package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
	"github.com/puente-id/puente/protect"
	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "partner add", summary: "add a partner agency from its card: configuration block, and the policy block to add",
		usage:    "[-home DIR] -card FILE -agreement ID -address HOST:PORT [-purposes a,b] [-he-params NAME] [-threshold T] [-quota \"N per PERIOD\"] [-verify-limit \"N per PERIOD\"] [transform flags]",
		examples: []string{"puente partner add -card co-migracion.card.json -agreement us-co -address puente.migracion.example:7443 -purposes border-screening -quota \"1000 per 24h\""},
		run:      runPartnerAdd})
	register(&command{name: "partner update", summary: "replace a partner's card with its new one (signing key rotated or revoked, new certificate)",
		usage:    "[-home DIR] -card FILE",
		examples: []string{"puente partner update -card co-migracion.card.json   # then confirm the changes by another channel and restart serve"},
		run:      runPartnerUpdate})
	register(&command{name: "partner resume", summary: "send queries to a partner again after the node halted them (its answer did not open, or a rebuild found a query left pending); audited",
		usage:    "[-home DIR] -partner NAME",
		examples: []string{"puente partner resume -partner co-migracion   # with the node stopped, once the deviation is settled with the partner agency"},
		run:      runPartnerResume})
	register(&command{name: "card", summary: "write this node's card (name, age recipient, TLS pin, signing keyring) for partners",
		usage: "[-home DIR] [-out FILE]", examples: []string{"puente card -out us-cbp.card.json"}, run: runCard})
}

func runPartnerAdd(_ context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := homeFlag(fs)
	cardFile := fs.String("card", "", "the partner's card file (required)")
	agreement := fs.String("agreement", "", "the agreement ID both agencies use (required)")
	address := fs.String("address", "", "host:port of the partner's node (required)")
	purposes := fs.String("purposes", "border-screening", "comma-separated purpose codes the agreement allows")
	params := fs.String("he-params", "puente-ckks-n15-v2", "HE parameter set: puente-ckks-n15-v2 serves every threshold; puente-ckks-n15-v4, faster, thresholds from 0.9233 (puente-ckks-n15-v3: the same circuit, slower, larger keys; INSECURE test sets need a test node)")
	threshold := fs.Float64("threshold", 0.9234, "tau: a protected score at or above it is a hit (PolyProtect's at FMR 1e-3 on LFW)")
	quota := fs.String("quota", "1000 per 24h", "the partner's query quota, for the policy block printed")
	verifyLimit := fs.String("verify-limit", "5 per 24h", "how often the partner may verify against any one reference, for the policy block printed")
	scheme := fs.String("scheme", "polyprotect", "protect scheme: polyprotect, biohash or iom")
	inDim := fs.Int("input-dim", 128, "raw feature dimension")
	order := fs.Int("order", 5, "PolyProtect order")
	overlap := fs.Int("overlap", 4, "PolyProtect overlap")
	scale := fs.Float64("scale", 1, "PolyProtect scale")
	m := fs.Int("m", 0, "BioHash bits, or Index-of-Max hashes")
	q := fs.Int("q", 0, "Index-of-Max projections per hash")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("partner add takes no arguments, got %q", rest[0])
	}
	if *cardFile == "" || *agreement == "" || *address == "" {
		return usagef("-card, -agreement and -address are required")
	}
	if err := home.CheckAddress(*address); err != nil {
		return usagef("-address: %v", err)
	}
	if math.IsNaN(*threshold) || *threshold < -0.999 || *threshold > 0.999 {
		return usagef("-threshold %v: want a number from -0.999 to 0.999 (a protected score at or above it is a hit)", *threshold)
	}
	ps, err := home.LookupParams(*params)
	if err != nil {
		return usagef("-he-params: %v", err)
	}
	if lo := ps.MinTau(); *threshold < lo {
		return usagef("-threshold %v is below %.4f, the lowest threshold %s serves: use -he-params puente-ckks-n15-v2, which serves every threshold", *threshold, math.Ceil(lo*1e4)/1e4, ps.Name())
	}
	if _, err := policy.ParseQuota(*quota); err != nil {
		return usagef("-quota: %v", err)
	}
	if _, err := policy.ParseQuota(*verifyLimit); err != nil {
		return usagef("-verify-limit: %v", err)
	}
	sch, err := protect.ParseScheme(*scheme)
	if err != nil {
		return usagef("-scheme: %v", err)
	}
	t := protect.Params{Scheme: sch, InputDim: *inDim}
	switch sch {
	case protect.PolyProtect:
		t.Order, t.Overlap, t.Scale = *order, *overlap, *scale
	case protect.BioHash:
		t.M = *m
	case protect.IndexOfMax:
		t.M, t.Q = *m, *q
	}
	if err := t.Validate(); err != nil {
		return usagef("transform: %v", err)
	}
	card, err := home.LoadCard(*cardFile)
	if err != nil {
		return err
	}
	snippet, err := home.AddPartner(*dir, card, home.PartnerOptions{Agreement: *agreement, Address: *address,
		Purposes: strings.Split(*purposes, ","), HEParams: *params, Threshold: *threshold, Transform: t, VerifyLimit: *verifyLimit}, *quota)
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "partner %s added to %s\n", card.Node, configPath(*dir))
	fmt.Fprintf(st.out, "confirm with %s by another channel: TLS pin %s, signing keys", card.Node, card.Pin)
	for _, e := range card.Keyring.Entries() {
		fmt.Fprintf(st.out, " %s", e.ID)
	}
	_, policyFile, _, err := home.HomePaths(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "\nadd to the key policy (%s), with the privacy officer:\n\n%s", policyFile, snippet)
	return nil
}

func runCard(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := homeFlag(fs)
	out := fs.String("out", "", "where to write the card (default HOME/card.json)")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("card takes no arguments, got %q", rest[0])
	}
	cfg, err := loadConfig(*dir)
	if err != nil {
		return err
	}
	pin, err := home.CertPin(cfg.Path(cfg.TLSCert))
	if err != nil {
		return err
	}
	n, err := home.OpenNodeHome(ctx, *dir, false)
	if err != nil {
		return err
	}
	id := n.ID
	ring, _, err := (&keys.SigningKeys{Store: n.Store, Node: cfg.Node}).Keyring(ctx)
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = home.CardFile(*dir)
	}
	if err := home.WriteCard(path, &home.Card{Node: cfg.Node, Recipient: id.Recipient(), Pin: pin, Keyring: ring}); err != nil {
		return err
	}
	fmt.Fprintf(st.out, "card of %s written to %s (TLS pin %s)\n", cfg.Node, path, pin)
	return nil
}

func runPartnerUpdate(_ context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := homeFlag(fs)
	cardFile := fs.String("card", "", "the partner's new card file (required)")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("partner update takes no arguments, got %q", rest[0])
	}
	if *cardFile == "" {
		return usagef("-card is required")
	}
	card, err := home.LoadCard(*cardFile)
	if err != nil {
		return err
	}
	old, err := home.UpdatePartnerCard(*dir, card)
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "partner %s: card replaced; what changed:\n", card.Node)
	for _, l := range cardChanges(old, card) {
		fmt.Fprintf(st.out, "  %s\n", l)
	}
	fmt.Fprintf(st.out, "confirm these with %s by another channel, then restart 'puente serve' to use the new card\n", card.Node)
	return nil
}

// cardChanges lists, one line each, what differs between a partner's old and new card.
func cardChanges(old, card *home.Card) []string {
	var out []string
	if old.Pin != card.Pin {
		out = append(out, fmt.Sprintf("TLS pin %s -> %s", old.Pin, card.Pin))
	}
	if old.Recipient != card.Recipient {
		out = append(out, "age recipient changed (the partner's seed contributions are sealed to the new one from the next ceremony)")
	}
	const day = "2006-01-02"
	for _, e := range card.Keyring.Entries() {
		o, had := old.Keyring.Lookup(e.ID)
		switch {
		case !had:
			out = append(out, fmt.Sprintf("signing key %s added, valid %s to %s", e.ID, e.NotBefore.Format(day), validUntil(e.NotAfter)))
		case e.Revoked && !o.Revoked:
			out = append(out, fmt.Sprintf("signing key %s revoked", e.ID))
		case !e.NotAfter.Equal(o.NotAfter):
			out = append(out, fmt.Sprintf("signing key %s now valid until %s", e.ID, validUntil(e.NotAfter)))
		}
	}
	for _, o := range old.Keyring.Entries() {
		if _, ok := card.Keyring.Lookup(o.ID); !ok {
			out = append(out, fmt.Sprintf("signing key %s removed", o.ID))
		}
	}
	if len(out) == 0 {
		out = append(out, "nothing: the new card equals the old one")
	}
	return out
}

func validUntil(t time.Time) string {
	if t.IsZero() {
		return "its rotation"
	}
	return t.Format("2006-01-02")
}

func runPartnerResume(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := homeFlag(fs)
	partner := partnerFlag(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := needPartner(*partner); err != nil {
		return err
	}
	cfg, err := loadConfig(*dir)
	if err != nil {
		return err
	}
	h, err := protocol.ResumePartner(ctx, cfg, *partner, protocol.Options{Logger: cliLogger(st)})
	if err != nil {
		return err
	}
	why := "its answer to query " + h.RequestID + " did not open"
	if h.Unresolved {
		why = "a rebuild of the state file found query " + h.RequestID + " left pending"
	}
	fmt.Fprintf(st.out, "queries to %s resume (recorded in the audit log); they were halted since %s, when %s\n",
		h.Partner, h.At.UTC().Format(time.RFC3339), why)
	return nil
}
