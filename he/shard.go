package he

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"

	"github.com/puente-id/puente/opening"
)

// # Sharded evaluation
//
// [Responder.Respond] runs in one process. For a gallery spread over
// several machines the same circuit is split in three:
//
//  1. [Responder.Prepare], on the node (it needs the responder's secret
//     share): the query becomes a ciphertext under the collective key, is
//     rerandomised and projected onto the gallery's period. The result, a
//     [Probe], is a fresh RLWE ciphertext under s_Q + s_R that neither
//     party's share alone decrypts.
//  2. [ShardEvaluator.Count], on each shard (public evaluation keys only):
//     scores, thresholds and sums the shard's blocks into a [Partial], the
//     encrypted count of its entries at or above τ, at level 0.
//  3. [Responder.Finish], on the node: sums the partials (an addition of
//     ciphertexts is the same sum of blocks Respond makes), computes the
//     probe's norm, then the tag and the masked decryption shares exactly
//     as Respond does. The querier receives an [Answer] of the same form
//     and size; the window of the count covers the entries of all shards.
//
// The bound of maxAnswerBlocks holds for all shards together: Finish
// refuses partials whose blocks add up to more.

// A Probe is a query as the responder's node forwards it to its shards: the
// rerandomised, projected ciphertext under the collective key, at the top
// level, with the dimension of the templates it scores.
type Probe struct {
	ps     *ParamSet
	id     KeySetID
	query  [32]byte // digest of the query it was prepared from
	dims   int
	ct     *rlwe.Ciphertext
	raw    []byte
	digest [32]byte
}

// Probe encoding (kind probe):
//
//	header | key-set ID [32] | query digest [32] | dims u16 | c0, c1 at the top level

func (ps *ParamSet) probeWireSize() int {
	return headerSize + 32 + 32 + 2 + 2*ps.polySizeQ(ps.topLevel())
}

// MarshalBinary returns the probe's wire encoding.
func (p *Probe) MarshalBinary() ([]byte, error) { return append([]byte(nil), p.raw...), nil }

// Digest returns the SHA-256 of the probe's encoding; a [Partial] names the
// probe it answers by it.
func (p *Probe) Digest() [32]byte { return p.digest }

// Dims returns the template dimension the probe scores.
func (p *Probe) Dims() int { return p.dims }

// KeySetID returns the key set the probe is encrypted under.
func (p *Probe) KeySetID() KeySetID { return p.id }

func (p *Probe) encode() {
	ps := p.ps
	e := newEncoder(kindProbe, ps, ps.probeWireSize())
	e.raw(p.id[:])
	e.raw(p.query[:])
	e.u16(uint16(p.dims))
	e.poly(p.ct.Value[0], ps.qAt(ps.topLevel()))
	e.poly(p.ct.Value[1], ps.qAt(ps.topLevel()))
	p.raw = e.b
	p.digest = sha256.Sum256(p.raw)
}

// probeScale is the scale of a projected probe of padded dimension pad.
func (ps *ParamSet) probeScale(pad int) rlwe.Scale {
	return rlwe.NewScale(float64(uint64(1) << ps.spec.LogProbeScale)).Mul(rlwe.NewScale(float64(ps.Slots() / pad)))
}

// ReadProbe decodes and validates a probe for parameter set ps.
func ReadProbe(ps *ParamSet, b []byte) (*Probe, error) {
	d := newDecoder(b, kindProbe, ps)
	p := &Probe{ps: ps}
	p.id = d.bytes32("key-set ID")
	p.query = d.bytes32("query digest")
	p.dims = int(d.u16("dims"))
	if d.err != nil {
		return nil, d.err
	}
	if len(b) != ps.probeWireSize() {
		return nil, malformed(d.obj, "length", "got %d bytes, want %d", len(b), ps.probeWireSize())
	}
	if p.dims < 1 || p.dims > ps.Slots()/2 {
		return nil, malformed(d.obj, "dims", "%d outside [1, %d]", p.dims, ps.Slots()/2)
	}
	top := ps.topLevel()
	p.ct = ckks.NewCiphertext(ps.params, 1, top)
	d.poly("c0", ps.qAt(top), p.ct.Value[0])
	d.poly("c1", ps.qAt(top), p.ct.Value[1])
	if err := d.finish(); err != nil {
		return nil, err
	}
	p.ct.Scale = ps.probeScale(padDims(p.dims))
	p.raw = append([]byte(nil), b...)
	p.digest = sha256.Sum256(p.raw)
	return p, nil
}

// A Partial is one shard's encrypted count: the sum over its blocks of the
// thresholded scores, at level 0 and the count scale, for the probe it
// names.
type Partial struct {
	ps     *ParamSet
	id     KeySetID
	probe  [32]byte
	blocks int
	ct     *rlwe.Ciphertext
	raw    []byte
}

// Partial encoding (kind partial):
//
//	header | key-set ID [32] | probe digest [32] | blocks u32 | c0, c1 at level 0

