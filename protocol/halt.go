package protocol

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/protocol/wire"
)

// A partner whose answer did not open (ErrDeviated) has proved that it deviated from the
// protocol, and it may have done so selectively: a garbled circuit or transfer built to fail
// only for some values of the querier's input tells the responder those values through whatever
// the querier does next (a retry, the next traveller's query). So the node halts: from the first
// answer that does not open, it sends that partner nothing more (no query, no opening of a query
// already out) until an operator, the node stopped, resumes it (ResumePartner). What the
// responder then sees depends on the querier's secret once: whether, and after which query, the
// calls stopped.
//
// The halt's evidence is the audit log: a key record partner-halted (the partner, the query's
// request ID and epoch) written as the halt is set, before the state file's entry, then the
// query's own record (outcome deviated). The state file keeps the halt for a quick start; Open
// restores a halt the log proves and the file lacks (a crash between the two, an older copy of
// the file), a rebuild keeps every halt the log proves and halts, unproved, the partner of a
// query left pending (haltUnresolved), and a crash before the query's record ends the query
// deviated at the restart (resolvePending). Every prune records each halt in
// force again first (keepHalts), so that it never drops the only evidence. A halt stays when
// its partner is taken out of the configuration. A resume is recorded (key action
// partner-resumed, naming the halt's query) before the halt is lifted, and lifts only that halt.

// ErrHalted: this node's queries to the partner are halted after an answer of that partner did
// not open. It comes with ErrPrecondition.
var ErrHalted = errors.New("protocol: queries to the partner are halted")

// halt is what the node keeps of the answer that halted a partner's queries.
type halt struct {
	// unresolved marks a halt a rebuild of the state file made by a query left pending, which
	// may or may not have halted the partner (haltUnresolved): it proves no deviation.
	unresolved bool
	request    []byte // the query's request ID
	at         time.Time
	epoch      uint64
}

// Halt describes a halt for operators: the query whose answer did not open and when (or, if
// Unresolved, the query a rebuild found left pending and when it halted the partner).
type Halt struct {
	Partner   string    `json:"partner"`
	RequestID string    `json:"request"`
	At        time.Time `json:"at"`
	Epoch     uint64    `json:"epoch"`
	// Unresolved is set for a halt a rebuild of the state file made because query RequestID was
	// left pending and may have halted the partner: nothing proves the partner deviated.
	Unresolved bool `json:"unresolved,omitempty"`
}

func (h *halt) public(partner string) *Halt {
	return &Halt{Partner: partner, RequestID: hex.EncodeToString(h.request), At: h.at, Epoch: h.epoch, Unresolved: h.unresolved}
}

// haltedError refuses a call to a halted partner.
func haltedError(p *partner, h *halt) error {
	if h.unresolved {
		return fmt.Errorf("%w: %w: a rebuild of the state file (%s) found query %s to %s left pending, and could not tell whether its "+
			"answer failed to open and halted %s (nothing proves it deviated); nothing more is sent to it until an operator who has "+
			"checked stops this node and runs `puente partner resume -partner %s` (audited)",
			ErrPrecondition, ErrHalted, h.at.UTC().Format(time.RFC3339), hex.EncodeToString(h.request), p.name, p.name, p.name)
	}
	return fmt.Errorf("%w: %w: %s's answer to query %s (%s) did not open, which proves it deviated from the protocol; "+
		"nothing more is sent to it: raise it with the partner agency, then stop this node and run `puente partner resume -partner %s` (audited)",
		ErrPrecondition, ErrHalted, p.name, hex.EncodeToString(h.request), h.at.UTC().Format(time.RFC3339), p.name)
}

// checkHalt refuses a call to p if its queries are halted.
func checkHalt(p *partner) error {
	if h := p.halt.Load(); h != nil {
		return haltedError(p, h)
	}
	return nil
}

