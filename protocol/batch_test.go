//go:build puente_testparams

package protocol

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/puente-id/puente/audit"
	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/he/hetest"
)

// TestWaitingSearchesAnsweredTogether holds a responder's only evaluation slot with one Search
// while five more of the same partner queue behind it, and cancels one of the five while it
// waits. Beta converts its gallery's block on every search (gallery_memory_budget = 0): the four
// calls left are answered in one batch. Alpha keeps every block in NTT form: a batch would share
// nothing, and each call is answered alone. Either way every answered call decides as the
// plaintext scan does, spends one query of the quota and has its own answered record; the
// cancelled call spends none and is recorded as failed.
func TestWaitingSearchesAnsweredTogether(t *testing.T) {
	t.Parallel()
	a, b, galB := convertingPair(t, 71)
	ctx := ctxTimeout(t, 5*time.Minute)
	galA := rawVectors(70, 20)
	if _, err := a.Enrol(ctx, "beta", refs("a", len(galA)), f32(galA), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	if g := packedFor(t, b, "alpha"); g.BatchQueryBytes() == 0 {
		t.Fatal("beta keeps its gallery in NTT form: nothing for a batch to share")
	}
	if g := packedFor(t, a, "beta"); g.BatchQueryBytes() != 0 {
		t.Fatal("alpha converts its gallery during searches: want every block kept")
	}
	for _, c := range []struct {
		name      string
		q, r      *testNode
		partner   string
		gal       [][]float64
		wantEvals int // evaluations for the six calls: the first alone, then the four left
	}{
		{"blocks converted", a, b, "beta", galB, 2},
		{"every block kept", b, a, "alpha", galA, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			probes := [][]float64{c.gal[2], near(72, c.gal[5], 0.1), rawVectors(73, 1)[0], near(74, c.gal[11], 0.1), rawVectors(75, 1)[0], near(76, c.gal[17], 0.1)}
			const cancelled = 3
			evals0, calls0 := batchMetric(t, c.r)
			used := quotaUsed(t, c.r, c.q.name)
			h := holdSlot(c.r, nil)
			defer c.r.hook.Store(nil)
			queued, finished, holding, release := h.queued, h.finished, h.holding, h.release

			type outcome struct {
				res *Result
				err error
			}
			out := make([]chan outcome, len(probes))
			cancel := make([]context.CancelFunc, len(probes))
			for i, p := range probes {
				out[i] = make(chan outcome, 1)
				var cctx context.Context
				cctx, cancel[i] = context.WithCancel(ctx)
				defer cancel[i]()
				go func() { res, err := c.q.Search(cctx, c.partner, Probe{Raw: p}, ""); out[i] <- outcome{res, err} }()
				if i == 0 {
					<-holding
				}
			}
			await(t, queued, len(probes), "queued") // the first call, then the five behind it
			cancel[cancelled]()
			await(t, finished, 1, "finished") // the cancelled call left the queue and was recorded
			close(release)

			answered := map[string]bool{}
			for i, p := range probes {
				o := <-out[i]
				if i == cancelled {
					if o.err == nil {
						t.Errorf("call %d was cancelled while it waited, and answered", i)
					}
					continue
				}
				if o.err != nil {
					t.Fatalf("call %d: %v", i, o.err)
				}
				best := plainBest(t, c.q, c.partner, c.gal, p)
				if best > 0.88 && best < 0.92 {
					t.Fatalf("call %d: probe too close to tau: %.4f", i, best)
				}
				if o.res.Hit != (best >= 0.9) {
					t.Errorf("call %d: hit %v, plaintext best score %.4f", i, o.res.Hit, best)
				}
				answered[o.res.RequestID] = true
			}
			await(t, finished, len(probes)-1, "finished")
			evals, calls := batchMetric(t, c.r)
			if evals-evals0 != c.wantEvals || calls-calls0 != len(probes)-1 {
				t.Errorf("%d calls answered in %d evaluations, want %d in %d", calls-calls0, evals-evals0, len(probes)-1, c.wantEvals)
			}
			if got := quotaUsed(t, c.r, c.q.name); got != used+len(probes)-1 {
				t.Errorf("quota count %d, want %d (the cancelled call spends none)", got, used+len(probes)-1)
			}
			recs := records(t, c.r)
			var failed int
			for _, r := range recs[len(recs)-len(probes):] {
				switch {
				case r.Kind != audit.KindQuery:
					t.Errorf("record %s among the calls' records", r.Kind)
				case r.Outcome == audit.OutcomeAnswered && answered[r.RequestID]:
					delete(answered, r.RequestID)
				case r.Outcome == audit.OutcomeFailed:
					failed++
				default:
					t.Errorf("unexpected record: %s %s", r.Outcome, r.RequestID)
				}
			}
			if len(answered) != 0 || failed != 1 {
				t.Errorf("%d answered calls without their record, %d failed records (want 0 and 1)", len(answered), failed)
			}
		})
	}
}

