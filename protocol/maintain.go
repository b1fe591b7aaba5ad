package protocol

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/gallery"
	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/keys"
	"github.com/puente-id/puente/keys/policy"
)

// GalleryReport says what a check of a gallery found (gallery.VerifyReport).
type GalleryReport struct {
	Partner  string   `json:"partner"`
	File     string   `json:"file"`
	Epoch    uint64   `json:"epoch"`
	Subjects int      `json:"subjects"`
	Archived int      `json:"archived"`
	Bad      []string `json:"bad,omitempty"` // each bad record, by a prefix of its keyed MAC, and why
}

// VerifyGallery opens, decodes and checks every sealed record of the partner's gallery: the
// protected templates of the current epoch and the archived raw features.
func (n *Node) VerifyGallery(ctx context.Context, partnerName string) (*GalleryReport, error) {
	p, done, err := n.begin(partnerName)
	if err != nil {
		return nil, err
	}
	defer done()
	g := p.gallery()
	if g == nil {
		return nil, fmt.Errorf("protocol: partner %s: nothing enrolled yet, no gallery to check", p.name)
	}
	vr, err := g.store.Verify()
	if err != nil {
		return nil, err
	}
	return &GalleryReport{Partner: p.name, File: g.store.Path(), Epoch: g.store.Params().Epoch,
		Subjects: vr.Subjects, Archived: vr.Archived, Bad: vr.Bad}, nil
}

// PruneReport says what PruneAudit did.
type PruneReport struct {
	Dropped   int       `json:"dropped"`
	Cutoff    time.Time `json:"cutoff"`
	Retention string    `json:"retention"`
}

// PruneAudit drops the audit records older than the key policy's retention, behind a signed
// checkpoint (audit.Writer.Prune), after verifying the whole log. A halt in force keeps its proof
// in the log (keepHalts).
func (n *Node) PruneAudit(ctx context.Context) (*PruneReport, error) {
	if err := n.enter(); err != nil {
		return nil, err
	}
	defer n.inflight.Done()
	halts, err := n.runningHalts()
	if err != nil {
		return nil, err
	}
	return n.pruneAudit(ctx, n.policy.Audit.Retention, n.policy.File, halts)
}