// haltPartner halts this node's queries to p after the answer to c did not open: at once in
// memory (calls in flight stop before their opening), then in the audit log (key record
// partner-halted), then in the state file. The first halt stays if several answers fail
// together. The log is written first so that it proves every halt the state file holds: a
// crash between the two leaves a halt Open restores from the log.
func (n *Node) haltPartner(p *partner, c *queryCall) error {
	h := &halt{request: bytes.Clone(c.header.RequestId), at: n.now().UTC(), epoch: c.keys.epoch}
	if !p.halt.CompareAndSwap(nil, h) {
		return nil
	}
	n.met.halted(p.name, true)
	n.log.Error("queries to the partner are halted: its answer did not open", "partner", p.name, "request", n.requestIDOf(h.request))
	n.testHook(context.Background(), "halting", nil)
	rerr := n.recordHalt(context.Background(), p.name, h)
	serr := n.state.putHalt(p.name, h)
	switch {
	case rerr != nil && serr != nil:
		return fmt.Errorf("%w; nor stored in the state file (%v): it holds until this node stops", rerr, serr)
	case rerr != nil:
		return fmt.Errorf("%w; the state file keeps it", rerr)
	case serr != nil:
		return fmt.Errorf("protocol: the halt of queries to %s is not stored in the state file (the audit log's record restores it at the next start): %w", p.name, serr)
	}
	n.testHook(context.Background(), "halted", nil)
	return nil
}

// recordHalt appends the key record of h: partner-halted (the partner, the request ID and the
// epoch of the query whose answer did not open), or partner-halted-unresolved for a halt a
// rebuild made.
func (n *Node) recordHalt(ctx context.Context, partner string, h *halt) error {
	ev := audit.Event{Partner: partner, Action: audit.ActionPartnerHalted, RequestID: hex.EncodeToString(h.request), Epoch: h.epoch}
	if h.unresolved {
		ev.Action = audit.ActionPartnerHaltedUnresolved
	}
	if _, err := n.audit.Append(ctx, audit.KindKey, ev); err != nil {
		return fmt.Errorf("protocol: the halt of queries to %s is not recorded: %w", partner, err)
	}
	return nil
}

// loadHalts restores the partners' halts (haltsInForce), bringing the state file up to date.
func (n *Node) loadHalts(scan *logScan) error {
	stored, err := n.state.halts()
	if err != nil {
		return err
	}
	halts, lifted, added := haltsInForce(stored, scan)
	for _, name := range lifted {
		n.log.Warn("the audit log records a resume after the state file's halt; lifting it", "partner", name)
		if err := n.state.deleteHalt(name); err != nil {
			return err
		}
	}
	for _, name := range added {
		n.log.Warn("the state file lacks a halt the audit log proves; restoring it", "partner", name, "request", n.requestIDOf(halts[name].request))
		if err := n.state.putHalt(name, halts[name]); err != nil {
			return err
		}
	}
	for _, p := range n.partners {
		h, ok := halts[p.name]
		if ok {
			p.halt.Store(h)
		}
		n.met.halted(p.name, ok)
	}
	return nil
}

// haltsInForce merges the halts of a state file with what the audit log proves, for every
// partner, configured or not: a stored halt stays unless a resume recorded after it lifted it (a
// crash between the resume's record and the state file's update: lifted names it), and a halt
// the log shows (a deviated query, a partner-halted or partner-halted-unresolved record, with no
// resume after it) that the file lacks is added (added names it).
func haltsInForce(stored map[string]*halt, scan *logScan) (halts map[string]*halt, lifted, added []string) {
	halts = map[string]*halt{}
	for _, name := range slices.Sorted(maps.Keys(stored)) {
		h := stored[name]
		if scan.resumed[name].lifts(h) {
			lifted = append(lifted, name)
			continue
		}
		halts[name] = h
	}
	for _, name := range slices.Sorted(maps.Keys(scan.halted)) {
		if _, ok := halts[name]; !ok {
			halts[name] = scan.halted[name]
			added = append(added, name)
		}
	}
	return halts, lifted, added
}