// TestCancelledInBatchEndsAtOnce cancels one of three calls while their batch is being
// evaluated: that call ends and is recorded as failed at once, without waiting for the batch, and
// the two others are answered. Each of the three is cancelled in turn, so that one run cancels
// the call that took the slot and started the batch, whichever it was.
func TestCancelledInBatchEndsAtOnce(t *testing.T) {
	t.Parallel()
	for _, victim := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("call %d", victim), func(t *testing.T) {
			t.Parallel()
			cancelledInBatch(t, victim)
		})
	}
}

func cancelledInBatch(t *testing.T, victim int) {
	a, b, gal := convertingPair(t, 85)
	ctx := ctxTimeout(t, 5*time.Minute)
	used := quotaUsed(t, b, "alpha")
	inBatch, releaseBatch := make(chan struct{}), make(chan struct{})
	var batch sync.Once
	h := holdSlot(b, func(_ context.Context, point string, _ error) {
		if point == "evaluate" {
			batch.Do(func() { close(inBatch); <-releaseBatch }) // the batch of the three
		}
	})
	defer b.hook.Store(nil)
	queued, finished, holding, release := h.queued, h.finished, h.holding, h.release
	errs := make([]chan error, 4)
	cancel := make([]context.CancelFunc, 4)
	for i := range errs {
		errs[i] = make(chan error, 1)
		var cctx context.Context
		cctx, cancel[i] = context.WithCancel(ctx)
		defer cancel[i]()
		go func() { _, err := a.Search(cctx, "beta", Probe{Raw: gal[i]}, ""); errs[i] <- err }()
		if i == 0 {
			<-holding
		}
	}
	await(t, queued, 4, "queued")
	close(release)
	if err := <-errs[0]; err != nil {
		t.Fatalf("the call that held the slot: %v", err)
	}
	await(t, finished, 1, "finished")
	<-inBatch // the three others are in one batch, held in its evaluation
	cancel[victim]()
	await(t, finished, 1, "finished") // before the batch may go on
	if err := <-errs[victim]; err == nil {
		t.Error("the call cancelled in its batch was answered")
	}
	close(releaseBatch)
	for i := 1; i <= 3; i++ {
		if i == victim {
			continue
		}
		if err := <-errs[i]; err != nil {
			t.Errorf("call %d of the batch: %v", i, err)
		}
	}
	await(t, finished, 2, "finished")
	if evals, calls := batchMetric(t, b); evals != 2 || calls != 4 {
		t.Errorf("%d calls in %d evaluations, want 4 in 2", calls, evals)
	}
	if got := quotaUsed(t, b, "alpha"); got != used+3 {
		t.Errorf("quota count %d, want %d (the cancelled call spends none)", got, used+3)
	}
}

// slotHold is a responder's hook for the tests of batches: it signals each call queued and each
// call finished, and keeps the evaluation slot with the first call to reach "evaluate" until
// release is closed.
type slotHold struct {
	queued, finished chan struct{}
	holding, release chan struct{} // closed when the first call holds the slot; closed by the test
}

// holdSlot sets a slotHold as r's hook; more, if not nil, sees every other point and every later
// "evaluate". The test removes the hook.
func holdSlot(r *testNode, more hookFunc) *slotHold {
	h := &slotHold{queued: make(chan struct{}, 16), finished: make(chan struct{}, 16), holding: make(chan struct{}), release: make(chan struct{})}
	var held atomic.Bool
	hook := func(ctx context.Context, point string, err error) {
		switch {
		case point == "queued":
			h.queued <- struct{}{}
		case point == "finished":
			h.finished <- struct{}{}
		case point == "evaluate" && held.CompareAndSwap(false, true):
			close(h.holding)
			<-h.release
		case more != nil:
			more(ctx, point, err)
		}
	}
	r.hook.Store(&hook)
	return h
}

