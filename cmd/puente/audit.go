package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
	"github.com/puente-id/puente/protocol"
)

func init() {
	register(&command{name: "audit verify", summary: "check the audit log's hash chain and signatures, and the heads a partner witnessed; name the first bad record",
		usage: "[-home DIR] [-log FILE] [-keyring FILE] [-expect SEQ:HASH [-accept-pruned]] [-witness PARTNER_LOG] [-policy FILE]",
		examples: []string{"puente audit verify -home /var/lib/puente",
			"puente audit verify -log audit.log -keyring keyring-us-cbp.json -expect 1042:9f2c...",
			"puente audit verify -home /var/lib/puente -witness co-migracion-audit.log   # the partner's copy of its log"},
		run: runAuditVerify})
	register(&command{name: "audit repair", summary: "set aside a torn last record left by a crash; with -accept-loss, record the loss of a cut or damaged log and go on",
		usage: "[-home DIR] [-accept-loss]", examples: []string{"puente audit repair -home /var/lib/puente",
			"puente audit repair -home /var/lib/puente -accept-loss   # the log was cut or damaged and cannot be restored"},
		run: runAuditRepair})
	register(&command{name: "audit prune", summary: "drop records older than the policy's retention behind a signed checkpoint",
		usage: "[-home DIR] [-policy FILE]", examples: []string{"puente audit prune -home /var/lib/puente"}, run: runAuditPrune})
}

func runAuditVerify(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	dir := homeFlag(fs)
	logFile := fs.String("log", "", "the audit log (default HOME/audit.log)")
	ringFile := fs.String("keyring", "", "public keyring JSON from 'puente keys keyring' (default: the node's own)")
	expect := fs.String("expect", "", "a head noted earlier, SEQ:HASH, that the log must still contain (checked beside its head file)")
	acceptPruned := fs.Bool("accept-pruned", false, "the log was pruned past the -expect head, as the policy's retention allows: report that head as not checked instead of as a finding")
	witness := fs.String("witness", "", "the partner's audit log: every head of this node's log it witnessed must be in this log")
	policyFile := fs.String("policy", "", "the key policy of the log's node, for its audit retention (default: the home's policy, if the log is the home node's)")
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
	own := *logFile == "" // the node's own log, which has its head file
	if own {
		_, _, log, err := home.HomePaths(*dir)
		if err != nil {
			return err
		}
		*logFile = log
	}
	ring, err := loadKeyring(ctx, *dir, *ringFile)
	if err != nil {
		return err
	}
	// Whose log it is matters to the witnesses and the retention; a copy whose first record names
	// no node (an empty log) can still be checked without them.
	node, err := logNode(*dir, *logFile, own)
	if err != nil && (own || *witness != "" || *policyFile != "") {
		return err
	}
	var retention policy.Period
	var retFrom string
	if err == nil {
		if retention, retFrom, err = auditRetention(*dir, *policyFile, node); err != nil {
			return err
		}
	}
	var witnesses []audit.Expectation
	if *witness != "" {
		if witnesses, err = readWitnesses(*witness, node, ring); err != nil {
			var bad *audit.BadRecordError
			if errors.As(err, &bad) {
				fmt.Fprintf(st.out, "BAD: a witness in the partner's log does not check out (forged?): %v\n", err)
				return &findingsError{n: 1}
			}
			return err
		}
	}
	rep, err := audit.CheckFile(*logFile, ring, audit.FileOptions{Expect: head, AcceptPruned: *acceptPruned, Witnesses: witnesses, RequireHead: own,
		Retention: retention.D, Now: time.Now()})
	var bad *audit.BadRecordError
	if errors.Is(err, audit.ErrPrunedHead) {
		fmt.Fprintf(st.out, "NOT CHECKED: %v\nThe rest of the log verified (%d records). If the prune is known (the policy's retention), run again with -accept-pruned; "+
			"otherwise the log may have been rewritten behind its checkpoint: compare it with the partner's witnessed heads (-witness).\n", err, rep.Records)
		return &findingsError{n: 1}
	}
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
	printRecovered(st, rep.Recovered)
	if head != nil && rep.NotedPruned {
		fmt.Fprintf(st.out, "the head noted earlier, record %d, was pruned behind the checkpoint: not checked (-accept-pruned)\n", head.Seq)
	} else if head != nil {
		fmt.Fprintf(st.out, "the head noted earlier, record %d, is in this log\n", head.Seq)
	}
	if *witness != "" {
		fmt.Fprintf(st.out, "%d heads witnessed by the partner's log %s are in this log", rep.Witnessed, *witness)
		if rep.Unchecked > 0 {
			if retention.D > 0 {
				fmt.Fprintf(st.out, " (%d more name records pruned since, older than the retention of %s (%s), not checked)", rep.Unchecked, retFrom, retention)
			} else {
				fmt.Fprintf(st.out, " (%d more name records pruned since, not checked: with no key policy for %s's retention (-policy), only a witness dated after the checkpoint is caught)", rep.Unchecked, node)
			}
		}
		fmt.Fprintln(st.out)
		if rep.Witnessed == 0 {
			// Not a finding: a partner none of whose queries was answered in the log's span holds
			// no witness. But the check proved nothing, and the officer should know.
			fmt.Fprintf(st.out, "note: the partner's log %s holds %d witnessed heads of %s's log, none of them compared with this log: -witness checked nothing\n",
				*witness, len(witnesses), node)
		}
	}
	return nil
}