// keepHalts keeps the halts in force shown in the audit log across a prune: before the prune,
// it records each again (recordHalt: partner-halted, or partner-halted-unresolved), whatever
// the time of the record that showed it so far
// (the clock may have stepped back since the halt). A crash between these records and the prune
// leaves records that say again what the log already proves.
func (n *Node) keepHalts(ctx context.Context, halts map[string]*halt) error {
	for _, name := range slices.Sorted(maps.Keys(halts)) {
		if err := n.recordHalt(ctx, name, halts[name]); err != nil {
			return fmt.Errorf("%w, so the audit log is not pruned", err)
		}
	}
	return nil
}

// runningHalts returns the halts in force on a running node: those of the state file, for every
// partner, configured or not (a partner taken out of the configuration stays halted), and those
// in memory (a halt the state file failed to store).
func (n *Node) runningHalts() (map[string]*halt, error) {
	halts, err := n.state.halts()
	if err != nil {
		return nil, err
	}
	for _, p := range n.partners {
		if h := p.halt.Load(); h != nil {
			if _, ok := halts[p.name]; !ok {
				halts[p.name] = h
			}
		}
	}
	return halts, nil
}

// ResumePartner lifts the halt of this node's queries to a partner (ErrHalted), after its
// operators have settled with the partner agency why its answer did not open. The node must not
// be running (it takes the home's lock). The resume is recorded in the audit log (key action
// partner-resumed, with the partner) before the halt is removed from the state file. It returns
// the halt it lifted, and fails if there was none.
func ResumePartner(ctx context.Context, cfg *home.Config, partnerName string, opts Options) (*Halt, error) {
	_, configured := cfg.Partner(partnerName)
	if !configured && !audit.ValidNodeName(partnerName) {
		return nil, fmt.Errorf("protocol: %s: no partner %q", cfg.File, partnerName)
	}
	n, scan, done, err := openStoppedLog(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	defer n.audit.Close()
	halts, closeState, err := n.stoppedHalts(scan)
	if err != nil {
		return nil, err
	}
	defer closeState()
	h, ok := halts[partnerName]
	switch {
	case !ok && !configured:
		return nil, fmt.Errorf("protocol: %s: no partner %q, and no halt of queries to it", cfg.File, partnerName)
	case !ok:
		return nil, fmt.Errorf("protocol: queries to %s are not halted", partnerName)
	}
	ev := audit.Event{Partner: partnerName, Action: audit.ActionPartnerResumed, RequestID: hex.EncodeToString(h.request)}
	if _, err := n.audit.Append(ctx, audit.KindKey, ev); err != nil {
		return nil, fmt.Errorf("protocol: resume of %s not recorded, not done: %w", partnerName, err)
	}
	if err := n.state.deleteHalt(partnerName); err != nil {
		return nil, err
	}
	return h.public(partnerName), nil
}

// stoppedHalts opens the state file of a node opened by openStoppedLog and returns the halts in
// force (haltsInForce), completing in the file a resume a crash interrupted. closeState closes
// the file. A missing or damaged state file stops the command: it may hold a halt the log does not
// prove (a crash before the query's record).
func (n *Node) stoppedHalts(scan *logScan) (_ map[string]*halt, closeState func(), err error) {
	if n.state, err = openState(n.cfg.Path(n.cfg.StateFile), n.rand, false); err != nil {
		if errors.Is(err, ErrStateMissing) || errors.Is(err, ErrStateCorrupt) {
			err = fmt.Errorf("%w; the halts of queries to partners are read from it: rebuild it with `puente state rebuild -home %s` (audited), then run this again", err, n.cfg.Dir)
		}
		return nil, nil, err
	}
	stored, err := n.state.halts()
	if err != nil {
		n.state.close()
		return nil, nil, err
	}
	halts, lifted, _ := haltsInForce(stored, scan)
	for _, name := range lifted { // an interrupted resume, completed as Open would
		if err := n.state.deleteHalt(name); err != nil {
			n.state.close()
			return nil, nil, err
		}
	}
	return halts, func() { n.state.close() }, nil
}

// The state file keeps one entry per halted partner in bucketHalted: the partner's name, then
// the request ID, the time (Unix nanoseconds) and the epoch of the query whose answer did not
// open, then, for an unresolved halt only (haltUnresolved), one byte 1 (a proved halt's entry
// is as builds before unresolved halts wrote it).
var bucketHalted = []byte("halted")

const haltValueLen = wire.RequestIDLen + 8 + 8

func (s *stateDB) putHalt(partner string, h *halt) error {
	return s.update(func(tx *bolt.Tx) error { return putHaltTx(tx, partner, h) })
}

func putHaltTx(tx *bolt.Tx, partner string, h *halt) error {
	if len(h.request) != wire.RequestIDLen {
		return fmt.Errorf("protocol: halt of %s: request ID of %d bytes", partner, len(h.request))
	}
	v := make([]byte, 0, haltValueLen+1)
	v = append(v, h.request...)
	v = binary.BigEndian.AppendUint64(v, uint64(h.at.UnixNano()))
	v = binary.BigEndian.AppendUint64(v, h.epoch)
	if h.unresolved {
		v = append(v, 1)
	}
	b, err := tx.CreateBucketIfNotExists(bucketHalted)
	if err != nil {
		return err
	}
	return b.Put([]byte(partner), v)
}

func (s *stateDB) deleteHalt(partner string) error {
	return s.update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketHalted); b != nil {
			return b.Delete([]byte(partner))
		}
		return nil
	})
}

