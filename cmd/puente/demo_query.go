package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/puente-id/puente/internal/demo"
	"github.com/puente-id/puente/protect"
	"github.com/puente-id/puente/protocol"
)

// demoProbe is a probe the demo sends, with the plaintext answer only the demo can compute.
type demoProbe struct {
	kind     string // "mated" or "non-mated"
	row      int    // row in data/mated.json or data/non-mated.json
	features []float64
	subject  string  // the enrolled subject's reference, for a mated probe
	score    float64 // best plaintext score of the protected templates
	expected bool    // score >= tau
}

// demoPlan is the probes the demo sends.
type demoPlan struct {
	mated, nonMated, verify demoProbe
	skipped                 int // candidates passed over because their plaintext answer was not clear
}

// plan protects the gallery (on co-migracion's node) and the probe candidates (on us-cbp's) under
// the current epoch and picks, from the plaintext scores, the first candidates whose answer is
// clear: a mated and a non-mated probe for Search and another mated probe for Verify.
func (d *demoRun) plan(ctx context.Context) (*demoPlan, error) {
	gal, e1, err := d.co.op.Protect(ctx, demoQuerier, d.pop.Gallery)
	if err != nil {
		return nil, err
	}
	var cands [][]float64
	for _, p := range append(append([]demo.Probe(nil), d.pop.Mated...), d.pop.NonMated...) {
		cands = append(cands, p.Features)
	}
	prot, e2, err := d.us.op.Protect(ctx, demoResponder, cands)
	if err != nil {
		return nil, err
	}
	if e1 != e2 {
		return nil, fmt.Errorf("the nodes protect under epochs %d and %d", e1, e2)
	}
	k := len(d.pop.Mated)
	matedBest, nonBest := demo.BestScores(gal, prot[:k]), demo.BestScores(gal, prot[k:])
	im, s1, ok1 := demo.PickClear(matedBest, demoTau, demoMargin, true)
	in, s2, ok2 := demo.PickClear(nonBest, demoTau, demoMargin, false)
	// Verify compares with the one enrolled template of the subject's reference.
	own := make([]float64, k)
	for i, p := range d.pop.Mated {
		own[i] = protect.Dot(prot[i], gal[p.Subject])
		if i <= im {
			own[i] = -1 // not the search's probe, nor one passed over
		}
	}
	iv, _, ok3 := demo.PickClear(own, demoTau, demoMargin, true)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("too few of the %d candidate probes of each kind have a clear plaintext answer (outside tau ± %g); try another -seed", k, demoMargin)
	}
	probe := func(kind string, row int, score float64) demoProbe {
		p := demoProbe{kind: kind, row: row, score: score, expected: score >= demoTau}
		if kind == "mated" {
			p.features, p.subject = d.pop.Mated[row].Features, d.pop.Refs[d.pop.Mated[row].Subject]
		} else {
			p.features = d.pop.NonMated[row].Features
		}
		return p
	}
	return &demoPlan{mated: probe("mated", im, matedBest[im]), nonMated: probe("non-mated", in, nonBest[in]),
		verify: probe("mated", iv, own[iv]), skipped: s1 + s2 + (iv - im - 1)}, nil
}

// queries runs the searches and the verification.
func (d *demoRun) queries(ctx context.Context) error {
	o := d.out
	p, err := d.plan(ctx)
	if err != nil {
		return err
	}
	o.header("%s searches %s's gallery (1:N); it learns hit or no-hit, nothing else", demoQuerier, demoResponder)
	for _, q := range []demoProbe{p.mated, p.nonMated} {
		what := "someone never enrolled:"
		if q.kind == "mated" {
			what = "new capture of enrolled " + q.subject + ":"
		}
		err := d.query(ctx, "search", what, q, func() (*protocol.Result, error) {
			return d.us.op.Search(ctx, demoResponder, protocol.Probe{Raw: q.features}, "")
		})
		if err != nil {
			return err
		}
	}
	o.cmd("search -home %s -partner %s -rows %d data/mated.json", demoQuerier, demoResponder, p.mated.row)
	o.cmd("search -home %s -partner %s -rows %d data/non-mated.json", demoQuerier, demoResponder, p.nonMated.row)

	v := p.verify
	o.header("%s verifies a traveller against %s's reference for %s (1:1)", demoQuerier, demoResponder, v.subject)
	labels, err := d.co.op.References(ctx, demoQuerier, []string{v.subject})
	if err != nil {
		return err
	}
	o.say("%s gave %s the opaque reference %s for its subject %s.", demoResponder, demoQuerier, labels[0], v.subject)
	err = d.query(ctx, "verify", "new capture of "+v.subject+":", v, func() (*protocol.Result, error) {
		return d.us.op.Verify(ctx, demoResponder, labels[0], protocol.Probe{Raw: v.features}, "")
	})
	if err != nil {
		return err
	}
	o.cmd("verify -home %s -partner %s -reference %s -rows %d data/mated.json", demoQuerier, demoResponder, labels[0], v.row)
	return d.check(ctx, p)
}

