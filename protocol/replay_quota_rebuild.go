package protocol

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/internal/atomicfile"
	"github.com/puente-id/puente/protocol/wire"
)

// RebuildReport says what RebuildState made.
type RebuildReport struct {
	File string
	// Quota lists, per partner with a quota, the queries the audit log proves were answered
	// within the quota's window: what the new state counts against it.
	Quota []PartnerQuota
	// Since is the rebuild time: requests signed before it are refused as possible replays,
	// since the nonces seen before it are lost (for one replay window at most).
	Since time.Time
	// Replaced names the file the old state was moved to ("" if there was none).
	Replaced string
	// Halted lists the partners whose queries the audit log shows halted, with no resume after
	// it, configured or not: by an answer that did not open, or, marked Unresolved, by a query
	// the log left pending (haltUnresolved). The new state keeps them halted (halt.go).
	Halted []Halt
}

// PartnerQuota is one partner's quota count.
type PartnerQuota struct {
	Partner string
	Used    int
	Quota   string
}

// RebuildState makes the node's state file anew from its audit log, the one explicit way on for
// a node whose state file is missing or damaged (Open refuses it). The node must not be running
// (it takes the home's lock). It checks the audit log against its head first, like Open, and
// refuses a log that does not check out; then, for each partner, it counts one quota entry for
// every query the log proves this node answered within the quota's window (never fewer: the
// count starts from the evidence, not from zero), charges the same answers to the verification
// limit of every reference (verifyFloorBucket: the log does not name references), keeps the
// request IDs of those answers for as long as admission would have (keepRequestIDs), and replaces
// the replay record with a floor: requests signed before the rebuild are refused, since the
// nonces seen before it are lost. The
// old file, if any, is kept beside the new one, unread. Every halt the log shows stays, and a
// query of this node the log leaves pending halts its partner, unproved (haltUnresolved). The
// rebuild is recorded in the audit log (action "state-rebuilt", with the number of quota
// entries).
func RebuildState(ctx context.Context, cfg *home.Config, opts Options) (*RebuildReport, error) {
	n, scan, done, err := openStoppedLog(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := n.haltUnresolved(ctx, scan); err != nil {
		n.audit.Close()
		return nil, err
	}
	rep, err := n.rebuildState(scan)
	if err != nil {
		n.audit.Close()
		return nil, err
	}
	entries := 0
	for _, q := range rep.Quota {
		entries += q.Used
	}
	_, err = n.audit.AppendLog(ctx, "state-rebuilt", uint64(entries))
	return rep, errors.Join(err, n.audit.Close())
}

// haltUnresolved halts the partner of the first querier's query the audit log leaves pending (a
// crash, or a failed append, before its final record), unless the log already shows a halt of
// that partner. The old state file may have held a halt by that query that the log does not
// prove (its partner-halted record was never written), and it is not read: a damaged file can
// send the storage engine into an endless loop. It records the halt as unresolved
// (partner-halted-unresolved: no deviation is proved) and then ends every pending querier's
// query failed, or deviated when a halt the log proves names it, as Open would. An operator who
// has checked resumes the partner.
func (n *Node) haltUnresolved(ctx context.Context, scan *logScan) error {
	for _, key := range scan.order {
		rec, ok := scan.pending[key]
		if !ok || rec.Role != audit.RoleQuerier {
			continue
		}
		h, err := haltOfRecord(rec)
		if err != nil {
			return err
		}
		end := pendingEnd(rec, scan.halted[rec.Partner]) // as Open would end it (resolvePending)
		if _, halted := scan.halted[rec.Partner]; !halted && !scan.resumed[rec.Partner].lifts(h) {
			h.at, h.unresolved = n.now().UTC(), true
			if err := n.recordHalt(ctx, rec.Partner, h); err != nil {
				return err
			}
			scan.halted[rec.Partner] = h
		}
		if _, err := n.audit.Append(ctx, audit.KindQuery, end); err != nil {
			return fmt.Errorf("protocol: resolving the query %s left pending: %w", rec.RequestID, err)
		}
		delete(scan.pending, key)
	}
	return nil
}

// rebuildState writes the new state file from what the scan of the audit log found.
func (n *Node) rebuildState(scan *logScan) (*RebuildReport, error) {
	path := n.cfg.Path(n.cfg.StateFile)
	now := n.now()
	rep := &RebuildReport{File: path, Since: now}
	halts := scan.halted // every partner's, configured or not
	tmp := path + ".rebuild"
	os.Remove(tmp) // left by a rebuild that crashed before its rename
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("protocol: state %s: %w", tmp, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keyFormat, []byte(stateFormat)); err != nil {
			return err
		}
		if err := meta.Put(keyRebuilt, binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))); err != nil {
			return err
		}
		nb, err := tx.CreateBucket(bucketNonces)
		if err != nil {
			return err
		}
		if err := n.keepRequestIDs(nb, scan, now); err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(halts)) {
			if err := putHaltTx(tx, name, halts[name]); err != nil {
				return err
			}
			rep.Halted = append(rep.Halted, *halts[name].public(name))
		}
		for _, pc := range n.cfg.Partners {
			q, ok := n.policy.QuotaFor(pc.Name)
			if !ok {
				continue
			}
			pq := PartnerQuota{Partner: pc.Name, Quota: q.String()}
			b, err := tx.CreateBucket([]byte(quotaPrefix + pc.Name))
			if err != nil {
				return err
			}
			for _, a := range scan.answered[pc.Name] {
				if a.at.Before(now.Add(-q.Window)) {
					continue
				}
				id, _ := hex.DecodeString(a.id)
				key := binary.BigEndian.AppendUint64(nil, uint64(a.at.UnixNano()))
				if err := b.Put(append(key, id...), nil); err != nil {
					return err
				}
				pq.Used++
			}
			rep.Quota = append(rep.Quota, pq)
		}
		for _, pc := range n.cfg.Partners {
			v, ok := n.policy.VerifyLimitFor(pc.Name)
			if !ok {
				continue
			}
			b, err := tx.CreateBucket(verifyFloorBucket(pc.Name))
			if err != nil {
				return err
			}
			for _, a := range scan.answered[pc.Name] {
				if a.at.Before(now.Add(-v.Window)) {
					continue
				}
				id, _ := hex.DecodeString(a.id)
				key := binary.BigEndian.AppendUint64(nil, uint64(a.at.UnixNano()))
				if err := b.Put(append(key, id...), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("protocol: state %s: %w", tmp, err)
	}
	if _, err := os.Stat(path); err == nil {
		rep.Replaced = fmt.Sprintf("%s.replaced-%d", path, now.Unix())
		if err := os.Rename(path, rep.Replaced); err != nil {
			return nil, fmt.Errorf("protocol: keeping the old state file: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("protocol: state %s: %w", path, err)
	}
	return rep, atomicfile.SyncDir(filepath.Dir(path))
}

// keepRequestIDs puts back in the new nonces bucket the request IDs of the queries the audit log
// proves this node answered, each kept as admitQuery keeps it: until the longest of the replay
// window and the partner's limits' windows after the answer. The floor refuses only requests
// signed before the rebuild; without them, a partner could reuse the ID of an answered query in
// a request signed after it, and two answered queries would share it.
func (n *Node) keepRequestIDs(nb *bolt.Bucket, scan *logScan, now time.Time) error {
	for _, pc := range n.cfg.Partners {
		keep := n.cfg.ReplayWindow
		if q, ok := n.policy.QuotaFor(pc.Name); ok {
			keep = max(keep, q.Window)
		}
		if v, ok := n.policy.VerifyLimitFor(pc.Name); ok {
			keep = max(keep, v.Window)
		}
		for _, a := range scan.answered[pc.Name] {
			until := a.at.Add(keep)
			id, err := hex.DecodeString(a.id)
			if err != nil || len(id) != wire.RequestIDLen || !until.After(now) {
				continue
			}
			if err := nb.Put(requestKey(pc.Name, id), binary.BigEndian.AppendUint64(nil, uint64(until.UnixNano()))); err != nil {
				return err
			}
		}
	}
	return nil
}