// halts returns the halted partners of the state file.
func (s *stateDB) halts() (out map[string]*halt, err error) {
	err = s.view(func(tx *bolt.Tx) (err error) {
		out, err = haltsTx(tx, s.path)
		return err
	})
	return out, err
}

// haltsTx reads bucketHalted of the state file at path.
func haltsTx(tx *bolt.Tx, path string) (map[string]*halt, error) {
	out := map[string]*halt{}
	b := tx.Bucket(bucketHalted)
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, v []byte) error {
		h, err := parseHalt(k, v)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrStateCorrupt, path, err)
		}
		out[string(k)] = h
		return nil
	})
	return out, err
}

// parseHalt reads one entry of bucketHalted.
func parseHalt(k, v []byte) (*halt, error) {
	if !audit.ValidNodeName(string(k)) || len(v) != haltValueLen && len(v) != haltValueLen+1 {
		return nil, fmt.Errorf("halt entry of %d and %d bytes", len(k), len(v))
	}
	if len(v) == haltValueLen+1 && v[haltValueLen] != 1 {
		return nil, fmt.Errorf("halt entry of %q: flag byte %d, want 1 (unresolved)", k, v[haltValueLen])
	}
	return &halt{request: bytes.Clone(v[:wire.RequestIDLen]), at: time.Unix(0, int64(binary.BigEndian.Uint64(v[wire.RequestIDLen:]))).UTC(),
		epoch: binary.BigEndian.Uint64(v[wire.RequestIDLen+8:]), unresolved: len(v) > haltValueLen && v[haltValueLen] == 1}, nil
}

// haltOfRecord is the halt a query's deviated record, a partner-halted record or a
// partner-halted-unresolved record stands for.
func haltOfRecord(rec *audit.Record) (*halt, error) {
	id, err := hex.DecodeString(rec.RequestID)
	if err != nil || len(id) != wire.RequestIDLen {
		return nil, fmt.Errorf("protocol: record %d: request ID %q", rec.Seq, rec.RequestID)
	}
	at, err := time.Parse(time.RFC3339Nano, rec.Time)
	if err != nil {
		return nil, fmt.Errorf("protocol: record %d: time: %w", rec.Seq, err)
	}
	return &halt{request: id, at: at.UTC(), epoch: rec.Epoch, unresolved: rec.Action == audit.ActionPartnerHaltedUnresolved}, nil
}
