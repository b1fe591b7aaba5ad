package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/keys"
)

func init() {
	register(&command{name: "audit verify", summary: "check the audit log's hash chain and signatures; name the first bad record",
		usage: "[-home DIR] [-log FILE] [-keyring FILE] [-expect SEQ:HASH]",
		examples: []string{"puente audit verify -home /var/lib/puente",
			"puente audit verify -log audit.log -keyring keyring-us-cbp.json -expect 1042:9f2c..."},
		run: runAuditVerify})
	register(&command{name: "audit repair", summary: "set aside a torn last record left by a crash (never anything else; refuses a log cut short)",
		usage: "[-home DIR]", examples: []string{"puente audit repair -home /var/lib/puente"}, run: runAuditRepair})
	register(&command{name: "audit prune", summary: "drop records older than the policy's retention behind a signed checkpoint",
		usage: "[-home DIR] [-policy FILE]", examples: []string{"puente audit prune -home /var/lib/puente"}, run: runAuditPrune})
}

func runAuditVerify(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	logFile := fs.String("log", "", "the audit log (default HOME/audit.log)")
	ringFile := fs.String("keyring", "", "public keyring JSON from 'puente keys keyring' (default: the node's own)")
	expect := fs.String("expect", "", "a head noted earlier, SEQ:HASH, that the log must still contain")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	var head *audit.Head
	if *expect != "" {
		h, err := audit.ParseHead(*expect)
		if err != nil {
			return usagef("-expect: %v", err)
		}
		head = &h
	}
	if *logFile == "" {
		*logFile = filepath.Join(*home, "audit.log")
	}
	ring, err := loadKeyring(ctx, *home, *ringFile)
	if err != nil {
		return err
	}
	rep, err := audit.VerifyFile(*logFile, ring, head)
	var bad *audit.BadRecordError
	if errors.As(err, &bad) {
		fmt.Fprintf(st.out, "BAD: %v\n%d records before it verified.\n", err, rep.Records)
		return &findingsError{n: 1}
	}
	if err != nil {
		return err
	}
	if rep.Checkpoint != nil {
		fmt.Fprintf(st.out, "checkpoint: %d older records pruned (up to record %d)\n", rep.Checkpoint.Count, rep.Checkpoint.Seq)
	}
	fmt.Fprintf(st.out, "%s: %d records verified", *logFile, rep.Records)
	if rep.Records > 0 {
		fmt.Fprintf(st.out, ", %s to %s", rep.FirstTime.Format(time.RFC3339), rep.LastTime.Format(time.RFC3339))
	}
	fmt.Fprintf(st.out, "\nhead (note it to detect later truncation): %s\n", rep.Last)
	return nil
}

// loadKeyring reads a keyring file, or the node's own keyring.
func loadKeyring(ctx context.Context, home, file string) (*keys.Keyring, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		return keys.ParseKeyring(b, file)
	}
	n, err := openNode(home)
	if err != nil {
		return nil, err
	}
	ring, _, err := (&keys.SigningKeys{Store: n.store, Node: n.name}).Keyring(ctx)
	return ring, err
}

// auditOptions returns writer options signed by the node's current key;
// the caller zeroes the key.
func auditOptions(ctx context.Context, n *node) (audit.Options, *keys.SigningKey, error) {
	k, err := (&keys.SigningKeys{Store: n.store, Node: n.name}).Current(ctx)
	if err != nil {
		return audit.Options{}, nil, err
	}
	return audit.Options{Node: n.name, Signer: k}, k, nil
}

func runAuditRepair(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	n, err := parseNode(fs, homeFlag(fs), args)
	if err != nil {
		return err
	}
	opts, k, err := auditOptions(ctx, n)
	if err != nil {
		return err
	}
	defer k.Zero()
	ring, err := loadKeyring(ctx, n.home, "")
	if err != nil {
		return err
	}
	rep, err := audit.Repair(filepath.Join(n.home, "audit.log"), ring, opts)
	if err != nil {
		return err
	}
	if rep.Bytes == 0 {
		fmt.Fprintln(st.out, "no torn record; nothing to repair")
		return nil
	}
	fmt.Fprintf(st.out, "set aside %d bytes of a torn record (from byte %d) in %s; a signed repair record was appended\n", rep.Bytes, rep.Offset, rep.SavedTo)
	if rep.Head == nil {
		fmt.Fprintln(st.out, "the log had no head file; compare it with a head noted earlier (audit verify -expect)")
	}
	return nil
}

func runAuditPrune(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	load := policyFlags(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	p, home, err := load()
	if err != nil {
		return err
	}
	if p.Audit.Retention.D <= 0 {
		return fmt.Errorf("%s: audit retention is zero; refusing to prune everything", p.File)
	}
	n, err := openNode(home)
	if err != nil {
		return err
	}
	opts, k, err := auditOptions(ctx, n)
	if err != nil {
		return err
	}
	defer k.Zero()
	ring, err := loadKeyring(ctx, home, "")
	if err != nil {
		return err
	}
	w, err := audit.Open(filepath.Join(home, "audit.log"), opts)
	if err != nil {
		return err
	}
	cutoff := time.Now().Add(-p.Audit.Retention.D)
	dropped, err := w.Prune(ctx, cutoff, ring)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "pruned %d records older than %s (retention %s)\n", dropped, cutoff.Format(time.DateOnly), p.Audit.Retention)
	return nil
}
