package protocol

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/puente-id/puente/he"
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
	ans  *he.Answer
	sec  *opening.Secrets
	err  error
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

// take removes and returns the first calls of the queue, at most limit of them.
func (sq *searchQueue) take(limit int) []*waitingSearch {
	sq.mu.Lock()
	defer sq.mu.Unlock()
	n := min(limit, len(sq.waiting))
	batch := slices.Clone(sq.waiting[:n])
	sq.waiting = slices.Delete(sq.waiting, 0, n)
	return batch
}

// searchTogether evaluates a Search call's probe, in a batch with the calls of the same partner
// and epoch that wait for the evaluation slot with it. Whichever waiting call takes the slot
// evaluates the calls at the front of the queue; a call taken into a batch that another call
// runs waits for its result there. A call cancelled while it waits leaves the queue; one
// cancelled inside a batch gets no answer, and the batch stops only when all of its calls are
// cancelled.
func (n *Node) searchTogether(ctx context.Context, c *matchCall, q *he.Query) (*he.Answer, *opening.Secrets, error) {
	w := &waitingSearch{ctx: ctx, c: c, q: q, done: make(chan struct{})}
	sq := &c.keys.searches
	sq.add(w)
	defer sq.remove(w) // after a panic
	n.testHook(ctx, "queued", nil)
	for {
		select {
		case <-w.done:
			return w.result()
		default:
		}
		select {
		case <-w.done:
			return w.result()
		case n.sem <- struct{}{}:
			func() {
				defer func() { <-n.sem }()
				n.answerWaiting(c, sq)
			}()
		case <-ctx.Done():
			if sq.remove(w) {
				return nil, nil, ctx.Err()
			}
			<-w.done // in a batch under way: its result is withheld below
			return w.result()
		}
	}
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

// answerWaiting evaluates the calls at the front of sq as one batch and delivers each its
// result; the caller holds an evaluation slot. c is any call of the queue: they share the
// partner and the epoch's keys.
func (n *Node) answerWaiting(c *matchCall, sq *searchQueue) {
	hg, epoch, gerr := n.packedGallery(c)
	limit := 1
	if gerr == nil {
		limit = batchLimit(hg, n.cfg.BatchMemoryBudget)
	}
	batch := sq.take(limit)
	if len(batch) == 0 {
		return
	}
	n.met.batch(len(batch))
	ctx, stop := batchContext(batch)
	defer stop()
	delivered := false
	defer func() {
		if !delivered { // a bug in the evaluation: the calls of the batch fail, not hang
			r := recover()
			deliver(batch, wire.Internal(fmt.Errorf("panic in a batch's evaluation: %v", r)))
			panic(r)
		}
	}()
	err := gerr
	if err == nil {
		err = n.evaluateWaiting(ctx, c, batch, hg, epoch)
	}
	deliver(batch, err)
	delivered = true
}

// deliver ends the wait of the batch's calls, each with err if it is not nil.
func deliver(batch []*waitingSearch, err error) {
	for _, w := range batch {
		if err != nil {
			if w.sec != nil {
				w.sec.Destroy()
			}
			w.ans, w.sec, w.err = nil, nil, err
		}
		close(w.done)
	}
}

// evaluateWaiting runs the batch's evaluation under the epoch's keys and sets each call's answer;
// an error it returns is every call's.
func (n *Node) evaluateWaiting(ctx context.Context, c *matchCall, batch []*waitingSearch, hg *he.Gallery, epoch uint64) error {
	if err := useKeys(c, epoch); err != nil {
		return err
	}
	defer c.keys.release()
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
			a, s, err := c.keys.responder.RespondBatch(w.ctx, []*he.Query{w.q}, hg, opts, n.rand)
			w.err = err
			if err == nil {
				w.ans, w.sec = a[0], s[0]
			}
			n.testHook(w.ctx, "evaluated", err)
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

// packedGallery returns the partner's gallery as packed for search, and the epoch of its
// templates.
func (n *Node) packedGallery(c *matchCall) (*he.Gallery, uint64, error) {
	g := c.p.gallery()
	if g == nil {
		return nil, 0, wire.Precondition("gallery is empty", nil)
	}
	pg, err := g.packed.Get()
	if err != nil {
		return nil, 0, err
	}
	return pg.g, pg.epoch, nil
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
