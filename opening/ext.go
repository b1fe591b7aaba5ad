package opening

import (
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"fmt"
	"io"
)

// Oblivious transfer extension (Ishai, Kilian, Nissim and Petrank, CRYPTO
// 2003): the evaluator's n input labels travel by n transfers built from
// κ = 128 base transfers run the other way, so that the answer carries 128
// ML-KEM-768 transfers instead of n (180 on puente-ckks-n15-v2) and then
// 32 bytes per input bit. The base transfers are fresh in every opening;
// nothing is kept between queries.
//
//   - Base transfers: the garbler, as receiver, draws s ∈ {0,1}^κ and asks
//     for seed k_i^{s_i} of each pair (k_i^0, k_i^1) the evaluator draws
//     (the endemic OT of ot.go, with the garbler's request in its first
//     message).
//   - Extension: for its choice bits r ∈ {0,1}^n the evaluator sends the
//     columns u^i = G(k_i^0) ⊕ G(k_i^1) ⊕ r and keeps t^i = G(k_i^0). The
//     garbler computes q^i = G(k_i^{s_i}) ⊕ s_i·u^i, so that row j is
//     q_j = t_j ⊕ r_j·s, and sends y_j^b = m_j^b ⊕ H(j, q_j ⊕ b·s) for
//     b = 0, 1; the evaluator opens m_j^{r_j} = y_j^{r_j} ⊕ H(j, t_j).
//
// The evaluator's choices: u^i is masked by G(k_i^{1-s_i}), a seed the
// garbler cannot learn from the base transfer. The garbler's labels: an
// evaluator that sends any columns at all gets row j as q_j = t_j ⊕ (x_j ∧ s)
// for a vector x_j of its choice, so opening m_j^0 needs s on the positions
// where x_j is 1 and opening m_j^1 needs s where x_j is 0: both labels of
// a wire need all 128 bits of s, which the base transfers hide (H is a
// random oracle: SHA-256). Inconsistent columns can make an input label
// depend on s, that is wrong (the circuit then fails to open); they cannot
// give two labels of a wire. Since s is fresh in every opening, what a
// failure tells the evaluator about s is worth nothing in the next one.
// TestExtensionInconsistentColumns mounts that attack.

const kappa = 128

// extColumnBytes is the size of one column u^i for n transfers.
func extColumnBytes(n int) int { return (n + 7) / 8 }

// extRequestBytes is the size of the evaluator's message for n transfers:
// its answers to the κ base transfers, then the κ columns.
func extRequestBytes(n int) int { return kappa*otRespBytes + kappa*extColumnBytes(n) }

// extAnswerBytes is the size of the garbler's answer for n transfers.
func extAnswerBytes(n int) int { return n * 2 * labelBytes }

// extBaseRequestBytes is the size of the garbler's base-transfer request.
const extBaseRequestBytes = kappa * otReqBytes

// column is n bits, bit j at word j/64, position j%64.
type column []uint64

func newColumn(n int) column { return make(column, (n+63)/64) }

func (c column) bit(j int) uint64 { return c[j/64] >> (j % 64) & 1 }

func (c column) bytes(b []byte) {
	for k := range b {
		b[k] = byte(c[k/8] >> (8 * (k % 8)))
	}
}

// columnFrom reads n bits; it reports false when a bit beyond n is set (the
// encoding is canonical).
func columnFrom(b []byte, n int) (column, bool) {
	c := newColumn(n)
	for k, v := range b {
		c[k/8] |= uint64(v) << (8 * (k % 8))
	}
	if r := n % 64; r != 0 && c[len(c)-1]>>r != 0 {
		return nil, false
	}
	return c, true
}

// extPRG is G: the n-bit column of seed k for base transfer i.
func extPRG(session []byte, i int, k label, n int) column {
	h := sha3.NewSHAKE128()
	absorb(h, "puente/opening/v2 ot-extension prg", session, i, k)
	out := make([]byte, extColumnBytes(n))
	h.Read(out)
	c, _ := columnFrom(out, len(out)*8)
	if r := n % 64; r != 0 {
		c[len(c)-1] &= 1<<r - 1
	}
	clear(out)
	return c
}

// extHash is H: the pad of transfer j under row x.
func extHash(session []byte, j int, x label) label {
	h := sha256.New()
	absorb(h, "puente/opening/v2 ot-extension pad", session, j, x)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return labelFrom(sum[:16])
}

// absorb writes the domain, the session, the index and the label to h.
func absorb(h io.Writer, domain string, session []byte, i int, x label) {
	h.Write([]byte(domain + "\x00"))
	h.Write(session)
	var b [8 + labelBytes]byte
	binary.BigEndian.PutUint64(b[:8], uint64(i))
	x.bytes(b[8:])
	h.Write(b[:])
	clear(b[:])
}

// rows transposes κ columns of n bits into n rows of κ bits (row j's bit i
// is column i's bit j).
func rows(cols []column, n int) []label {
	out := make([]label, n)
	for i, c := range cols {
		for j := 0; j < n; j++ {
			b := c.bit(j)
			if i < 64 {
				out[j].lo |= b << i
			} else {
				out[j].hi |= b << (i - 64)
			}
		}
	}
	return out
}

// extSender is the garbler's side: its secret s and its base transfers.
type extSender struct {
	session []byte
	n       int
	s       label
	base    *otReceiver
}