// printRecovered lists the key and gallery records written after the fact: actions the node's
// key store or a partner's gallery showed, when the node next opened its home, without their
// record in the log.
func printRecovered(st *stdio, recs []audit.Record) {
	if len(recs) == 0 {
		return
	}
	fmt.Fprintf(st.out, "records marked recovered: %d (a crash came between each action and its record; "+
		"the node wrote the record when it next opened its home, at the time shown):\n", len(recs))
	for _, r := range recs {
		what := r.Key
		if r.Kind == audit.KindGallery {
			what = "partner " + r.Partner
		}
		fmt.Fprintf(st.out, "  record %d, %s: %s %s\n", r.Seq, r.Time, r.Action, what)
	}
}

// auditRetention returns the audit retention of node's key policy (zero if none is at hand) and
// the policy file it comes from: file if given (it must be node's policy), or else the home's
// policy if the home is node's.
func auditRetention(dir, file, node string) (policy.Period, string, error) {
	if file == "" {
		if name, err := home.NodeName(dir); err != nil || name != node {
			return policy.Period{}, "", nil
		}
		_, pf, _, err := home.HomePaths(dir)
		if err != nil {
			return policy.Period{}, "", nil
		}
		if _, err := os.Stat(pf); err != nil {
			return policy.Period{}, "", nil
		}
		file = pf
	}
	p, err := policy.Load(file)
	if err != nil {
		return policy.Period{}, "", err
	}
	if p.Node != node {
		return policy.Period{}, "", fmt.Errorf("-policy: %s is node %s's key policy, but the log is node %s's", file, p.Node, node)
	}
	return p.Audit.Retention, file, nil
}

// readWitnesses reads the heads of node's log that the partner's log witnessed, each checked
// against node's keyring (the node signed them).
func readWitnesses(partnerLog, node string, ring *keys.Keyring) ([]audit.Expectation, error) {
	f, err := os.Open(partnerLog)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return audit.Witnessed(f, partnerLog, node, ring)
}

// logNode names the node whose log logFile is: the node of its first record (the verifier
// checks that every record names the same node). The home's own log (own) must be the home
// node's; while it is empty, it is.
func logNode(dir, logFile string, own bool) (string, error) {
	first, ferr := firstNode(logFile)
	if !own {
		return first, ferr
	}
	name, err := home.NodeName(dir)
	if err != nil {
		return "", err
	}
	if ferr == nil && first != name {
		return "", fmt.Errorf("%s is node %s's audit log, but %s is node %s's home", logFile, first, dir, name)
	}
	return name, nil
}

// firstNode returns the node of the first record of logFile.
func firstNode(logFile string) (string, error) {
	f, err := os.Open(logFile)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var first struct {
		Node string `json:"node"`
	}
	if err := json.NewDecoder(f).Decode(&first); err != nil || !audit.ValidNodeName(first.Node) {
		return "", fmt.Errorf("%s: cannot tell whose log it is (no node in its first record)", logFile)
	}
	return first.Node, nil
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
	ring, _, err := (&keys.SigningKeys{Store: n.Store, Node: n.Name}).Keyring(ctx)
	return ring, err
}

// auditOptions returns writer options signed by the node's current key;
// the caller zeroes the key.
func auditOptions(ctx context.Context, n *node) (audit.Options, *keys.SigningKey, error) {
	k, err := (&keys.SigningKeys{Store: n.Store, Node: n.Name}).Current(ctx)
	if err != nil {
		return audit.Options{}, nil, err
	}
	return audit.Options{Node: n.Name, Signer: k}, k, nil
}

