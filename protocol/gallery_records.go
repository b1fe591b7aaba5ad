package protocol

import (
	"context"
	"fmt"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/gallery"
)

// A change to what a partner may search (subjects enrolled into or removed from its gallery, or
// the gallery forgotten) is recorded in the audit log in counts, like a key action: the gallery
// first (which keeps the change, numbered, beside the templates in the same transaction:
// gallery.Store.LastChange), then the record. A crash between the two leaves a change without
// its record; when the node next opens its home it compares each gallery's last change with
// the last gallery record of that partner in the log and records what is missing, marked
// recovered (recoverGalleryRecords).

// galleryTrail is what the audit log holds of one partner's gallery: its last gallery record.
type galleryTrail struct {
	change, total, epoch uint64
	forgotten            bool // the last record says the gallery was forgotten (changes start again)
}

// scanGallery takes a gallery record of the log (logScan.add).
func (s *logScan) scanGallery(rec *audit.Record) {
	if rec.Gallery == nil {
		return
	}
	if rec.Action == audit.ActionGalleryForgotten {
		s.galleries[rec.Partner] = &galleryTrail{epoch: rec.Epoch, forgotten: true}
		return
	}
	s.galleries[rec.Partner] = &galleryTrail{change: rec.Gallery.Change, total: rec.Gallery.Total, epoch: rec.Epoch}
}

// galleryEvent is the record of a gallery's change c.
func galleryEvent(partner string, c gallery.Change) audit.Event {
	action := audit.ActionGalleryEnrolled
	if c.Action == gallery.ChangeRemove {
		action = audit.ActionGalleryRemoved
	}
	return audit.Event{Partner: partner, Epoch: c.Epoch, Action: action, Gallery: &audit.GalleryChange{
		Enrolled: uint64(c.Enrolled), Skipped: uint64(c.Skipped), Removed: uint64(c.Removed),
		Total: uint64(c.Total), Change: c.Seq}}
}

// forgottenEvent is the record of a partner's gallery forgotten, whose last record was held
// (nil if the log holds none).
func forgottenEvent(partner string, held *galleryTrail) audit.Event {
	ev := audit.Event{Partner: partner, Action: audit.ActionGalleryForgotten, Gallery: &audit.GalleryChange{}}
	if held != nil {
		ev.Epoch, ev.Gallery.Removed = held.epoch, held.total
	}
	return ev
}

// galleryGap returns the record, marked recovered, of what a partner's gallery shows and the
// log does not hold, if anything: held is the partner's last gallery record in the log (nil if
// none), pruned the time of the log's checkpoint (a record dated up to it may have been
// pruned), last the gallery's last change, and exists whether the gallery is there at all.
//
//   - A gallery one change past its last record: that change, as it was.
//   - A gallery more than one change past it: gallery-changed, with the total and the change
//     number (what each change did is not known).
//   - A gallery whose log holds no record of it, with a change made before the checkpoint: none
//     (a prune may have dropped its record).
//   - No gallery, and a last record that does not say it was forgotten: gallery-forgotten (a
//     crash after `gallery forget` destroyed its keys).
//
// A gallery behind its last record (an older copy of the file) is left to the caller.
func galleryGap(partner string, held *galleryTrail, pruned time.Time, last gallery.Change, exists bool) (audit.Event, bool) {
	if !exists {
		if held == nil || held.forgotten {
			return audit.Event{}, false
		}
		ev := forgottenEvent(partner, held)
		ev.Recovered = true
		return ev, true
	}
	var done uint64
	switch {
	case last.Seq == 0:
		return audit.Event{}, false
	case held == nil && !last.At.After(pruned):
		return audit.Event{}, false
	case held != nil:
		done = held.change
	}
	if last.Seq <= done {
		return audit.Event{}, false
	}
	ev := galleryEvent(partner, last)
	if last.Seq > done+1 {
		ev.Action, ev.Gallery = audit.ActionGalleryChanged, &audit.GalleryChange{Total: uint64(last.Total), Change: last.Seq}
	}
	ev.Recovered = true
	return ev, true
}

// recoverGalleryRecords records, marked recovered, each partner's gallery change the log
// scanned does not hold (galleryGap). The node runs it as it opens, once its partners' galleries
// are open and before any change to them.
func (n *Node) recoverGalleryRecords(ctx context.Context, scan *logScan) error {
	for _, p := range n.partners {
		held := scan.galleries[p.name]
		var last gallery.Change
		g := p.gallery()
		if g != nil {
			var err error
			if last, err = g.store.LastChange(); err != nil {
				return fmt.Errorf("protocol: partner %s: %w (check every record with puente gallery verify; restore the file from a backup)", p.name, err)
			}
			if held != nil && !held.forgotten && last.Seq < held.change {
				n.log.Warn("the gallery is older than its last audit record (restored from a backup?)",
					"partner", p.name, "gallery_change", last.Seq, "recorded_change", held.change)
			}
		}
		ev, ok := galleryGap(p.name, held, scan.pruned, last, g != nil)
		if !ok {
			continue
		}
		if _, err := n.audit.Append(ctx, audit.KindGallery, ev); err != nil {
			return err
		}
		n.log.Warn("gallery change recorded after a crash", "partner", p.name, "action", ev.Action, "change", ev.Gallery.Change)
	}
	return nil
}

// recordGalleryChange records the partner's gallery's last change, which the caller has just
// made holding p.galleryMu. If it cannot, the change has taken effect all the same: the
// partner's gallery takes no other change until the node, opened again, records this one
// (recoverGalleryRecords), so that at most one change is ever without its record.
func (n *Node) recordGalleryChange(ctx context.Context, p *partner, g *galleryLink) (gallery.Change, error) {
	last, err := g.store.LastChange()
	if err == nil {
		_, err = n.audit.Append(context.WithoutCancel(ctx), audit.KindGallery, galleryEvent(p.name, last))
	}
	if err != nil {
		p.galleryUnrecorded = true
		return last, fmt.Errorf("%w: partner %s: the gallery changed but its audit record could not be written (%v); "+
			"it is recorded when the node next opens, and the gallery takes no other change until then: restart the node",
			ErrInternal, p.name, err)
	}
	crashPoint("gallery-recorded")
	return last, nil
}

// lockGallery takes the partner's gallery for a change, refusing it while an earlier change is
// without its record; the caller calls the function returned.
func (p *partner) lockGallery() (func(), error) {
	p.galleryMu.Lock()
	if p.galleryUnrecorded {
		p.galleryMu.Unlock()
		return nil, fmt.Errorf("%w: partner %s: an earlier change to the gallery has no audit record yet; restart the node, which records it",
			ErrPrecondition, p.name)
	}
	return p.galleryMu.Unlock, nil
}