// newExtSender draws s and returns the base-transfer request for it.
func newExtSender(session []byte, n int, rand io.Reader) (*extSender, []byte, error) {
	s, err := randomLabel(rand)
	if err != nil {
		return nil, nil, err
	}
	choices := make([]uint64, kappa)
	for i := range choices {
		choices[i] = sBit(s, i)
	}
	base, req, err := newOTRequest(session, choices, rand)
	if err != nil {
		return nil, nil, err
	}
	return &extSender{session: session, n: n, s: s, base: base}, req, nil
}

func sBit(s label, i int) uint64 {
	if i < 64 {
		return s.lo >> i & 1
	}
	return s.hi >> (i - 64) & 1
}

// send answers the evaluator's request with pairs[j][b] padded as above.
// It refuses a request of the wrong size or with a column that is not
// canonical.
func (x *extSender) send(req []byte, pairs [][2]label) ([]byte, error) {
	if len(pairs) != x.n || len(req) != extRequestBytes(x.n) {
		return nil, fmt.Errorf("%w: transfer request of %d bytes, want %d", ErrMalformed, len(req), extRequestBytes(x.n))
	}
	seeds, err := x.base.receive(req[:kappa*otRespBytes])
	if err != nil {
		return nil, err
	}
	defer clear(seeds)
	cb := extColumnBytes(x.n)
	cols := make([]column, kappa)
	defer func() {
		for _, c := range cols {
			clear(c)
		}
	}()
	for i := range cols {
		u, ok := columnFrom(req[kappa*otRespBytes+i*cb:kappa*otRespBytes+(i+1)*cb], x.n)
		if !ok {
			return nil, fmt.Errorf("%w: transfer request column %d has bits beyond its %d transfers", ErrMalformed, i, x.n)
		}
		q := extPRG(x.session, i, seeds[i], x.n)
		m := -sBit(x.s, i)
		for w := range q {
			q[w] ^= u[w] & m
		}
		cols[i] = q
	}
	qs := rows(cols, x.n)
	defer clear(qs)
	out := make([]byte, extAnswerBytes(x.n))
	for j, q := range qs {
		pairs[j][0].xor(extHash(x.session, j, q)).bytes(out[2*j*labelBytes:])
		pairs[j][1].xor(extHash(x.session, j, q.xor(x.s))).bytes(out[(2*j+1)*labelBytes:])
	}
	return out, nil
}

func (x *extSender) destroy() {
	x.s = label{}
	x.base.destroy()
}

// extReceiver is the evaluator's side: its choices and the rows t_j.
type extReceiver struct {
	session []byte
	choices []uint64
	t       []label
}

// newExtReceiver answers the garbler's base transfers with fresh seed
// pairs and returns the request for choice bits choices.
func newExtReceiver(session, baseReq []byte, choices []uint64, rand io.Reader) (*extReceiver, []byte, error) {
	n := len(choices)
	r := newColumn(n)
	for j, c := range choices {
		r[j/64] |= (c & 1) << (j % 64)
	}
	cols := make([]column, kappa)
	for i := range cols {
		cols[i] = r
	}
	x, req, err := newExtReceiverColumns(session, baseReq, n, cols, rand)
	clear(r)
	if err != nil {
		return nil, nil, err
	}
	x.choices = append([]uint64(nil), choices...)
	return x, req, nil
}

// newExtReceiverColumns makes the request with column i masking r[i]; an
// honest evaluator passes the same choice column κ times.
func newExtReceiverColumns(session, baseReq []byte, n int, r []column, rand io.Reader) (*extReceiver, []byte, error) {
	if len(baseReq) != extBaseRequestBytes {
		return nil, nil, fmt.Errorf("%w: base-transfer request of %d bytes, want %d", ErrMalformed, len(baseReq), extBaseRequestBytes)
	}
	seeds := make([][2]label, kappa)
	defer clear(seeds)
	for i := range seeds {
		for b := range seeds[i] {
			var err error
			if seeds[i][b], err = randomLabel(rand); err != nil {
				return nil, nil, err
			}
		}
	}
	req := make([]byte, extRequestBytes(n))
	ans, err := otRespond(session, baseReq, seeds, rand)
	if err != nil {
		return nil, nil, err
	}
	copy(req, ans)
	cb := extColumnBytes(n)
	ts := make([]column, kappa)
	for i := range ts {
		ts[i] = extPRG(session, i, seeds[i][0], n)
		u := extPRG(session, i, seeds[i][1], n)
		for w := range u {
			u[w] ^= ts[i][w] ^ r[i][w]
		}
		u.bytes(req[kappa*otRespBytes+i*cb : kappa*otRespBytes+(i+1)*cb])
		clear(u)
	}
	x := &extReceiver{session: session, t: rows(ts, n)}
	for _, c := range ts {
		clear(c)
	}
	return x, req, nil
}

// receive opens the chosen label of every transfer.
func (x *extReceiver) receive(resp []byte) ([]label, error) {
	n := len(x.t)
	if len(resp) != extAnswerBytes(n) {
		return nil, fmt.Errorf("%w: transfer answer of %d bytes, want %d", ErrMalformed, len(resp), extAnswerBytes(n))
	}
	out := make([]label, n)
	for j, t := range x.t {
		// y^c without an index or a branch on the choice bit c.
		y0, y1 := labelFrom(resp[2*j*labelBytes:]), labelFrom(resp[(2*j+1)*labelBytes:])
		out[j] = y0.xor(y0.xor(y1).mask(x.choices[j])).xor(extHash(x.session, j, t))
	}
	return out, nil
}

func (x *extReceiver) destroy() {
	clear(x.t)
	clear(x.choices)
}
