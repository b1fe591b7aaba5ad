package opening

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"sync"
)

var (
	// ErrMalformed reports a message that does not parse: wrong size, wrong
	// circuit, values out of range.
	ErrMalformed = errors.New("opening: malformed message")
	// ErrCheating reports a garbler whose labels match neither output
	// commitment. An honest garbler never causes it: the evaluator must treat
	// it as proof that the responder deviated from the protocol.
	ErrCheating = errors.New("opening: the garbled circuit does not open (the responder deviated from the protocol)")
	// ErrState reports a side used twice or out of order.
	ErrState = errors.New("opening: step taken twice or out of order")
)

// Message sizes, fixed by the parameters.

func (p Params) tablesBytes(c *circuit) int { return c.tableEntries() * labelBytes }

// GarbledBytes is the size of the garbler's first message.
func (p Params) GarbledBytes() int {
	c, _ := decisionCircuit(p)
	return 32 + p.tablesBytes(c) + c.garblerIn*labelBytes + 2*len(c.outputs)*labelBytes + extBaseRequestBytes
}

// TransferRequestBytes is the size of the evaluator's transfer request.
func (p Params) TransferRequestBytes() int { return extRequestBytes(circuitOf(p).l.evaluator) }

// TransferResponseBytes is the size of the garbler's transfer answer.
func (p Params) TransferResponseBytes() int { return extAnswerBytes(circuitOf(p).l.evaluator) }

// ANDGates is the number of AND gates of the decision circuit (each costs
// two 16-byte table entries, or one when an input is the garbler's).
func (p Params) ANDGates() int { c, _ := decisionCircuit(p); return c.ands + c.andsG }

type built struct {
	c      *circuit
	l      layout
	digest [32]byte
}

var circuits sync.Map // Params -> built

// circuitOf returns the (cached) decision circuit of p, its layout and
// digest. Parameters that Validate refuses have an empty circuit, so that
// the sizes and the digest of any Params are defined (Garble and
// NewEvaluator refuse them).
func circuitOf(p Params) built {
	if v, ok := circuits.Load(p); ok {
		return v.(built)
	}
	if p.Validate() != nil {
		b := built{c: &circuit{}}
		b.digest = circuitDigest(p, b.c)
		circuits.Store(p, b)
		return b
	}
	c, l := newDecisionCircuit(p)
	if err := c.check(); err != nil {
		panic(err) // the builder produced a malformed circuit: a programming error
	}
	b := built{c: c, l: l, digest: circuitDigest(p, c)}
	circuits.Store(p, b)
	return b
}

// decisionCircuit returns the (cached) decision circuit of p.
func decisionCircuit(p Params) (*circuit, layout) {
	b := circuitOf(p)
	return b.c, b.l
}

// A Garbler is the responder's side of one opening. It is used once.
type Garbler struct {
	p       Params
	session []byte
	c       *circuit
	l       layout
	g       *garbling
	ext     *extSender
	done    bool
}

// Garble garbles the decision circuit for the responder's secrets s, bound
// to session (a value both parties derive from the query), and returns the
// garbler with its first message: the circuit's digest, the garbled tables,
// the labels of the responder's inputs, the commitments to both labels of
// the output and the request of the base transfers (ext.go). The secrets
// are not kept.
func Garble(p Params, s *Secrets, session []byte, rand io.Reader) (*Garbler, []byte, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if err := s.validate(p); err != nil {
		return nil, nil, err
	}
	c, l := decisionCircuit(p)
	bitsIn := l.garblerBits(s, p)
	defer clear(bitsIn)
	g, err := garble(c, bitsIn, rand)
	if err != nil {
		return nil, nil, err
	}
	ext, baseReq, err := newExtSender(append([]byte(nil), session...), l.evaluator, rand)
	if err != nil {
		g.destroy()
		return nil, nil, err
	}
	msg := make([]byte, 0, p.GarbledBytes())
	d := p.Digest()
	msg = append(msg, d[:]...)
	var buf [labelBytes]byte
	for _, t := range g.table {
		t.bytes(buf[:])
		msg = append(msg, buf[:]...)
	}
	for w, v := range bitsIn {
		g.input(w, v).bytes(buf[:])
		msg = append(msg, buf[:]...)
	}
	for i, o := range c.outputs {
		c0 := outputCommitment(session, i, g.zero[o])
		c1 := outputCommitment(session, i, g.zero[o].xor(g.r))
		msg = append(msg, c0[:]...)
		msg = append(msg, c1[:]...)
	}
	msg = append(msg, baseReq...)
	return &Garbler{p: p, session: append([]byte(nil), session...), c: c, l: l, g: g, ext: ext}, msg, nil
}

