//go:build puente_testparams

package protocol

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/home"
)

// TestSelectiveFailureHaltsQueries mounts the selective-failure attack on the opening. The
// responder corrupts the label its transfer gives for choice 1 of the querier's first input
// wire, so that the garbled circuit does not open exactly when that bit of the querier's share
// is 1. A querier that goes on after such a failure (it retries the traveller, or checks the
// next one) tells the responder the bit by its next call; the node must instead stop every call
// to that partner at the first answer that does not open, so that what the responder sees
// depends on the querier's secret once at most. The test counts the calls the responder
// receives after the first failure, while the querier keeps asking.
func TestSelectiveFailureHaltsQueries(t *testing.T) {
	a, b, gal := haltPair(t, 41, 8)
	ctx := ctxTimeout(t, 5*time.Minute)
	var opened atomic.Int32 // calls the responder received
	hook := func(_ context.Context, point string, _ error) {
		if point == "opened" {
			opened.Add(1)
		}
	}
	b.hook.Store(&hook)
	cheat := func(tr []byte) { tr[labelBytesForTest] ^= 1 } // message 1 of the first transfer
	b.cheat.Store(&cheat)

	const calls = 24 // the first failure comes by call 24 unless 24 pseudorandom bits are all 0
	failedAt, after, halted := -1, 0, 0
	for i := range calls {
		before := opened.Load()
		_, err := a.Search(ctx, "beta", Probe{Raw: gal[i%len(gal)]}, "")
		reached := opened.Load() > before
		if failedAt >= 0 && reached {
			after++
		}
		if failedAt >= 0 && errors.Is(err, ErrHalted) && errors.Is(err, ErrPrecondition) {
			halted++
		}
		if failedAt < 0 && errors.Is(err, ErrDeviated) {
			failedAt = i
		}
	}
	if failedAt < 0 {
		t.Fatalf("no answer failed to open in %d calls: the attack did not run", calls)
	}
	t.Logf("the first answer that did not open was call %d of %d; the responder received %d calls after it", failedAt+1, calls, after)
	if after != 0 {
		t.Errorf("the responder received %d calls after an answer that did not open: each tells it one more bit of the querier's share; want 0", after)
	}
	if want := calls - failedAt - 1; halted != want {
		t.Errorf("%d of the %d calls after the failure were refused as halted, want all", halted, want)
	}
	if _, err := a.Verify(ctx, "beta", "b-0", Probe{Raw: gal[0]}, ""); !errors.Is(err, ErrHalted) {
		t.Errorf("Verify after the failure: %v, want ErrHalted", err)
	}

	// The evidence: one deviated record, the halt in the status and the metric.
	var deviated []audit.Record
	for _, r := range records(t, a) {
		if r.Kind == audit.KindQuery && r.Outcome == audit.OutcomeDeviated {
			deviated = append(deviated, r)
		}
	}
	if len(deviated) != 1 || deviated[0].Partner != "beta" || deviated[0].Role != audit.RoleQuerier {
		t.Fatalf("deviated records: %+v, want one, of the querier, for beta", deviated)
	}
	h := haltOf(t, a)
	if h == nil || h.RequestID != deviated[0].RequestID {
		t.Fatalf("status: halt %+v, want one for request %s", h, deviated[0].RequestID)
	}
	if g := haltedGauge(t, a); g != 1 {
		t.Errorf("puente_partner_halted{partner=beta} = %v, want 1", g)
	}

	// The halt survives a restart, a state file that lost it (an older copy) and a rebuild.
	stillHalted := func(when string) {
		t.Helper()
		before := opened.Load()
		if _, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); !errors.Is(err, ErrHalted) {
			t.Errorf("%s: Search: %v, want ErrHalted", when, err)
		}
		if opened.Load() != before {
			t.Errorf("%s: the call reached the responder", when)
		}
		if g := haltedGauge(t, a); g != 1 {
			t.Errorf("%s: puente_partner_halted{partner=beta} = %v, want 1", when, g)
		}
	}
	a.restart(t)
	stillHalted("after a restart")
	a.stop(t)
	deleteHalt(t, a)
	a.start(t)
	stillHalted("with a state file that lost the halt")
	a.stop(t)
	cfg := loadConfig(t, a)
	rep, err := RebuildState(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Halted) != 1 || rep.Halted[0].RequestID != h.RequestID {
		t.Errorf("rebuild: halted %+v, want beta's", rep.Halted)
	}
	a.start(t)
	stillHalted("after the state file was rebuilt")

	// An operator resumes the partner, the node stopped; the resume is recorded.
	a.stop(t)
	got, err := ResumePartner(ctx, cfg, "beta", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestID != h.RequestID || got.Partner != "beta" {
		t.Errorf("resume lifted %+v, want %+v", got, h)
	}
	if _, err := ResumePartner(ctx, cfg, "beta", Options{}); err == nil {
		t.Error("a second resume succeeded; want an error: nothing is halted")
	}
	resumed := 0
	for _, r := range records(t, a) {
		if r.Kind == audit.KindKey && r.Action == audit.ActionPartnerResumed && r.Partner == "beta" {
			resumed++
		}
	}
	if resumed != 1 {
		t.Errorf("%d partner-resumed records, want 1", resumed)
	}
	b.cheat.Store(nil)
	a.start(t)
	for range 2 {
		if h := haltOf(t, a); h != nil {
			t.Fatalf("after the resume: halt %+v", h)
		}
		res, err := a.Search(ctx, "beta", Probe{Raw: gal[2]}, "")
		if err != nil || !res.Hit {
			t.Fatalf("Search of an enrolled subject after the resume: %+v, %v; want a hit", res, err)
		}
		a.restart(t)
	}
}

