package keys

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// sinkTrail is an audit log for the tests: the sink records each event, except those of the
// actions in lose (a crash or a failed append after the action took effect), and the trail
// holds what it recorded.
type sinkTrail struct {
	held map[string]Event
	lose map[Action]bool
	lost map[string]Event
}

func trailKeyOf(ev Event) string {
	a := ev.Action
	if a == ActSigningKeyCreated {
		a = ActSigningKeyRotated
	}
	return fmt.Sprint(a, " ", ev.Key, " ", ev.KeyID, " ", ev.Epoch)
}

func (s *sinkTrail) sink(_ context.Context, ev Event) error {
	if s.lose[ev.Action] {
		s.lost[trailKeyOf(ev)] = ev
		return errors.New("the node crashed")
	}
	s.held[trailKeyOf(ev)] = ev
	return nil
}

func (s *sinkTrail) Holds(ev Event) bool { _, ok := s.held[trailKeyOf(ev)]; return ok }

// TestReconcileRecordsLostActions: every key action whose record was lost after it took effect
// is found from the store alone and recorded once, marked recovered, with a time no later than
// the action's; the actions recorded are not recorded again.
func TestReconcileRecordsLostActions(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	tick := 0
	now := func() time.Time { tick++; return time.Date(2026, 3, 1, 0, 0, tick, 0, time.UTC) }
	log := &sinkTrail{held: map[string]Event{}, lose: map[Action]bool{}, lost: map[string]Event{}}
	sk := &SigningKeys{Store: s, Node: "us-cbp", Rand: newDetRand("reconcile"), Now: now, Events: log.sink}
	ag := &Agreements{Store: s, Now: now, Events: log.sink}
	lose := func(a Action, err error) {
		t.Helper()
		if !errors.Is(err, ErrNotAudited) {
			t.Fatalf("%s with its record lost: %v, want ErrNotAudited", a, err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	k1, err := sk.Rotate(ctx, 0) // created, recorded
	must(err)
	log.lose[ActSigningKeyRotated] = true
	_, err = sk.Rotate(ctx, time.Hour)
	lose(ActSigningKeyRotated, err)
	log.lose[ActSigningKeyRevoked] = true
	lose(ActSigningKeyRevoked, sk.Revoke(ctx, k1.ID()))
	must(ag.Begin(ctx, "co-migracion", testSecret(t, "us-co", 1)))
	log.lose[ActEpochBegun] = true
	lose(ActEpochBegun, ag.Begin(ctx, "co-migracion", testSecret(t, "us-co", 2)))
	for _, a := range []Action{ActEpochRetired, ActEpochDestroyed, ActEpochRevoked, ActSigningKeyDestroyed} {
		log.lose[a] = true
	}
	lose(ActEpochRetired, ag.Retire(ctx, "us-co", 1))
	lose(ActEpochDestroyed, ag.Destroy(ctx, "us-co", 1))
	lose(ActEpochRevoked, ag.Revoke(ctx, "us-co", 2))
	delete(log.lose, ActSigningKeyRotated)
	_, err = sk.Rotate(ctx, 0) // rotated, recorded; the replaced key's seed destroyed, lost
	lose(ActSigningKeyDestroyed, err)
	if len(log.lost) != 7 {
		t.Fatalf("lost %d records, want 7: %v", len(log.lost), log.lost)
	}

	log.lose = map[Action]bool{}
	var recorded []Event
	done, err := Reconcile(ctx, s, "us-cbp", log, func(ctx context.Context, ev Event) error {
		recorded = append(recorded, ev)
		return log.sink(ctx, ev)
	})
	must(err)
	if len(done) != len(log.lost) || len(recorded) != len(done) {
		t.Errorf("Reconcile recorded %d actions (%v), want the %d lost", len(done), done, len(log.lost))
	}
	for _, ev := range done {
		orig, ok := log.lost[trailKeyOf(ev)]
		switch {
		case !ok:
			t.Errorf("Reconcile recorded %s %s, which was not lost", ev.Action, ev.Key)
		case !ev.Recovered || ev.Action != orig.Action:
			t.Errorf("recorded %+v for the lost %+v: not marked recovered, or another action", ev, orig)
		case ev.Time.After(orig.Time):
			t.Errorf("%s %s: recovered with time %v, after the action's %v", ev.Action, ev.Key, ev.Time, orig.Time)
		}
	}
	again, err := Reconcile(ctx, s, "us-cbp", log, log.sink)
	if err != nil || len(again) != 0 {
		t.Errorf("Reconcile once everything is recorded: %v, %v", again, err)
	}
}

// TestReconcileStopsAtSinkError: a sink that fails stops Reconcile with ErrNotAudited, and the
// action is found again next time.
func TestReconcileStopsAtSinkError(t *testing.T) {
	s := newFileStore(t, newTestIdentity(t, false))
	sk := &SigningKeys{Store: s, Node: "us-cbp", Rand: newDetRand("stop")}
	if _, err := sk.Rotate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	log := &sinkTrail{held: map[string]Event{}, lose: map[Action]bool{ActSigningKeyCreated: true}, lost: map[string]Event{}}
	if done, err := Reconcile(ctx, s, "us-cbp", log, log.sink); !errors.Is(err, ErrNotAudited) || len(done) != 0 {
		t.Fatalf("Reconcile with a failing sink: %v, %v", done, err)
	}
	log.lose = nil
	if done, err := Reconcile(ctx, s, "us-cbp", log, log.sink); err != nil || len(done) != 1 || done[0].Action != ActSigningKeyCreated {
		t.Errorf("Reconcile after the failure: %v, %v", done, err)
	}
}