// Transfer answers the evaluator's transfer request with the labels of its
// inputs, by oblivious transfer (extended from the base transfers of the
// first message). It may be called once; the garbler's secrets are
// destroyed afterwards.
func (g *Garbler) Transfer(req []byte, rand io.Reader) ([]byte, error) {
	if g.done {
		return nil, ErrState
	}
	g.done = true
	defer g.Destroy()
	pairs := make([][2]label, g.l.evaluator)
	for i := range pairs {
		w := g.c.garblerIn + i
		pairs[i] = [2]label{g.g.input(w, 0), g.g.input(w, 1)}
	}
	defer clear(pairs)
	return g.ext.send(req, pairs)
}

// Destroy zeroes the garbler's secrets (when the evaluator never asks).
func (g *Garbler) Destroy() {
	g.done = true
	g.g.destroy()
	g.ext.destroy()
}

// An Evaluator is the querier's side of one opening. It is used once.
type Evaluator struct {
	p       Params
	session []byte
	c       *circuit
	table   []label
	gIn     []label
	commit  [][2][16]byte
	ext     *extReceiver
	done    bool
}

// NewEvaluator reads the garbler's first message and makes the transfer
// request for the querier's four values x (its decrypted, masked shares of
// the count, the two norms and the tag).
func NewEvaluator(p Params, session []byte, msg []byte, x Inputs, rand io.Reader) (*Evaluator, []byte, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	for _, v := range x {
		if v >= p.Q {
			return nil, nil, errors.New("opening: a share is not reduced modulo Q")
		}
	}
	return newEvaluator(p, session, msg, x, rand)
}

// newEvaluator is NewEvaluator after its checks of p and x. (Tests run it
// on unreduced x: what a querier that chooses its own transfer choice bits
// can input.)
func newEvaluator(p Params, session []byte, msg []byte, x Inputs, rand io.Reader) (*Evaluator, []byte, error) {
	c, l := decisionCircuit(p)
	if len(msg) != p.GarbledBytes() {
		return nil, nil, fmt.Errorf("%w: garbled circuit of %d bytes, want %d", ErrMalformed, len(msg), p.GarbledBytes())
	}
	d := p.Digest()
	if subtle.ConstantTimeCompare(msg[:32], d[:]) != 1 {
		return nil, nil, fmt.Errorf("%w: garbled circuit for other parameters", ErrMalformed)
	}
	e := &Evaluator{p: p, session: append([]byte(nil), session...), c: c}
	pos := 32
	next := func() label { l := labelFrom(msg[pos : pos+labelBytes]); pos += labelBytes; return l }
	e.table = make([]label, c.tableEntries())
	for i := range e.table {
		e.table[i] = next()
	}
	e.gIn = make([]label, c.garblerIn)
	for i := range e.gIn {
		e.gIn[i] = next()
	}
	e.commit = make([][2][16]byte, len(c.outputs))
	for i := range e.commit {
		copy(e.commit[i][0][:], msg[pos:pos+16])
		copy(e.commit[i][1][:], msg[pos+16:pos+32])
		pos += 32
	}
	bitsIn := l.evaluatorBits(x)
	defer clear(bitsIn)
	var req []byte
	var err error
	if e.ext, req, err = newExtReceiver(e.session, msg[pos:], bitsIn, rand); err != nil {
		return nil, nil, err
	}
	return e, req, nil
}

// Finish takes the garbler's transfer answer, evaluates the circuit and
// returns the decision: hit (true) or no-hit. It returns [ErrCheating] when
// the output label matches neither commitment, which an honest responder
// never causes.
func (e *Evaluator) Finish(resp []byte) (bool, error) {
	if e.done {
		return false, ErrState
	}
	e.done = true
	defer e.ext.destroy()
	in, err := e.ext.receive(resp)
	if err != nil {
		return false, err
	}
	out, err := evaluate(e.c, e.table, append(e.gIn, in...))
	if err != nil {
		return false, err
	}
	return decodeOutput(e.session, 0, out[0], e.commit[0][0], e.commit[0][1])
}
