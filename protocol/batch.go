package protocol

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/puente-id/puente/he"
	"github.com/puente-id/puente/internal/workers"
	"github.com/puente-id/puente/opening"
	"github.com/puente-id/puente/protocol/wire"
)

// A partner that checks many travellers at once opens many Search calls, and they wait for the
// node's evaluation slot. The calls of one partner that wait under the same epoch's keys are
// answered together when the slot frees (he.Responder.RespondBatch): each block of the gallery
// not kept in NTT form is then converted once for all of them instead of once per call. Nothing
// else is shared: each call keeps its own header, nonce, quota reservation, audit record,
// randomness, answer and opening, and its answer is the one it would get alone
// (he TestRespondBatch). No call waits for a batch to form: a call finding the slot free is
// evaluated at once, and a batch is only what queued behind the slot meanwhile.

// waitingSearch is a Search call waiting for its evaluation.
type waitingSearch struct {
	ctx  context.Context // the call's
	c    *matchCall
	q    *he.Query
	done chan struct{} // closed once ans, sec and err are set

	mu        sync.Mutex // guards abandoned and delivered
	abandoned bool       // the call ended while in a batch: nobody takes its result
	delivered bool
	ans       *he.Answer
	sec       *opening.Secrets
	err       error
}

// searchQueue holds the Search calls waiting under one epoch's keys, in arrival order.
type searchQueue struct {
	mu      sync.Mutex
	waiting []*waitingSearch
}

func (sq *searchQueue) add(w *waitingSearch) {
	sq.mu.Lock()
	defer sq.mu.Unlock()
	sq.waiting = append(sq.waiting, w)
}

// remove takes w out of the queue and reports whether it was still there (not yet taken into a
// batch).
func (sq *searchQueue) remove(w *waitingSearch) bool {
	sq.mu.Lock()
	defer sq.mu.Unlock()
	i := slices.Index(sq.waiting, w)
	if i < 0 {
		return false
	}
	sq.waiting = slices.Delete(sq.waiting, i, i+1)
	return true
}

// take removes and returns a batch of at most limit calls, w and the first others of the queue,
// if w is still among the waiting calls; nil if it is not (another slot's batch took it). w is
// always in the batch it takes: it is the call that took the slot, and it waits for nothing else.
func (sq *searchQueue) take(w *waitingSearch, limit int) []*waitingSearch {
	sq.mu.Lock()
	defer sq.mu.Unlock()
	i := slices.Index(sq.waiting, w)
	if i < 0 {
		return nil
	}
	n := max(1, min(limit, len(sq.waiting)))
	if i < n {
		batch := slices.Clone(sq.waiting[:n])
		sq.waiting = slices.Delete(sq.waiting, 0, n)
		return batch
	}
	batch := append(slices.Clone(sq.waiting[:n-1]), w)
	sq.waiting = slices.Delete(sq.waiting, i, i+1)
	sq.waiting = slices.Delete(sq.waiting, 0, n-1)
	return batch
}