// TestHaltStopsOpeningsInFlight: a query already out when another query's answer fails to open
// sends no opening (its transfer request carries the querier's input). Query X is held at the
// responder until query Y, whose answer the responder spoils on both values of a wire (it never
// opens), has failed; X's round 1 then arrives at a halted querier, which ends the call.
func TestHaltStopsOpeningsInFlight(t *testing.T) {
	a, b, gal := haltPair(t, 43, 4)
	ctx := ctxTimeout(t, 5*time.Minute)
	holding, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	hook := func(_ context.Context, point string, _ error) {
		if point == "reserved" && held.CompareAndSwap(false, true) {
			close(holding)
			<-release
		}
	}
	b.hook.Store(&hook)
	var openings atomic.Int32 // openings the responder served
	cheat := func(tr []byte) {
		openings.Add(1)
		tr[0] ^= 1 // message 0 of the first transfer
		tr[labelBytesForTest] ^= 1
	}
	b.cheat.Store(&cheat)
	x := make(chan error, 1)
	go func() {
		_, err := a.Search(ctx, "beta", Probe{Raw: gal[0]}, "")
		x <- err
	}()
	<-holding
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[1]}, ""); !errors.Is(err, ErrDeviated) {
		t.Fatalf("query Y: %v, want ErrDeviated", err)
	}
	close(release)
	if err := <-x; !errors.Is(err, ErrHalted) {
		t.Errorf("query X, out when Y failed: %v, want ErrHalted", err)
	}
	if n := openings.Load(); n != 1 {
		t.Errorf("the responder served %d openings, want 1 (Y's): X's went out after the halt", n)
	}
}

// haltPair is a pair after a ceremony, with n subjects enrolled on beta for alpha's queries.
func haltPair(t *testing.T, seed uint64, n int) (*testNode, *testNode, [][]float64) {
	t.Helper()
	a, b := newPair(t, pairOptions{})
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(seed, n)
	if _, err := b.Enrol(ctx, "alpha", refs("b", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	return a, b, gal
}

// haltOf returns the halt of n's queries to beta in n's status (nil: none).
func haltOf(t *testing.T, n *testNode) *Halt {
	t.Helper()
	st, err := n.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Partners {
		if p.Partner == "beta" {
			return p.Halted
		}
	}
	t.Fatal("no status for beta")
	return nil
}

// haltedGauge reads puente_partner_halted{partner="beta"} of n.
func haltedGauge(t *testing.T, n *testNode) float64 {
	t.Helper()
	mfs, err := n.met.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "puente_partner_halted" {
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == "beta" {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatal("no puente_partner_halted{partner=beta}")
	return 0
}

// loadConfig reads n's configuration from its home.
func loadConfig(t *testing.T, n *testNode) *home.Config {
	t.Helper()
	cfg, err := home.LoadConfig(filepath.Join(n.home, "puente.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// labelBytesForTest is the offset of message 1 of the first transfer in a transfer answer
// (each transfer's two messages are one label each, opening/ext.go).
const labelBytesForTest = 16