func runAuditRepair(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	home := homeFlag(fs)
	acceptLoss := fs.Bool("accept-loss", false, "the log was cut, edited or separated from its head file and cannot be restored: set aside what does not check out and record the loss (signed), so the node can start")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	n, err := openNodeForWrite(*home)
	if err != nil {
		return err
	}
	defer n.Close()
	opts, k, err := auditOptions(ctx, n)
	if err != nil {
		return err
	}
	defer k.Zero()
	ring, err := loadKeyring(ctx, n.Dir, "")
	if err != nil {
		return err
	}
	path := n.AuditLog()
	if *acceptLoss {
		return acceptAuditLoss(st, path, ring, opts)
	}
	rep, err := audit.Repair(path, ring, opts)
	if err != nil {
		if !errors.Is(err, audit.ErrTornTail) {
			return fmt.Errorf("%w; if those records are lost for good (no backup, the partner's witnessed heads noted), `puente audit repair -accept-loss` records the loss and lets the node start", err)
		}
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

// acceptAuditLoss records the loss of what does not check out in the log at path.
func acceptAuditLoss(st *stdio, path string, ring *keys.Keyring, opts audit.Options) error {
	rep, err := audit.AcceptLoss(path, ring, opts)
	if err != nil {
		return err
	}
	if !rep.Recorded {
		fmt.Fprintln(st.out, "the log checks out against its head; no loss to record")
		return nil
	}
	before := "none"
	if rep.Head != nil {
		before = rep.Head.String()
	}
	fmt.Fprintf(st.out, "loss recorded in a signed loss-accepted record; the head before was %s\n", before)
	if rep.Bytes > 0 {
		fmt.Fprintf(st.out, "%d bytes from byte %d that do not check out set aside in %s\n", rep.Bytes, rep.Offset, rep.SavedTo)
	}
	fmt.Fprintln(st.out, "compare the log with the partner's witnessed heads (audit verify -witness): they still show what was lost")
	return nil
}

func runAuditPrune(ctx context.Context, st *stdio, fs *flag.FlagSet, args []string) error {
	load := policyFlags(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	p, dir, err := load()
	if err != nil {
		return err
	}
	var rep *protocol.PruneReport
	if c := runningNode(dir); c != nil {
		defer c.Close()
		rep, err = c.PruneAudit(ctx)
	} else if p.Audit.Retention.D <= 0 {
		return fmt.Errorf("%s: audit retention is zero; refusing to prune everything", p.File)
	} else if _, serr := os.Stat(home.ConfigFile(dir)); errors.Is(serr, iofs.ErrNotExist) {
		// A home of keys only (puente keys init) makes no queries, so it has no halts.
		// pruneKeysHome refuses a log that records queries.
		rep, err = pruneKeysHome(ctx, dir, p.Audit.Retention)
	} else {
		// A stopped node: the halts in force are read from its state file and audit log, so
		// that the prune keeps their proof (protocol.PruneStoppedAudit).
		var cfg *home.Config
		if cfg, err = loadConfig(dir); err == nil {
			rep, err = protocol.PruneStoppedAudit(ctx, cfg, p.Audit.Retention, protocol.Options{Logger: cliLogger(st)})
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(st.out, "pruned %d records older than %s (retention %s)\n", rep.Dropped, rep.Cutoff.Format(time.DateOnly), rep.Retention)
	return nil
}

// pruneKeysHome prunes the audit log of a home that holds keys only.
func pruneKeysHome(ctx context.Context, dir string, ret policy.Period) (*protocol.PruneReport, error) {
	n, err := openNodeForWrite(dir)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	opts, k, err := auditOptions(ctx, n)
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	ring, err := loadKeyring(ctx, dir, "")
	if err != nil {
		return nil, err
	}
	opts.Verifier = ring
	// A node's home whose puente.hcl is missing would be pruned here without its halts: its
	// log records queries, which a home of keys only never makes.
	opts.Scan = func(rec *audit.Record, _ string) error {
		if rec.Kind == audit.KindQuery || rec.Action == audit.ActionPartnerHalted || rec.Action == audit.ActionPartnerHaltedUnresolved ||
			rec.Action == audit.ActionPartnerResumed {
			return fmt.Errorf("%s records queries or their halts (record %d), so it is a node's, but %s is missing: restore the node's configuration, then prune",
				n.AuditLog(), rec.Seq, home.ConfigFile(dir))
		}
		return nil
	}
	w, err := audit.Open(n.AuditLog(), opts)
	if err != nil {
		return nil, err
	}
	cutoff := time.Now().Add(-ret.D)
	dropped, err := w.Prune(ctx, cutoff, ring)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return &protocol.PruneReport{Dropped: dropped, Cutoff: cutoff, Retention: ret.String()}, err
}
