package protocol

import (
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/gallery"
)

// TestGalleryGap: what a partner's gallery shows past its last record in the log is recorded,
// marked recovered, exactly once: the change itself when one is missing, gallery-changed with
// the total when more are, gallery-forgotten when the gallery is gone; nothing when the log
// holds the last change, may have pruned it, or the gallery is behind it.
func TestGalleryGap(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	enrol := gallery.Change{Seq: 4, Action: gallery.ChangeEnrol, Enrolled: 3, Skipped: 2, Total: 9, Epoch: 2, At: at}
	remove := gallery.Change{Seq: 4, Action: gallery.ChangeRemove, Removed: 3, Total: 6, Epoch: 2, At: at}
	held := func(change, total uint64) *galleryTrail { return &galleryTrail{change: change, total: total, epoch: 2} }
	none := audit.Event{}
	for _, c := range []struct {
		name    string
		held    *galleryTrail
		pruned  time.Time
		last    gallery.Change
		exists  bool
		want    audit.Event
		wantAny bool
	}{
		{"recorded", held(4, 9), time.Time{}, enrol, true, none, false},
		{"enrolment unrecorded", held(3, 6), time.Time{}, enrol, true, audit.Event{Partner: "co", Epoch: 2, Action: audit.ActionGalleryEnrolled,
			Recovered: true, Gallery: &audit.GalleryChange{Enrolled: 3, Skipped: 2, Total: 9, Change: 4}}, true},
		{"removal unrecorded", held(3, 9), time.Time{}, remove, true, audit.Event{Partner: "co", Epoch: 2, Action: audit.ActionGalleryRemoved,
			Recovered: true, Gallery: &audit.GalleryChange{Removed: 3, Total: 6, Change: 4}}, true},
		{"two unrecorded", held(2, 9), time.Time{}, remove, true, audit.Event{Partner: "co", Epoch: 2, Action: audit.ActionGalleryChanged,
			Recovered: true, Gallery: &audit.GalleryChange{Total: 6, Change: 4}}, true},
		{"first change unrecorded", nil, time.Time{}, gallery.Change{Seq: 1, Action: gallery.ChangeEnrol, Enrolled: 5, Total: 5, Epoch: 1, At: at},
			true, audit.Event{Partner: "co", Epoch: 1, Action: audit.ActionGalleryEnrolled, Recovered: true,
				Gallery: &audit.GalleryChange{Enrolled: 5, Total: 5, Change: 1}}, true},
		{"new gallery after a forgotten one", &galleryTrail{forgotten: true}, time.Time{}, gallery.Change{Seq: 1, Action: gallery.ChangeEnrol, Enrolled: 5, Total: 5, Epoch: 1, At: at},
			true, audit.Event{Partner: "co", Epoch: 1, Action: audit.ActionGalleryEnrolled, Recovered: true,
				Gallery: &audit.GalleryChange{Enrolled: 5, Total: 5, Change: 1}}, true},
		{"record pruned", nil, at, enrol, true, none, false},
		{"not pruned, never recorded", nil, at.Add(-time.Second), enrol, true, audit.Event{Partner: "co", Epoch: 2, Action: audit.ActionGalleryChanged,
			Recovered: true, Gallery: &audit.GalleryChange{Total: 9, Change: 4}}, true},
		{"gallery behind its record", held(6, 9), time.Time{}, enrol, true, none, false},
		{"no change kept", nil, time.Time{}, gallery.Change{}, true, none, false},
		{"forgotten, unrecorded", held(4, 9), time.Time{}, gallery.Change{}, false, audit.Event{Partner: "co", Epoch: 2,
			Action: audit.ActionGalleryForgotten, Recovered: true, Gallery: &audit.GalleryChange{Removed: 9}}, true},
		{"forgotten, recorded", &galleryTrail{forgotten: true}, time.Time{}, gallery.Change{}, false, none, false},
		{"never a gallery", nil, time.Time{}, gallery.Change{}, false, none, false},
	} {
		ev, ok := galleryGap("co", c.held, c.pruned, c.last, c.exists)
		if ok != c.wantAny || !sameGalleryEvent(ev, c.want) {
			t.Errorf("%s: %v %+v %+v, want %v %+v %+v", c.name, ok, ev, ev.Gallery, c.wantAny, c.want, c.want.Gallery)
			continue
		}
		if ok {
			if err := ev.Validate(audit.KindGallery); err != nil {
				t.Errorf("%s: the record is not valid: %v", c.name, err)
			}
		}
	}
}

// sameGalleryEvent compares two gallery events, their counts by value.
func sameGalleryEvent(a, b audit.Event) bool {
	if (a.Gallery == nil) != (b.Gallery == nil) || a.Gallery != nil && *a.Gallery != *b.Gallery {
		return false
	}
	a.Gallery, b.Gallery = nil, nil
	return a == b
}
