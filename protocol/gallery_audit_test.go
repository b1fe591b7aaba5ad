//go:build puente_testparams

package protocol

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
)

// galleryNode makes a pair of test nodes with an epoch, and n subjects' references (prefix-i)
// and raw features (from seed) to enrol; it returns alpha, whose gallery for beta the test
// changes.
func galleryNode(t *testing.T, seed uint64, prefix string, n int) (*testNode, context.Context, [][]float32, []string) {
	t.Helper()
	a, _ := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	return a, ctx, f32(rawVectors(seed, n)), refs(prefix, n)
}

// galleryWant is what one gallery record must say.
type galleryWant struct {
	action                            string
	enrolled, skipped, removed, total uint64
}

// TestGalleryChangesAudited: each change to what a partner may search (an enrolment, one run
// again with Resume, a removal, forgetting a lost gallery) leaves exactly one signed gallery
// record naming the partner, the action, the counts and the epoch; the log verifies; and no
// subject reference, template or feature value is in it.
func TestGalleryChangesAudited(t *testing.T) {
	t.Parallel()
	a, ctx, raw, ids := galleryNode(t, 70, "case-x7q", 7)
	from := len(records(t, a))

	if _, err := a.Enrol(ctx, "beta", ids[:5], raw[:5], EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Enrol(ctx, "beta", ids, raw, EnrolOptions{Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Enrolled != 2 || rep.Skipped != 5 || rep.Total != 7 {
		t.Fatalf("resumed enrolment: %+v, want 2 enrolled, 5 skipped, 7 in all", rep)
	}
	var templates [][]float64
	for _, r := range ids {
		rec, err := a.partners["beta"].gallery().store.Get(r)
		if err != nil {
			t.Fatal(err)
		}
		templates = append(templates, rec.Template)
	}
	rm, err := a.RemoveSubjects(ctx, "beta", ids[1:4])
	if err != nil {
		t.Fatal(err)
	}
	if rm.Removed != 3 || rm.Total != 4 {
		t.Fatalf("removal: %+v, want 3 removed, 4 left", rm)
	}
	epoch := rep.Epoch

	// The gallery file lost for good: forgotten with the node stopped.
	a.stop(t)
	if err := os.Remove(a.galleryPath(a.partners["beta"])); err != nil {
		t.Fatal(err)
	}
	if _, err := ForgetGallery(ctx, a.cfg, "beta"); err != nil {
		t.Fatal(err)
	}

	want := []galleryWant{{"gallery-enrolled", 5, 0, 0, 5}, {"gallery-enrolled", 2, 5, 0, 7},
		{"gallery-removed", 0, 0, 3, 4}, {"gallery-forgotten", 0, 0, 4, 0}}
	var got []audit.Record
	for _, r := range records(t, a)[from:] {
		if r.Kind == audit.KindGallery {
			got = append(got, r)
		}
	}
	if len(got) != len(want) {
		var acts []string
		for _, r := range got {
			acts = append(acts, r.Action)
		}
		t.Fatalf("%d gallery records %v, want %d", len(got), acts, len(want))
	}
	for i, w := range want {
		r := got[i]
		c := r.Gallery
		if r.Partner != "beta" || r.Action != w.action || r.Epoch != epoch || r.Recovered || c == nil ||
			c.Enrolled != w.enrolled || c.Skipped != w.skipped || c.Removed != w.removed || c.Total != w.total {
			t.Errorf("gallery record %d: %s %s epoch %d recovered %v %+v, want beta %+v epoch %d", i, r.Partner, r.Action, r.Epoch, r.Recovered, c, w, epoch)
		}
	}

	logPath := a.cfg.Path(a.cfg.AuditLog)
	if _, err := audit.VerifyFile(logPath, a.ring.Load(), nil); err != nil {
		t.Errorf("the audit log does not verify: %v", err)
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range ids {
		if bytes.Contains(log, []byte(r)) {
			t.Errorf("the audit log holds subject reference %d", i)
		}
		for j := range 4 {
			if v := strconv.FormatFloat(float64(raw[i][j]), 'g', -1, 32); len(v) > 5 && bytes.Contains(log, []byte(v)) {
				t.Errorf("the audit log holds feature value %d of subject %d", j, i)
			}
			if v := strconv.FormatFloat(templates[i][j], 'g', -1, 64); len(v) > 5 && bytes.Contains(log, []byte(v)) {
				t.Errorf("the audit log holds template value %d of subject %d", j, i)
			}
		}
	}
}

// logFiles reads the node's audit log and its head file (the node stopped).
func logFiles(t *testing.T, tn *testNode) map[string][]byte {
	t.Helper()
	log := tn.cfg.Path(tn.cfg.AuditLog)
	out := map[string][]byte{}
	for _, f := range []string{log, log + ".head"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

// putBack writes files read by logFiles back (the node stopped).
func putBack(t *testing.T, files map[string][]byte) {
	t.Helper()
	for f, b := range files {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGalleryChangeRecovered: a change to a partner's gallery whose record a crash left unwritten
// (the gallery as after the change, the log as before its record) is recorded, marked
// recovered, when the node next opens: the change itself when one is missing, gallery-changed
// with the total when two are, gallery-forgotten when `gallery forget` stopped before its
// record; once only (opening again adds nothing), and the log verifies with the recovered
// records listed.
func TestGalleryChangeRecovered(t *testing.T) {
	t.Parallel()
	a, ctx, raw, ids := galleryNode(t, 71, "case-r2d", 6)
	first, err := a.Enrol(ctx, "beta", ids[:4], raw[:4], EnrolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	epoch := first.Epoch
	a.stop(t)
	afterFirst := logFiles(t, a)
	a.start(t)
	if _, err := a.Enrol(ctx, "beta", ids[4:], raw[4:], EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	a.stop(t)
	afterSecond := logFiles(t, a)
	a.start(t)
	if _, err := a.RemoveSubjects(ctx, "beta", ids[:1]); err != nil {
		t.Fatal(err)
	}
	a.stop(t)

	// recovered opens the node on the log put back, and returns the gallery records added.
	recovered := func(files map[string][]byte) []audit.Record {
		t.Helper()
		putBack(t, files)
		from := len(records(t, a))
		a.start(t)
		a.stop(t)
		added := records(t, a)[from:]
		a.start(t)
		a.stop(t)
		if again := records(t, a)[from+len(added):]; len(again) != 0 {
			t.Errorf("opening the node again added %d more records", len(again))
		}
		rep, err := audit.VerifyFile(a.cfg.Path(a.cfg.AuditLog), a.ring.Load(), nil)
		if err != nil {
			t.Fatalf("the audit log does not verify: %v", err)
		}
		listed := 0
		for _, r := range rep.Recovered {
			if len(added) > 0 && r.Seq >= added[0].Seq {
				listed++
			}
		}
		if listed != len(added) {
			t.Errorf("the report lists %d of the %d records added as recovered", listed, len(added))
		}
		return added
	}
	check := func(what string, got []audit.Record, want audit.Event) {
		t.Helper()
		if len(got) != 1 || got[0].Kind != audit.KindGallery || !sameGalleryEvent(got[0].Event, want) {
			t.Errorf("%s: records %+v, want one gallery record %+v %+v", what, got, want, want.Gallery)
		}
	}
	check("the removal unrecorded", recovered(afterSecond), audit.Event{Partner: "beta", Epoch: epoch,
		Action: audit.ActionGalleryRemoved, Recovered: true, Gallery: &audit.GalleryChange{Removed: 1, Total: 5, Change: 3}})
	check("the second enrolment and the removal unrecorded", recovered(afterFirst), audit.Event{Partner: "beta", Epoch: epoch,
		Action: audit.ActionGalleryChanged, Recovered: true, Gallery: &audit.GalleryChange{Total: 5, Change: 3}})

	// `gallery forget` stopped after destroying the keys, before its record.
	if err := os.Remove(a.galleryPath(a.partners["beta"])); err != nil {
		t.Fatal(err)
	}
	beforeForget := logFiles(t, a)
	if _, err := ForgetGallery(ctx, a.cfg, "beta"); err != nil {
		t.Fatal(err)
	}
	got := recovered(beforeForget)
	check("gallery forget unrecorded", got, audit.Event{Partner: "beta", Epoch: epoch,
		Action: audit.ActionGalleryForgotten, Recovered: true, Gallery: &audit.GalleryChange{Removed: 5}})
}

// TestGalleryChangeUnrecordedStopsChanges: when a change's record cannot be written, the call
// fails saying so, and the gallery takes no other change (which would leave a second change
// without its record) until the node, opened again, records the first, marked recovered.
func TestGalleryChangeUnrecordedStopsChanges(t *testing.T) {
	t.Parallel()
	a, ctx, raw, ids := galleryNode(t, 72, "case-u5k", 4)
	if _, err := a.Enrol(ctx, "beta", ids[:2], raw[:2], EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.audit.Close(); err != nil { // every append fails from here on
		t.Fatal(err)
	}
	if _, err := a.Enrol(ctx, "beta", ids[2:3], raw[2:3], EnrolOptions{}); !errors.Is(err, ErrInternal) {
		t.Fatalf("an enrolment whose record fails: %v, want ErrInternal", err)
	}
	if _, err := a.Enrol(ctx, "beta", ids[3:], raw[3:], EnrolOptions{}); !errors.Is(err, ErrPrecondition) {
		t.Errorf("an enrolment after an unrecorded one: %v, want ErrPrecondition", err)
	}
	if _, err := a.RemoveSubjects(ctx, "beta", ids[:1]); !errors.Is(err, ErrPrecondition) {
		t.Errorf("a removal after an unrecorded enrolment: %v, want ErrPrecondition", err)
	}
	var err error
	if a.audit, err = a.openAudit(newLogScan()); err != nil { // for the node's Close
		t.Fatal(err)
	}
	from := len(records(t, a))
	a.restart(t)
	added := records(t, a)[from:]
	want := audit.Event{Partner: "beta", Epoch: 1, Action: audit.ActionGalleryEnrolled, Recovered: true,
		Gallery: &audit.GalleryChange{Enrolled: 1, Total: 3, Change: 2}}
	if len(added) != 1 || !sameGalleryEvent(added[0].Event, want) {
		t.Fatalf("records on opening again: %+v, want %+v %+v", added, want, want.Gallery)
	}
	if n, err := a.partners["beta"].gallery().store.Count(); err != nil || n != 3 {
		t.Errorf("the gallery holds %d (%v), want 3: a change refused went through", n, err)
	}
	if _, err := a.Enrol(ctx, "beta", ids[3:], raw[3:], EnrolOptions{}); err != nil {
		t.Errorf("an enrolment once the node recorded the earlier one: %v", err)
	}
}
