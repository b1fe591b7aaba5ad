package protocol

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
)

// A node's records when it opens: the audit log is checked against its head (audit.Open), the
// state file against its own structure and against what the audit log proves, and the queries a
// crash left pending are resolved.

// logScan is what opening the audit log learns from it.
type logScan struct {
	records int
	// pending are the query records without a final record yet, by role, partner and request.
	pending map[string]*audit.Record
	order   []string
	// answered holds, per partner, the queries this node answered as responder.
	answered map[string][]answered
	// halted holds, per partner, the first halt of this node's queries to it since the last
	// resume of that partner: from a partner-halted record (written as the node halts, and
	// again before each prune), a query's deviated record, or a partner-halted-unresolved record
	// a rebuild wrote (halt.go, haltUnresolved).
	halted map[string]*halt
	// resumed holds, per partner, the resumes recorded: the request IDs of the halts they
	// lifted, and the time of the last resume that names none (written before resumes named
	// them).
	resumed map[string]*resumes
	// keys is what the log holds of key actions (recoverKeyRecords).
	keys *home.KeyTrail
	// galleries holds, per partner, the last gallery record (recoverGalleryRecords).
	galleries map[string]*galleryTrail
	// pruned is the time of the log's checkpoint: a record dated up to it may have been pruned.
	pruned time.Time
}

// resumes are the resumes of one partner's halts the audit log records.
type resumes struct {
	ids     map[string]bool // request IDs (hex) of the halts lifted
	unnamed time.Time       // the last resume that names no request
}

// lifts reports whether a recorded resume lifted h: one that names h's query, or one that names
// none and was recorded at or after h.
func (r *resumes) lifts(h *halt) bool {
	return r != nil && (r.ids[hex.EncodeToString(h.request)] || !r.unnamed.IsZero() && !r.unnamed.Before(h.at))
}

// answered is one query this node answered: when its record was written, and its request ID.
type answered struct {
	at time.Time
	id string
}

func newLogScan() *logScan {
	return &logScan{pending: map[string]*audit.Record{}, answered: map[string][]answered{}, halted: map[string]*halt{},
		resumed: map[string]*resumes{}, keys: home.NewKeyTrail(), galleries: map[string]*galleryTrail{}}
}

// add takes one record of the log (audit.Options.Scan).
func (s *logScan) add(rec *audit.Record, hash string) error {
	s.records++
	if err := s.keys.Scan(rec, hash); err != nil {
		return err
	}
	switch rec.Kind {
	case audit.KindGallery:
		s.scanGallery(rec)
		return nil
	case audit.KindCheckpoint:
		t, err := rec.ParsedTime()
		if err != nil {
			return err
		}
		s.pruned = t
	}
	if rec.Kind == audit.KindKey && rec.Action == audit.ActionPartnerResumed {
		delete(s.halted, rec.Partner)
		r := s.resumed[rec.Partner]
		if r == nil {
			r = &resumes{ids: map[string]bool{}}
			s.resumed[rec.Partner] = r
		}
		if rec.RequestID != "" {
			r.ids[rec.RequestID] = true
		} else {
			t, err := rec.ParsedTime()
			if err != nil {
				return err
			}
			r.unnamed = t
		}
	}
	cur, halted := s.halted[rec.Partner]
	if halted && cur.unresolved && rec.Partner != "" && hex.EncodeToString(cur.request) == rec.RequestID &&
		(rec.Action == audit.ActionPartnerHalted || rec.Kind == audit.KindQuery && rec.Outcome == audit.OutcomeDeviated) {
		halted = false // proof, after all, of a halt first recorded unresolved (a rebuild, then Open on the old state file)
		delete(s.halted, rec.Partner)
	}
	if !halted && rec.Kind == audit.KindKey && (rec.Action == audit.ActionPartnerHalted || rec.Action == audit.ActionPartnerHaltedUnresolved) {
		if h, err := haltOfRecord(rec); err == nil {
			s.halted[rec.Partner] = h
		}
	}
	if rec.Kind != audit.KindQuery {
		return nil
	}
	if !halted && rec.Outcome == audit.OutcomeDeviated {
		if h, err := haltOfRecord(rec); err == nil {
			s.halted[rec.Partner] = h
		}
	}
	key := string(rec.Role) + "/" + rec.Partner + "/" + rec.RequestID
	if rec.Outcome == audit.OutcomePending {
		if _, dup := s.pending[key]; !dup {
			s.order = append(s.order, key)
		}
		r := *rec
		s.pending[key] = &r
		return nil
	}
	delete(s.pending, key)
	if rec.Role == audit.RoleResponder && rec.Outcome == audit.OutcomeAnswered {
		t, err := rec.ParsedTime()
		if err != nil {
			return err
		}
		s.answered[rec.Partner] = append(s.answered[rec.Partner], answered{at: t, id: rec.RequestID})
	}
	return nil
}

// answeredSince counts the partner's queries answered at or after from.
func (s *logScan) answeredSince(partner string, from time.Time) int {
	n := 0
	for _, a := range s.answered[partner] {
		if !a.at.Before(from) {
			n++
		}
	}
	return n
}