// PruneStoppedAudit is PruneAudit for a node that is not running, with the retention given (the
// CLI's key policy). The halts in force are those of the state file and those the audit log
// proves; a state file that cannot be read stops the prune, which could otherwise drop a halt's
// only proof.
func PruneStoppedAudit(ctx context.Context, cfg *home.Config, retention policy.Period, opts Options) (*PruneReport, error) {
	n, scan, done, err := openStoppedLog(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	halts, closeState, err := n.stoppedHalts(scan)
	if err != nil {
		return nil, errors.Join(err, n.audit.Close())
	}
	defer closeState()
	rep, err := n.pruneAudit(ctx, retention, n.policy.File, halts)
	return rep, errors.Join(err, n.audit.Close())
}

func (n *Node) pruneAudit(ctx context.Context, ret policy.Period, policyFile string, halts map[string]*halt) (*PruneReport, error) {
	if ret.D <= 0 {
		return nil, fmt.Errorf("protocol: %s: audit retention is zero; refusing to prune everything", policyFile)
	}
	ctx = context.WithoutCancel(ctx)
	cutoff := n.now().Add(-ret.D)
	if err := n.keepHalts(ctx, halts); err != nil {
		return nil, err
	}
	dropped, err := n.audit.Prune(ctx, cutoff, n.ring.Load())
	if err != nil {
		return nil, err
	}
	return &PruneReport{Dropped: dropped, Cutoff: cutoff, Retention: ret.String()}, nil
}

// VerifyGalleryFile is VerifyGallery for a node that is not running: it opens only the key store
// and the partner's gallery file (so a gallery whose structure keeps the node from starting can
// still be examined), under the home's lock.
func VerifyGalleryFile(ctx context.Context, cfg *home.Config, partnerName string) (*GalleryReport, error) {
	n, p, done, err := openStopped(ctx, cfg, partnerName)
	if err != nil {
		return nil, err
	}
	defer done()
	path := n.galleryPath(p)
	dataKey, labelKey, err := n.galleryKey(ctx, p, "data-key", 2*gallery.KeySize, false)
	if err != nil {
		return nil, err
	}
	clear(labelKey)
	defer dataKey.Zero()
	archKey, _, err := n.galleryKey(ctx, p, "archive-key", gallery.KeySize, false)
	if err != nil {
		return nil, err
	}
	defer archKey.Zero()
	st, err := gallery.Open(path, dataKey, &gallery.Options{ArchiveKey: archKey})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	vr, err := st.Verify()
	if err != nil {
		return nil, err
	}
	return &GalleryReport{Partner: p.name, File: path, Epoch: st.Params().Epoch, Subjects: vr.Subjects, Archived: vr.Archived, Bad: vr.Bad}, nil
}

// ForgetGallery is the explicit way on for a node whose gallery file of a partner is lost for
// good (Open refuses a missing gallery whose keys exist): with the node stopped, it destroys the
// gallery's data and archive keys and records it in the audit log ("gallery-lost", one key
// record per key), then records that the partner may no longer search the subjects the gallery's
// last record counted (a gallery record "gallery-forgotten"). The node then starts with no
// gallery for the partner, and the next enrolment makes a new one. It refuses while the gallery
// file exists.
func ForgetGallery(ctx context.Context, cfg *home.Config, partnerName string) ([]string, error) {
	n, p, done, err := openStopped(ctx, cfg, partnerName)
	if err != nil {
		return nil, err
	}
	defer done()
	pc := p.cfg
	if _, err := os.Stat(n.galleryPath(p)); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("protocol: %s is there (or cannot be checked: %v); only a lost gallery is forgotten", n.galleryPath(p), err)
	}
	scan := newLogScan()
	if n.audit, err = n.openAudit(scan); err != nil {
		return nil, err
	}
	var destroyed []string
	for _, which := range []string{"data-key", "archive-key"} {
		name := galleryKeyName(pc.Agreement, which)
		if err := n.store.Destroy(ctx, name); errors.Is(err, keys.ErrNotFound) {
			continue
		} else if err != nil {
			return destroyed, errors.Join(err, n.audit.Close())
		}
		destroyed = append(destroyed, name)
		if _, err := n.audit.Append(ctx, audit.KindKey, audit.Event{Action: "gallery-lost", Partner: pc.Name, Key: name}); err != nil {
			return destroyed, errors.Join(err, n.audit.Close())
		}
	}
	if held := scan.galleries[pc.Name]; len(destroyed) > 0 || held != nil && !held.forgotten {
		crashPoint("gallery-forgotten-unrecorded")
		if _, err := n.audit.Append(ctx, audit.KindGallery, forgottenEvent(pc.Name, held)); err != nil {
			return destroyed, errors.Join(err, n.audit.Close())
		}
	}
	return destroyed, n.audit.Close()
}

// openStoppedLog is openStopped (no partner) with the node's audit log opened too, checked like
// Open checks it, the key actions a crash left unrecorded recorded, and opts' clock; done
// releases the keys and the lock, and the caller closes the log.
func openStoppedLog(ctx context.Context, cfg *home.Config, opts Options) (*Node, *logScan, func(), error) {
	n, _, done, err := openStopped(ctx, cfg, "")
	if err != nil {
		return nil, nil, nil, err
	}
	if opts.Now != nil {
		n.now = opts.Now
	}
	if opts.Logger != nil {
		n.log = opts.Logger
	}
	scan := newLogScan()
	if n.audit, err = n.openAudit(scan); err != nil {
		done()
		return nil, nil, nil, err
	}
	if err := n.recoverKeyRecords(ctx, scan); err != nil {
		n.audit.Close()
		done()
		return nil, nil, nil, err
	}
	return n, scan, done, nil
}

// openStopped opens the keys of a node that is not running, for a maintenance command, under the
// home's lock, and the partner named (none if ""); done releases both.
func openStopped(ctx context.Context, cfg *home.Config, partnerName string) (*Node, *partner, func(), error) {
	var p *partner
	if partnerName != "" {
		pc, ok := cfg.Partner(partnerName)
		if !ok {
			return nil, nil, nil, fmt.Errorf("protocol: %s: no partner %q", cfg.File, partnerName)
		}
		p = &partner{name: pc.Name, cfg: pc}
	}
	lock, err := home.LockHome(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	n := &Node{cfg: cfg, name: cfg.Node, now: time.Now, log: slog.New(slog.DiscardHandler)}
	if err := n.openKeys(ctx); err != nil {
		lock.Release()
		return nil, nil, nil, err
	}
	return n, p, func() { n.signer.Zero(); lock.Release() }, nil
}