// query runs one Search or Verify, prints its decision, cost and time, and notes a decision that
// differs from the plaintext answer.
func (d *demoRun) query(_ context.Context, step, what string, q demoProbe, call func() (*protocol.Result, error)) error {
	s0, r0 := d.wire()
	t := time.Now()
	res, err := call()
	if err != nil {
		return fmt.Errorf("%s (%s probe): %w", step, q.kind, err)
	}
	took := time.Since(t)
	s1, r1 := d.wire()
	d.out.say("%-36s %-7s %5s, %s sent, %s back", what, decision(res.Hit), secs(took), mb(s1-s0), mb(r1-r0))
	d.out.event(demoEvent{Step: step, Node: demoQuerier, Partner: demoResponder, Probe: q.kind, Subject: q.subject,
		Hit: ptr(res.Hit), Expected: ptr(q.expected), BestScore: ptr(q.score), Request: res.RequestID,
		Epoch: res.Epoch, HESent: res.BytesSent, HERecv: res.BytesRecv, WireSent: s1 - s0, WireRecv: r1 - r0, ElapsedMS: took.Milliseconds()})
	if res.Hit != q.expected {
		d.mismatch = append(d.mismatch, fmt.Sprintf("%s of a %s probe: %s, plaintext answer %s", step, q.kind, decision(res.Hit), decision(q.expected)))
	}
	return nil
}

// check is the last step: the decisions against the plaintext answers, then both nodes stopped
// and their audit logs verified.
func (d *demoRun) check(ctx context.Context, p *demoPlan) error {
	o := d.out
	o.header("Check and stop")
	if len(d.mismatch) == 0 {
		o.say("Every decision equals the plaintext answer, which only the demo can compute (it made")
		o.say("both sides' data): protected scores %.3f (mated), %.3f (non-mated, best in the gallery)", p.mated.score, p.nonMated.score)
		o.say("and %.3f (verification), against tau = %g.", p.verify.score, demoTau)
	}
	switch {
	case p.skipped == 1:
		o.say("(1 candidate probe was passed over: its plaintext score was within %g of tau.)", demoMargin)
	case p.skipped > 1:
		o.say("(%d candidate probes were passed over: their plaintext scores were within %g of tau.)", p.skipped, demoMargin)
	}
	if err := d.stopNodes(); err != nil {
		return err
	}
	for _, n := range []*demoNode{d.us, d.co} {
		recs, err := n.verifyAudit(ctx)
		if err != nil {
			return err
		}
		o.say("%-13s stopped cleanly; its audit log verifies: %d signed, hash-chained records.", n.name, recs)
		o.event(demoEvent{Step: "stop", Node: n.name, AuditRecords: recs})
	}
	if len(d.mismatch) > 0 {
		return fmt.Errorf("%d decisions differ from the plaintext answer: %v", len(d.mismatch), d.mismatch)
	}
	return nil
}

// stopNodes stops both node processes and the relays; it may be called more than once.
func (d *demoRun) stopNodes() error {
	var err error
	for _, n := range []*demoNode{d.us, d.co} {
		if n == nil {
			continue
		}
		err = errors.Join(err, n.stop())
		n.release()
		if n.relay != nil {
			n.relay.Close()
		}
	}
	return err
}

// finish prints the end of the demo.
func (d *demoRun) finish(err error, kept bool) {
	took := time.Since(d.start)
	d.out.event(demoEvent{Step: "done", Dir: d.dir, ElapsedMS: took.Milliseconds(), AsExpected: ptr(err == nil && len(d.mismatch) == 0), Kept: kept})
	switch {
	case err != nil:
		d.out.plain("\nThe demo failed after %s; its files and both nodes' logs (serve.log) are in %s.", secs(took), d.dir)
	case kept:
		d.out.plain("\nDone in %s. Both nodes' homes, their logs and the synthetic data are in %s.", secs(took), d.dir)
	default:
		d.out.plain("\nDone in %s. The working directory was removed (-keep keeps it).", secs(took))
	}
}