func (ps *ParamSet) partialWireSize() int {
	return headerSize + 32 + 32 + 4 + 2*ps.polySizeQ(answerLevel)
}

// MarshalBinary returns the partial's wire encoding.
func (p *Partial) MarshalBinary() ([]byte, error) { return append([]byte(nil), p.raw...), nil }

// Blocks returns the number of blocks (of S entries) the partial counts.
func (p *Partial) Blocks() int { return p.blocks }

// ProbeDigest returns the digest of the probe the partial answers.
func (p *Partial) ProbeDigest() [32]byte { return p.probe }

func (p *Partial) encode() {
	ps := p.ps
	e := newEncoder(kindPartial, ps, ps.partialWireSize())
	e.raw(p.id[:])
	e.raw(p.probe[:])
	e.u32(uint32(p.blocks))
	e.poly(p.ct.Value[0], ps.qAt(answerLevel))
	e.poly(p.ct.Value[1], ps.qAt(answerLevel))
	p.raw = e.b
}

// ReadPartial decodes and validates a partial for parameter set ps.
func ReadPartial(ps *ParamSet, b []byte) (*Partial, error) {
	d := newDecoder(b, kindPartial, ps)
	p := &Partial{ps: ps}
	p.id = d.bytes32("key-set ID")
	p.probe = d.bytes32("probe digest")
	p.blocks = int(d.u32("blocks"))
	if d.err != nil {
		return nil, d.err
	}
	if len(b) != ps.partialWireSize() {
		return nil, malformed(d.obj, "length", "got %d bytes, want %d", len(b), ps.partialWireSize())
	}
	if p.blocks > ps.maxAnswerBlocks() {
		return nil, malformed(d.obj, "blocks", "%d exceed the %d an answer counts", p.blocks, ps.maxAnswerBlocks())
	}
	p.ct = ckks.NewCiphertext(ps.params, 1, answerLevel)
	d.poly("c0", ps.qAt(answerLevel), p.ct.Value[0])
	d.poly("c1", ps.qAt(answerLevel), p.ct.Value[1])
	if err := d.finish(); err != nil {
		return nil, err
	}
	p.ct.Scale = ps.countScale()
	p.raw = append([]byte(nil), b...)
	return p, nil
}

// Prepare runs the first step of a sharded evaluation: the query under the
// collective key, rerandomised with a fresh encryption of zero (randomness
// from rand), projected onto the probes of the query's period. The probe it
// returns may be sent to shards: it is a fresh RLWE ciphertext under
// s_Q + s_R and carries nothing of the responder's share.
func (r *Responder) Prepare(q *Query, rand io.Reader) (*Probe, error) {
	switch {
	case q == nil:
		return nil, fmt.Errorf("he: prepare: nil query")
	case q.ps != r.ps:
		return nil, mismatch("query", "parameter set", "decoded for %s, responder uses %s", q.ps.Name(), r.ps.Name())
	case q.id != r.keys.id:
		return nil, mismatch("query", "key-set ID", "encrypted for another key set")
	case padDims(q.dims) > r.keys.maxDims:
		return nil, mismatch("query", "dims", "padded dims %d exceed the key set's %d", padDims(q.dims), r.keys.maxDims)
	}
	prng, err := newPRNG(rand)
	if err != nil {
		return nil, err
	}
	ct := r.toCollective(q)
	if err := r.addZero(ct, prng); err != nil {
		return nil, err
	}
	if err := r.project(r.keySwitchEvaluators(), ct, padDims(q.dims)); err != nil {
		return nil, err
	}
	p := &Probe{ps: r.ps, id: r.keys.id, query: q.Digest(), dims: q.dims, ct: ct}
	p.encode()
	return p, nil
}

