package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/puente-id/puente/operator"
	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "ceremony", summary: "run the key ceremony with a partner: a new epoch of HE keys and transform seed",
		usage:    "[-home DIR] -partner NAME [-epoch N]",
		examples: []string{"puente ceremony -partner co-migracion", "puente ceremony -partner co-migracion -epoch 3"},
		run:      runCeremony})
	register(&command{name: "revoke", summary: "revoke the current epoch with a partner at once and start a new one (re-protects both galleries)",
		usage:    "[-home DIR] -partner NAME",
		examples: []string{"puente revoke -partner co-migracion"},
		run:      runRevoke})
}

func runCeremony(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	partner := partnerFlag(fs)
	epoch := fs.Uint64("epoch", 0, "the epoch to set up (default: the one after the agreement's last; at most 65,536 past it)")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("ceremony takes no arguments, got %q", rest[0])
	}
	if err := needPartner(*partner); err != nil {
		return err
	}
	return withPartner(ctx, st, *home, *partner, func(op operator.Operator) error {
		rep, err := op.Ceremony(ctx, *partner, *epoch)
		if err != nil {
			return err
		}
		printCeremony(st, "ceremony", rep)
		return nil
	})
}

func runRevoke(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	partner := partnerFlag(fs)
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("revoke takes no arguments, got %q", rest[0])
	}
	if err := needPartner(*partner); err != nil {
		return err
	}
	return withPartner(ctx, st, *home, *partner, func(op operator.Operator) error {
		rep, err := op.Revoke(ctx, *partner)
		if err != nil {
			return err
		}
		printCeremony(st, "revoked; new", rep)
		return nil
	})
}

func printCeremony(st *stdio, what string, r *protocol.CeremonyReport) {
	fmt.Fprintf(st.out, "%s epoch %d of agreement %s with %s is current (%s)\n", what, r.Epoch, r.Agreement, r.Partner, r.ParamSet)
	fmt.Fprintf(st.out, "%d key-share exchanges, %d bytes sent, %d bytes received, %s\n", r.Exchanges, r.BytesSent, r.BytesRecv, r.Elapsed.Round(1e6))
}