// searchTogether evaluates a Search call's probe, in a batch with the calls of the same partner
// and epoch that wait for the evaluation slot with it. Whichever waiting call takes the slot
// starts the evaluation of the calls at the front of the queue, in a goroutine that holds the
// slot (runWaiting), and waits for its result like every other call of the batch. A call
// cancelled while it waits leaves the queue; one cancelled inside a batch returns at once, the
// call that took the slot included, and its answer is destroyed when the batch ends, which
// happens early only if all of its calls are cancelled.
func (n *Node) searchTogether(ctx context.Context, c *matchCall, q *he.Query) (*he.Answer, *opening.Secrets, error) {
	w := &waitingSearch{ctx: ctx, c: c, q: q, done: make(chan struct{})}
	sq := &c.keys.searches
	sq.add(w)
	n.testHook(ctx, "queued", nil)
	select {
	case <-w.done:
		return w.result()
	default:
	}
	select {
	case <-w.done:
		return w.result()
	case n.sem <- struct{}{}:
		n.bg.Add(1)
		go n.runWaiting(w, sq)
		select {
		case <-w.done:
			return w.result()
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	if sq.remove(w) {
		return nil, nil, ctx.Err()
	}
	return w.abandon()
}

// runWaiting runs answerWaiting in the evaluation slot its caller took, gives the slot back, and
// counts as the node's background work, which Close waits for: the evaluation can outlast the
// call that started it.
func (n *Node) runWaiting(w *waitingSearch, sq *searchQueue) {
	defer n.bg.Done()
	defer func() { <-n.sem }()
	n.answerWaiting(w, sq)
}

// result returns the call's answer, unless the call was cancelled meanwhile: an answer nobody
// waits for is destroyed, not sent.
func (w *waitingSearch) result() (*he.Answer, *opening.Secrets, error) {
	if err := w.ctx.Err(); err != nil && w.err == nil {
		if w.sec != nil {
			w.sec.Destroy()
		}
		return nil, nil, err
	}
	return w.ans, w.sec, w.err
}

// abandon ends the wait of a call cancelled inside a batch under way: its result, if it was not
// delivered yet, will be destroyed on delivery.
func (w *waitingSearch) abandon() (*he.Answer, *opening.Secrets, error) {
	w.mu.Lock()
	if !w.delivered {
		w.abandoned = true
		w.mu.Unlock()
		return nil, nil, w.ctx.Err()
	}
	w.mu.Unlock()
	<-w.done
	return w.result()
}

// answerWaiting evaluates the calls at the front of sq as one batch, if w is still among them
// (another slot's batch may have taken it), and delivers each its result, or Internal if the
// evaluation panics. The caller holds an evaluation slot.
// The calls of sq share the partner and the epoch's keys.
func (n *Node) answerWaiting(w *waitingSearch, sq *searchQueue) {
	var batch []*waitingSearch
	delivered := false
	defer func() {
		// A bug: the calls of the batch (or w, if it panicked before taking one) fail with
		// Internal, each audited and refunded by its own handler, and the node goes on; no
		// handler is above this goroutine to recover the panic.
		r := recover()
		if r == nil {
			return
		}
		n.log.Error("panic in a batch's evaluation", "panic", fmt.Sprint(r), "stack", string(workers.Stack(r)))
		if delivered {
			return
		}
		if batch == nil && sq.remove(w) {
			batch = []*waitingSearch{w}
		}
		deliver(batch, wire.Internal(fmt.Errorf("panic in a batch's evaluation: %v", r)))
	}()
	c := w.c
	err := useKeys(c)
	var hg *he.Gallery
	if err == nil {
		defer c.keys.release()
		hg, err = n.packedGallery(c)
	}
	limit := 1
	if err == nil {
		limit = batchLimit(hg, n.cfg.BatchMemoryBudget)
	}
	if batch = sq.take(w, limit); batch == nil {
		return
	}
	if err == nil {
		n.met.batch(len(batch))
		ctx, stop := batchContext(batch)
		defer stop()
		err = n.evaluateWaiting(ctx, c, batch, hg)
	}
	delivered = true // once, even if deliver itself failed
	deliver(batch, err)
}

// deliver ends the wait of the batch's calls, each with err if it is not nil, and destroys the
// answers of the calls that ended meanwhile.
func deliver(batch []*waitingSearch, err error) {
	for _, w := range batch {
		w.mu.Lock()
		if err != nil || w.abandoned {
			if w.sec != nil {
				w.sec.Destroy()
			}
			w.ans, w.sec = nil, nil
		}
		if err != nil {
			w.err = err
		}
		w.delivered = true
		w.mu.Unlock()
		close(w.done)
	}
}

// evaluateWaiting runs the batch's evaluation and sets each call's answer; an error it returns
// is every call's.
func (n *Node) evaluateWaiting(ctx context.Context, c *matchCall, batch []*waitingSearch, hg *he.Gallery) error {
	for _, w := range batch {
		n.testHook(w.ctx, "evaluate", nil)
	}
	opts := he.Options{Threshold: he.Threshold{Tau: c.p.cfg.Threshold}}
	qs := make([]*he.Query, len(batch))
	for i, w := range batch {
		qs[i] = w.q
	}
	ans, sec, err := c.keys.responder.RespondBatch(ctx, qs, hg, opts, n.rand)
	if err != nil && len(batch) > 1 && ctx.Err() == nil {
		// Not the batch's cancellation: a probe the batch refused must cost the other calls
		// nothing, so each is evaluated alone and gets its own error, if any.
		for _, w := range batch {
			w.ans, w.sec, w.err = c.keys.responder.Respond(w.ctx, w.q, hg, opts, n.rand)
			n.testHook(w.ctx, "evaluated", w.err)
		}
		return nil
	}
	for i, w := range batch {
		if err == nil {
			w.ans, w.sec = ans[i], sec[i]
		}
		n.testHook(w.ctx, "evaluated", err)
	}
	return err
}

// packedGallery returns the partner's gallery as packed for search, refused if it was
// re-protected under a new epoch since the call was admitted.
func (n *Node) packedGallery(c *matchCall) (*he.Gallery, error) {
	g := c.p.gallery()
	if g == nil {
		return nil, wire.Precondition("gallery is empty", nil)
	}
	pg, err := g.packed.Get()
	if err != nil {
		return nil, err
	}
	if err := checkEpoch(c, pg.epoch); err != nil {
		return nil, err
	}
	return pg.g, nil
}

// batchLimit is how many waiting calls one batch on g answers: as many as budget bytes hold
// (he.Gallery.BatchQueryBytes each), at most he.MaxBatch and at least one; one when every block
// of g is kept in NTT form, since a batch then shares nothing and would only make its first
// calls wait for its last.
func batchLimit(g *he.Gallery, budget int64) int {
	per := g.BatchQueryBytes()
	if per == 0 || budget <= 0 {
		return 1
	}
	return int(max(1, min(int64(he.MaxBatch), budget/per)))
}

// batchContext returns a context that is done once every call of the batch is done, so that the
// batch stops only when no call is left to answer, and a function that releases it.
func batchContext(batch []*waitingSearch) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var left atomic.Int64
	left.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, w := range batch {
		stops[i] = context.AfterFunc(w.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, s := range stops {
			s()
		}
		cancel()
	}
}