// convertingPair is a pair after a ceremony, with beta keeping no block of its galleries in NTT
// form (gallery_memory_budget = 0), and the lines of config added to beta's puente.hcl, and 20
// subjects enrolled on beta for alpha's searches.
func convertingPair(t *testing.T, seed uint64, config ...string) (*testNode, *testNode, [][]float64) {
	t.Helper()
	a, b := newPair(t, pairOptions{})
	text := "\ngallery_memory_budget = 0\n"
	for _, line := range config {
		text += line + "\n"
	}
	appendFile(t, filepath.Join(b.home, "puente.hcl"), text)
	b.restart(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	if _, err := a.Ceremony(ctx, "beta", 0); err != nil {
		t.Fatal(err)
	}
	gal := rawVectors(seed, 20)
	if _, err := b.Enrol(ctx, "alpha", refs("b", len(gal)), f32(gal), EnrolOptions{}); err != nil {
		t.Fatal(err)
	}
	return a, b, gal
}

// TestSecondSlotNeverRerunsABatchedCall gives beta two evaluation slots
// (max_concurrent_queries = 2) and holds both, each with a call evaluated alone, while three
// more calls of alpha queue. When the first slot frees, one of the three takes it and the three
// into one batch, held in its evaluation; the two others wait for its result, and for a slot.
// Two more calls then queue, held in the "queued" hook so that they take no slot, and the second
// slot frees: the calls of the held batch may take it but must give it back without running a
// batch, since they are no longer queued. Had one of them run the two queued calls as a second
// batch, they would be evaluated before either took a slot, and its own answer would wait for
// that batch. Every call is answered as the plaintext scan decides, spends one query of the
// quota and has one answered record.
func TestSecondSlotNeverRerunsABatchedCall(t *testing.T) {
	t.Parallel()
	a, b, gal := convertingPair(t, 95, "max_concurrent_queries = 2")
	if cap(b.sem) != 2 {
		t.Fatalf("beta has %d evaluation slots, want 2", cap(b.sem))
	}
	ctx := ctxTimeout(t, 5*time.Minute)
	probes := [][]float64{gal[1], near(96, gal[4], 0.1), rawVectors(97, 1)[0], gal[9], near(98, gal[13], 0.1), rawVectors(99, 1)[0], near(100, gal[18], 0.1)}
	const (
		alone   = 2 // calls 0 and 1, each evaluated alone in a slot it holds
		batched = 3 // calls 2 to 4, queued behind both slots: one batch
		late    = 2 // calls 5 and 6, held in the "queued" hook
	)
	evals0, calls0 := batchMetric(t, b)
	used := quotaUsed(t, b, "alpha")

	// The first "evaluate" (call 0) keeps the first slot until h.release; the second (call 1)
	// keeps the second slot until release2; the third (the first of calls 2 to 4 in their
	// batch) keeps the batch in its evaluation until releaseBatch.
	holding2, release2 := make(chan struct{}), make(chan struct{})
	inBatch, releaseBatch := make(chan struct{}), make(chan struct{})
	var evaluating atomic.Int32
	h := holdSlot(b, func(_ context.Context, point string, _ error) {
		if point != "evaluate" {
			return
		}
		switch evaluating.Add(1) {
		case 1:
			close(holding2)
			<-release2
		case 2:
			close(inBatch)
			<-releaseBatch
		}
	})
	// Calls 5 and 6 stay in the "queued" hook, in the queue but not waiting for a slot, until
	// releaseLate.
	heldLate, releaseLate := make(chan struct{}, late), make(chan struct{})
	var queuedN atomic.Int32
	slotHook := *b.hook.Load()
	hook := func(ctx context.Context, point string, err error) {
		slotHook(ctx, point, err)
		if point == "queued" && queuedN.Add(1) > alone+batched {
			heldLate <- struct{}{}
			<-releaseLate
		}
	}
	b.hook.Store(&hook)
	defer b.hook.Store(nil)
	// let(i) closes releases[i]; every held call is let go if the test ends early, so that beta
	// can stop.
	releases := []chan struct{}{h.release, release2, releaseBatch, releaseLate}
	let := func(i int) {
		close(releases[i])
		releases[i] = nil
	}
	defer func() {
		for i, ch := range releases {
			if ch != nil {
				let(i)
			}
		}
	}()

	type outcome struct {
		res *Result
		err error
	}
	out := make([]chan outcome, len(probes))
	search := func(i int) {
		out[i] = make(chan outcome, 1)
		go func() { res, err := a.Search(ctx, "beta", Probe{Raw: probes[i]}, ""); out[i] <- outcome{res, err} }()
	}
	answer := func(i int) *Result {
		t.Helper()
		select {
		case o := <-out[i]:
			if o.err != nil {
				t.Fatalf("call %d: %v", i, o.err)
			}
			return o.res
		case <-time.After(hangLimit):
			t.Fatalf("call %d was not answered", i)
			return nil
		}
	}
	results := make([]*Result, len(probes))

	search(0)
	<-h.holding // call 0 holds the first slot
	search(1)
	<-holding2 // call 1 holds the second
	for i := alone; i < alone+batched; i++ {
		search(i)
	}
	await(t, h.queued, alone+batched, "queued")
	let(0) // the first slot frees: one of calls 2 to 4 takes it, and the three into its batch
	results[0] = answer(0)
	<-inBatch
	for i := alone + batched; i < len(probes); i++ {
		search(i)
	}
	await(t, heldLate, late, "queued (held)")
	let(1) // the second slot frees: only calls of the held batch want it
	results[1] = answer(1)
	let(2) // the batch of calls 2 to 4 goes on
	for i := alone; i < alone+batched; i++ {
		results[i] = answer(i)
	}
	if evals, calls := batchMetric(t, b); evals-evals0 != alone+1 || calls-calls0 != alone+batched {
		t.Errorf("before calls 5 and 6 took a slot, %d calls were answered in %d evaluations, want %d in %d: a call already in a batch ran another",
			calls-calls0, evals-evals0, alone+batched, alone+1)
	}
	let(3) // calls 5 and 6 go on, and take a slot
	for i := alone + batched; i < len(probes); i++ {
		results[i] = answer(i)
	}
	await(t, h.finished, len(probes), "finished")

	answered := map[string]int{} // request ID: answered records
	for i, p := range probes {
		best := plainBest(t, a, "beta", gal, p)
		if best > 0.88 && best < 0.92 {
			t.Fatalf("call %d: probe too close to tau: %.4f", i, best)
		}
		if results[i].Hit != (best >= 0.9) {
			t.Errorf("call %d: hit %v, plaintext best score %.4f", i, results[i].Hit, best)
		}
		if _, ok := answered[results[i].RequestID]; ok {
			t.Errorf("call %d: request ID %s answered twice", i, results[i].RequestID)
		}
		answered[results[i].RequestID] = 0
	}
	if evals, calls := batchMetric(t, b); evals-evals0 != alone+2 || calls-calls0 != len(probes) {
		t.Errorf("%d calls answered in %d evaluations, want %d in %d", calls-calls0, evals-evals0, len(probes), alone+2)
	}
	if got := quotaUsed(t, b, "alpha"); got != used+len(probes) {
		t.Errorf("quota count %d, want %d", got, used+len(probes))
	}
	for _, r := range records(t, b) { // each call's pending record, then its answered one
		if n, ok := answered[r.RequestID]; ok && r.Outcome != audit.OutcomePending {
			if r.Kind != audit.KindQuery || r.Outcome != audit.OutcomeAnswered {
				t.Errorf("call %s: record %s %s", r.RequestID, r.Kind, r.Outcome)
			}
			answered[r.RequestID] = n + 1
		}
	}
	for rid, n := range answered {
		if n != 1 {
			t.Errorf("call %s: %d final records, want one answered", rid, n)
		}
	}
}

// TestPanicInBatchFailsItsCalls makes the evaluation of a batch of three waiting calls panic (a
// stand-in for a bug): each of the three fails with Internal and a failed record instead of
// waiting for ever, the evaluation slot is freed, and the next search is answered.
func TestPanicInBatchFailsItsCalls(t *testing.T) {
	t.Parallel()
	a, b, gal := convertingPair(t, 80)
	ctx := ctxTimeout(t, 5*time.Minute)
	used := quotaUsed(t, b, "alpha")
	h := holdSlot(b, func(_ context.Context, point string, _ error) {
		if evals, _ := batchMetric(t, b); point == "evaluated" && evals == 2 { // the batch behind the first call
			panic("evaluation bug")
		}
	})
	queued, holding, release := h.queued, h.holding, h.release
	errs := make(chan error, 4)
	for i := range 4 {
		go func() { _, err := a.Search(ctx, "beta", Probe{Raw: gal[i]}, ""); errs <- err }()
		if i == 0 {
			<-holding
		}
	}
	await(t, queued, 4, "queued")
	close(release)
	var internal int
	for range 4 {
		if err := <-errs; codeOf(err) == codes.Internal {
			internal++
		} else if err != nil {
			t.Errorf("a call: %v", err)
		}
	}
	b.hook.Store(nil)
	if evals, calls := batchMetric(t, b); internal != 3 || evals != 2 || calls != 4 {
		t.Errorf("%d calls failed with Internal, %d calls in %d evaluations: want 3, and 4 in 2", internal, calls, evals)
	}
	if got := quotaUsed(t, b, "alpha"); got != used+1 {
		t.Errorf("quota count %d, want %d (only the first call was answered)", got, used+1)
	}
	if _, err := a.Search(ctx, "beta", Probe{Raw: gal[0]}, ""); err != nil {
		t.Errorf("the next search after a panic: %v", err)
	}
}

// TestBatchLimit: a batch takes as many waiting calls as the budget holds baby steps for, at least
// one and at most he.MaxBatch, and one when the gallery keeps every block in NTT form.
func TestBatchLimit(t *testing.T) {
	ps := hetest.InsecureN11()
	rows := hetest.UnitVectors(rand.New(rand.NewPCG(90, 91)), 10, 32)
	converted, err := he.Pack(ps, len(rows[0]), rows, he.PackOptions{MemoryBudget: 0})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := he.Pack(ps, len(rows[0]), rows, he.PackOptions{MemoryBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	per := converted.BatchQueryBytes()
	if per <= 0 || kept.BatchQueryBytes() != 0 {
		t.Fatalf("BatchQueryBytes: %d converted, %d kept", per, kept.BatchQueryBytes())
	}
	for _, c := range []struct {
		g      *he.Gallery
		budget int64
		want   int
	}{
		{converted, 0, 1},
		{converted, per - 1, 1},
		{converted, 3*per + per/2, 3},
		{converted, 100 * per, he.MaxBatch},
		{kept, 100 * per, 1},
	} {
		k := batchLimit(c.g, c.budget)
		if k != c.want || (k > 1 && int64(k)*per > c.budget) {
			t.Errorf("budget %d (%.1f queries' baby steps): %d calls, want %d", c.budget, float64(c.budget)/float64(per), k, c.want)
		}
	}
}

// batchMetric reads a node's puente_search_batch_calls histogram: the Search evaluations it
// ran and the calls they answered.
func batchMetric(t *testing.T, n *testNode) (evals, calls int) {
	t.Helper()
	mfs, err := n.met.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "puente_search_batch_calls" {
			h := mf.GetMetric()[0].GetHistogram()
			return int(h.GetSampleCount()), int(h.GetSampleSum())
		}
	}
	return 0, 0
}

// TestBatchContext: a batch's context ends when the last of its calls' does, not before.
func TestBatchContext(t *testing.T) {
	var ws []*waitingSearch
	var cancels []context.CancelFunc
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		ws, cancels = append(ws, &waitingSearch{ctx: ctx}), append(cancels, cancel)
	}
	ctx, stop := batchContext(ws)
	defer stop()
	for i, cancel := range cancels {
		if ctx.Err() != nil {
			t.Fatalf("the batch's context ended with %d of its 3 calls cancelled", i)
		}
		cancel()
	}
	select {
	case <-ctx.Done():
	case <-time.After(hangLimit):
		t.Fatal("the batch's context did not end with all of its calls cancelled")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("the batch's context: %v", ctx.Err())
	}
}
