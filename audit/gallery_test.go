package audit

import (
	"bytes"
	"errors"
	"testing"
)

// TestGalleryRecords: a gallery record carries the partner, the action, the epoch and the
// counts, every count written even when zero, and verifies; the report lists a recovered one;
// the counts are signed; a record without its counts, with a field of another kind, or with
// counts that contradict its action is refused; and no other kind of record carries counts, so
// the lines of those are as before.
func TestGalleryRecords(t *testing.T) {
	k := newTestKey(1)
	w, path := openTest(t, k)
	mustAppend(t, w, KindKey, Event{Action: "epoch-begun", Key: "agreement/us-co/epoch/1/seed", Epoch: 1})
	good := []Event{
		{Partner: "co", Epoch: 1, Action: ActionGalleryEnrolled, Gallery: &GalleryChange{Enrolled: 5, Total: 5, Change: 1}},
		{Partner: "co", Epoch: 1, Action: ActionGalleryEnrolled, Gallery: &GalleryChange{Skipped: 5, Total: 5, Change: 2}},
		{Partner: "co", Epoch: 1, Action: ActionGalleryRemoved, Gallery: &GalleryChange{Removed: 5, Change: 3}},
		{Partner: "co", Epoch: 1, Action: ActionGalleryRemoved, Gallery: &GalleryChange{Removed: 2, Total: 9, Change: 9}, Recovered: true},
		{Partner: "co", Epoch: 1, Action: ActionGalleryChanged, Gallery: &GalleryChange{Total: 4, Change: 12}, Recovered: true},
		{Partner: "co", Epoch: 1, Action: ActionGalleryForgotten, Gallery: &GalleryChange{Removed: 4}},
		{Partner: "co", Action: ActionGalleryForgotten, Gallery: &GalleryChange{}},
	}
	for _, ev := range good {
		mustAppend(t, w, KindGallery, ev)
	}
	counts := &GalleryChange{Enrolled: 1, Total: 1, Change: 1}
	for name, c := range map[string]struct {
		k  Kind
		ev Event
	}{
		"no partner":             {KindGallery, Event{Epoch: 1, Action: ActionGalleryEnrolled, Gallery: counts}},
		"no counts":              {KindGallery, Event{Partner: "co", Epoch: 1, Action: ActionGalleryEnrolled}},
		"no epoch":               {KindGallery, Event{Partner: "co", Action: ActionGalleryEnrolled, Gallery: counts}},
		"no change number":       {KindGallery, Event{Partner: "co", Epoch: 1, Action: ActionGalleryEnrolled, Gallery: &GalleryChange{Enrolled: 1, Total: 1}}},
		"a key action":           {KindGallery, Event{Partner: "co", Epoch: 1, Action: "epoch-begun", Gallery: counts}},
		"a key name":             {KindGallery, Event{Partner: "co", Epoch: 1, Action: ActionGalleryEnrolled, Key: "gallery/us-co/data-key", Gallery: counts}},
		"a request ID":           {KindGallery, Event{Partner: "co", Epoch: 1, Action: ActionGalleryEnrolled, RequestID: "0123456789abcdef0123456789abcdef", Gallery: counts}},
		"an enrolment's":         {KindGallery, Event{Partner: "co", Epoch: 1, Action: ActionGalleryEnrolled, Gallery: &GalleryChange{Enrolled: 1, Removed: 1, Change: 1}}},
		"a removal's":            {KindGallery, Event{Partner: "co", Epoch: 1, Action: ActionGalleryRemoved, Gallery: &GalleryChange{Skipped: 1, Removed: 1, Change: 1}}},
		"a forgotten total":      {KindGallery, Event{Partner: "co", Action: ActionGalleryForgotten, Gallery: &GalleryChange{Total: 3}}},
		"a forgotten change":     {KindGallery, Event{Partner: "co", Action: ActionGalleryForgotten, Gallery: &GalleryChange{Change: 3}}},
		"changed, not recovered": {KindGallery, Event{Partner: "co", Epoch: 1, Action: ActionGalleryChanged, Gallery: &GalleryChange{Total: 3, Change: 3}}},
		"changed with counts":    {KindGallery, Event{Partner: "co", Epoch: 1, Action: ActionGalleryChanged, Recovered: true, Gallery: &GalleryChange{Enrolled: 1, Total: 3, Change: 3}}},
		"counts on a key":        {KindKey, Event{Action: "epoch-begun", Epoch: 1, Gallery: counts}},
		"counts on a log":        {KindLog, Event{Action: "prune", Gallery: counts}},
		"counts on a query":      {KindQuery, func() Event { e := queryEvent(1, RoleQuerier); e.Gallery = counts; return e }()},
	} {
		if _, err := w.Append(ctx, c.k, c.ev); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("a gallery record with %s: %v, want ErrInvalidEvent", name, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyFile(path, ringOf(k), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kinds[KindGallery] != len(good) || len(rep.Recovered) != 2 || rep.Recovered[1].Action != ActionGalleryChanged {
		t.Errorf("report: %d gallery records, recovered %+v; want %d and 2", rep.Kinds[KindGallery], rep.Recovered, len(good))
	}
	lines := linesOfFile(t, path)
	if bytes.Contains(lines[0], []byte(`"gallery"`)) {
		t.Errorf("a key record's line names gallery counts: %s", lines[0])
	}
	want := `"kind":"gallery","partner":"co","epoch":1,"action":"gallery-removed","gallery":{"enrolled":0,"skipped":0,"removed":5,"total":0,"change":3},"prev":`
	if !bytes.Contains(lines[3], []byte(want)) {
		t.Fatalf("the removal's line:\n%s\nwant it to hold\n%s", lines[3], want)
	}
	lines[3] = bytes.Replace(lines[3], []byte(`"removed":5`), []byte(`"removed":4`), 1)
	if _, err := Verify(bytes.NewReader(bytes.Join(lines, nil)), ringOf(k), VerifyOptions{}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a count edited: %v, want ErrBadSignature", err)
	}
}