// openAudit opens the node's audit log, which audit.Open checks against its head, and refuses an
// empty one: a node's log starts when the node is made.
func (n *Node) openAudit(scan *logScan) (*audit.Writer, error) {
	path := n.cfg.Path(n.cfg.AuditLog)
	w, err := audit.Open(path, audit.Options{Node: n.name, Signer: n.signer.key(), Now: n.now, Verifier: n.ring.Load(), Scan: scan.add, Logger: n.log})
	var bad *audit.BadRecordError
	switch {
	case errors.Is(err, audit.ErrTornTail):
		return nil, fmt.Errorf("protocol: %w; a crash tore the last record: `puente audit repair -home %s` sets it aside, signed", err, n.cfg.Dir)
	case errors.As(err, &bad):
		return nil, fmt.Errorf("protocol: the audit log does not check out, so the node does not start: %w; "+
			"compare it with a head noted earlier (puente audit verify -expect) and with the partner's log (-witness); "+
			"restore it from a backup, or record the loss and go on with `puente audit repair -accept-loss -home %s`", err, n.cfg.Dir)
	case err != nil:
		return nil, err
	}
	if scan.records == 0 {
		w.Close()
		return nil, fmt.Errorf("protocol: the audit log %s is empty, but a node's log starts when the node is made (puente init): "+
			"restore it from a backup, or record the loss and go on with `puente audit repair -accept-loss -home %s`", path, n.cfg.Dir)
	}
	return w, nil
}

// recoverKeyRecords records, marked recovered, each key action the key store shows and the log
// scanned does not hold (keys.Reconcile): one a crash interrupted between its change to the
// store and its record. The node runs it as it opens, before any other record.
func (n *Node) recoverKeyRecords(ctx context.Context, scan *logScan) error {
	done, err := keys.Reconcile(ctx, n.store, n.name, scan.keys, func(ctx context.Context, ev keys.Event) error {
		_, err := n.audit.Append(ctx, audit.KindKey, home.KeyRecord(ev))
		return err
	})
	for _, ev := range done {
		n.log.Warn("key action recorded after a crash", "action", ev.Action, "key", ev.Key, "epoch", ev.Epoch)
	}
	return err
}

// openStateFile opens the node's state file, refusing a missing or damaged one with the command
// that rebuilds it.
func (n *Node) openStateFile() (*stateDB, error) {
	s, err := openState(n.cfg.Path(n.cfg.StateFile), n.rand, false)
	if errors.Is(err, ErrStateMissing) || errors.Is(err, ErrStateCorrupt) {
		return nil, fmt.Errorf("%w; a new one would forget the quota used and the nonces seen, so the node does not start: "+
			"rebuild it from what the audit log proves with `puente state rebuild -home %s` (audited)", err, n.cfg.Dir)
	}
	if err != nil {
		return nil, err
	}
	s.rebuiltWindow(n.cfg.ReplayWindow)
	return s, nil
}

// checkStateAgainstLog refuses a state file that counts fewer answered queries of a partner
// than the audit log proves: it is older than the log (restored from a backup, say), and would
// give the partner its quota again. An answer is recorded after its reservation was made, so
// only the answers of the window less a margin (for queries admitted just before it) are
// compared.
func (n *Node) checkStateAgainstLog(scan *logScan) error {
	now := n.now()
	for _, p := range n.partners {
		if p.quota == nil {
			continue
		}
		margin := min(p.quota.Window/2, time.Hour)
		proved := scan.answeredSince(p.name, now.Add(-p.quota.Window+margin))
		used, err := n.state.used(p.name, p.quota.Window, now)
		if err != nil {
			return err
		}
		if used < proved {
			return fmt.Errorf("%w: %s counts %d queries of %s in its quota window, but the audit log proves %d were answered: "+
				"it is older than the log (restored from a backup?); rebuild it with `puente state rebuild -home %s` (audited)",
				ErrStateCorrupt, n.state.path, used, p.name, proved, n.cfg.Dir)
		}
	}
	return nil
}

// pendingEnd is the final record of a query a crash left pending: failed, or, for a querier's
// query that h, a proved halt of its partner (nil: none), names, deviated.
func pendingEnd(rec *audit.Record, h *halt) audit.Event {
	ev := audit.Event{Partner: rec.Partner, Role: rec.Role, Purpose: rec.Purpose, RequestID: rec.RequestID,
		Outcome: audit.OutcomeFailed, Epoch: rec.Epoch}
	if h != nil && !h.unresolved && rec.Role == audit.RoleQuerier && hex.EncodeToString(h.request) == rec.RequestID {
		ev.Outcome = audit.OutcomeDeviated
	}
	return ev
}

// resolvePending ends every query a crash left pending with a failed record: the querier never
// learned its decision; the responder never sent an answer (it records the answer before it
// sends it) and gives back the query's quota reservation, if it made one. A querier's query
// whose answer halted the partner (the state file names it, stored before the query's record:
// halt.go) ends deviated instead, so that the audit log proves the halt; it runs after
// loadHalts.
func (n *Node) resolvePending(ctx context.Context, scan *logScan) error {
	halts, err := n.state.halts() // every partner's, configured or not
	if err != nil {
		return err
	}
	released := 0
	for _, key := range scan.order {
		rec, ok := scan.pending[key]
		if !ok {
			continue
		}
		if rec.Role == audit.RoleResponder {
			if id, err := hex.DecodeString(rec.RequestID); err == nil {
				ok, err := n.state.releaseRequest(rec.Partner, id)
				if err != nil {
					return err
				}
				if ok {
					released++
				}
			}
		}
		if _, err := n.audit.Append(ctx, audit.KindQuery, pendingEnd(rec, halts[rec.Partner])); err != nil {
			return fmt.Errorf("protocol: resolving the query %s a crash left pending: %w", rec.RequestID, err)
		}
	}
	if len(scan.pending) > 0 {
		n.log.Warn("queries a crash left pending recorded as failed", "queries", len(scan.pending), "quota_reservations_released", released)
	}
	return nil
}