// Finish runs the last step of a sharded evaluation: the sum of the shards'
// partials, the probe's norm, then the tag and the masked decryption shares
// as [Responder.Respond] makes them. Every partial must answer p, and p
// must come from q. The caller must pass the partials of every shard: a
// missing one would silently answer for part of the gallery.
func (r *Responder) Finish(q *Query, p *Probe, parts []*Partial, rand io.Reader) (*Answer, *opening.Secrets, error) {
	switch {
	case q == nil || p == nil:
		return nil, nil, fmt.Errorf("he: finish: nil query or probe")
	case q.ps != r.ps || p.ps != r.ps:
		return nil, nil, mismatch("probe", "parameter set", "decoded for another set")
	case p.id != r.keys.id || q.id != r.keys.id:
		return nil, nil, mismatch("probe", "key-set ID", "made for another key set")
	case p.query != q.Digest() || p.dims != q.dims:
		return nil, nil, mismatch("probe", "query digest", "prepared from another query")
	case len(parts) == 0:
		return nil, nil, fmt.Errorf("he: finish: no partial counts")
	}
	blocks := 0
	for i, pt := range parts {
		switch {
		case pt == nil:
			return nil, nil, fmt.Errorf("he: finish: partial %d is nil", i)
		case pt.ps != r.ps:
			return nil, nil, mismatch("partial", "parameter set", "decoded for another set")
		case pt.id != r.keys.id:
			return nil, nil, mismatch("partial", "key-set ID", "made for another key set")
		case pt.probe != p.digest:
			return nil, nil, mismatch("partial", "probe digest", "partial %d answers another probe", i)
		}
		blocks += pt.blocks
	}
	if blocks == 0 {
		return nil, nil, fmt.Errorf("he: finish: empty gallery")
	}
	if blocks*r.ps.Slots() > r.ps.maxEntries() {
		return nil, nil, fmt.Errorf("he: finish: %d blocks exceed the %d entries an answer counts", blocks, r.ps.maxEntries())
	}
	prng, err := newPRNG(rand)
	if err != nil {
		return nil, nil, err
	}
	evals := r.keySwitchEvaluators()
	eval := evals[0]
	pad := padDims(p.dims)
	norm, err := r.norm(evals, p.ct, p.dims, pad)
	if err != nil {
		return nil, nil, err
	}
	count := ckks.NewCiphertext(r.ps.params, 1, answerLevel)
	count.Scale = r.ps.countScale()
	for _, pt := range parts {
		if pt.blocks == 0 {
			continue
		}
		if err := eval.Add(count, pt.ct, count); err != nil {
			return nil, nil, fmt.Errorf("he: sum partials: %w", err)
		}
	}
	return r.answer(q, count, norm, blocks*r.ps.Slots(), pad, prng)
}

// A ShardEvaluator computes partial counts with the public evaluation keys
// alone: it holds no secret share, and what it computes and returns stays
// encrypted under the collective key. It is safe for concurrent use.
type ShardEvaluator struct {
	r *Responder // without a share: only the methods that need none are called
}

// NewShardEvaluator returns a shard's evaluator for the key set of keys.
func NewShardEvaluator(keys *EvaluationKeys) (*ShardEvaluator, error) {
	if keys == nil {
		return nil, fmt.Errorf("he: shard: missing evaluation keys")
	}
	return &ShardEvaluator{r: newResponder(keys, nil)}, nil
}

// KeySetID returns the key set the evaluator's keys belong to.
func (s *ShardEvaluator) KeySetID() KeySetID { return s.r.keys.id }

// Count scores probe p against every entry of g, thresholds the scores and
// returns their encrypted sum (steps 3 of [Responder.Respond] for the
// shard's blocks). A nil or empty g counts nothing: its partial holds zero
// blocks and an all-zero ciphertext, so that a shard with no entries still
// answers. Count checks ctx between blocks.
func (s *ShardEvaluator) Count(ctx context.Context, p *Probe, g *Gallery, opts Options) (*Partial, error) {
	r := s.r
	switch {
	case p == nil:
		return nil, fmt.Errorf("he: count: nil probe")
	case p.ps != r.ps:
		return nil, mismatch("probe", "parameter set", "decoded for %s, shard uses %s", p.ps.Name(), r.ps.Name())
	case p.id != r.keys.id:
		return nil, mismatch("probe", "key-set ID", "encrypted for another key set")
	case padDims(p.dims) > r.keys.maxDims:
		return nil, mismatch("probe", "dims", "padded dims %d exceed the key set's %d", padDims(p.dims), r.keys.maxDims)
	}
	if err := opts.Threshold.validate(r.ps); err != nil {
		return nil, err
	}
	out := &Partial{ps: r.ps, id: r.keys.id, probe: p.digest}
	if g == nil || g.size == 0 {
		out.ct = ckks.NewCiphertext(r.ps.params, 1, answerLevel)
		out.encode()
		return out, nil
	}
	switch {
	case g.ps != r.ps:
		return nil, mismatch("gallery", "parameter set", "packed for %s, shard uses %s", g.ps.Name(), r.ps.Name())
	case g.dims != p.dims:
		return nil, mismatch("probe", "dims", "probe has %d, gallery %d", p.dims, g.dims)
	case len(g.blocks)*r.ps.Slots() > r.ps.maxEntries():
		return nil, fmt.Errorf("he: count: %d blocks exceed the %d entries an answer counts", len(g.blocks), r.ps.maxEntries())
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	evals := r.evaluators(r.blockWorkers(g, opts.Workers))
	rots, err := r.babySteps(ctx, p.ct.CopyNew(), g.n1, evals)
	if err != nil {
		return nil, err
	}
	steps, err := r.thresholdBlocks(ctx, g, [][]*rlwe.Ciphertext{rots}, opts, evals)
	if err != nil {
		return nil, err
	}
	counts, err := sumBlocks(evals[0], steps)
	if err != nil {
		return nil, err
	}
	out.blocks, out.ct = len(g.blocks), counts[0]
	out.encode()
	return out, nil
}

// PreparedProbeBytes is the size of a prepared probe's encoding (node to each shard).
func (ps *ParamSet) PreparedProbeBytes() int { return ps.probeWireSize() }

// PartialBytes is the size of a partial count's encoding (each shard to the node).
func (ps *ParamSet) PartialBytes() int { return ps.partialWireSize() }
