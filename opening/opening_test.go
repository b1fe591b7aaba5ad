package opening

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"math/rand/v2"
	"testing"
)

// q0 is the production result modulus, 2^60 - 2^18 + 1.
const q0 = 0xffffffffffc0001

var testParams = Params{Q: q0, CBits: 40, YBits: 28, Tol: 14}

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func reader(seed byte) seeded { return seeded{rand.NewChaCha8([32]byte{seed})} }

// evalWords evaluates c in the clear on words: bit i of in[w] is wire w's
// bit in case i, so one pass decides 64 cases. It returns every wire's
// word, in buf.
func evalWords(c *circuit, in []uint64, buf []uint64) []uint64 {
	w := buf[:c.wires]
	copy(w, in)
	for _, g := range c.gates {
		switch g.kind {
		case gateXOR:
			w[g.o] = w[g.a] ^ w[g.b]
		case gateAND, gateANDG:
			w[g.o] = w[g.a] & w[g.b]
		case gateNOT:
			w[g.o] = ^w[g.a]
		}
	}
	return w
}

// plain evaluates c on input bits (0 or 1), gate by gate, in the clear.
func plain(c *circuit, in []uint64) []uint64 {
	w := evalWords(c, in, make([]uint64, c.wires))
	out := make([]uint64, len(c.outputs))
	for i, o := range c.outputs {
		out[i] = w[o] & 1
	}
	return out
}

func bitsOf(v *big.Int, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(v.Bit(i))
	}
	return out
}

func valueOf(b []uint64) *big.Int {
	v := new(big.Int)
	for i := len(b) - 1; i >= 0; i-- {
		v.Lsh(v, 1)
		v.Or(v, big.NewInt(int64(b[i])))
	}
	return v
}

// TestArithmetic checks the builder's arithmetic against math/big on random
// operands and on the edges (zero, all ones, equal operands), evaluated in
// the clear.
func TestArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, vb, wb = 60, 40, 101
	q := new(big.Int).SetUint64(q0)
	ones := func(bits int) *big.Int {
		return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(bits)), big.NewInt(1))
	}
	for trial := 0; trial < 400; trial++ {
		b := newBuilder(n, 2*n+vb+wb) // u is the garbler's (the MAC key's place)
		x, y := b.evaluatorWires(0, n), b.evaluatorWires(n, n)
		u, v, w := b.garblerWires(0, n), b.evaluatorWires(2*n, vb), b.evaluatorWires(2*n+vb, wb)
		sum, carry := b.add(x, y, b.zero)
		diff, geq := b.sub(x, y)
		prod := b.mulBooth(v, u)
		ms := b.modSub(x, y, q0, n)
		red := b.reduceSolinas(w, 60, 18, q0)
		lt := b.lessThan(x, y)
		mux := b.mux(lt, u, x)
		outs := [][]int{sum, {carry}, diff, {geq}, prod, ms, red, {lt}, mux}
		for _, o := range outs {
			b.c.outputs = append(b.c.outputs, o...)
		}
		if err := b.c.check(); err != nil {
			t.Fatal(err)
		}
		// operands below q so that modSub's precondition holds
		X := new(big.Int).SetUint64(rng.Uint64N(q0))
		Y := new(big.Int).SetUint64(rng.Uint64N(q0))
		U := new(big.Int).SetUint64(rng.Uint64N(q0))
		V := new(big.Int).SetUint64(rng.Uint64N(1 << vb))
		W := new(big.Int).SetUint64(rng.Uint64())
		W.Lsh(W, 64).Or(W, new(big.Int).SetUint64(rng.Uint64()))
		W.Rsh(W, 128-wb)
		switch trial % 8 {
		case 0:
			Y.Set(X) // equal operands exercise the borrow edge
		case 1:
			U.SetUint64(q0 - 1)
			V.Set(ones(vb))
			W.Set(ones(wb))
		case 2:
			V.SetInt64(0)
			X.SetInt64(0)
		case 3:
			U.SetInt64(0)
			Y.SetUint64(q0 - 1)
		case 4:
			V.SetUint64(0x5555555555 & (1<<vb - 1)) // Booth digits of alternating bits
		case 5:
			V.SetUint64(0xaaaaaaaaaa & (1<<vb - 1))
		}
		in := append(append(append(append(append(bitsOf(U, n), 0), bitsOf(X, n)...), bitsOf(Y, n)...), bitsOf(V, vb)...), bitsOf(W, wb)...)
		got := plain(&b.c, in)
		pos := 0
		take := func(k int) *big.Int { v := valueOf(got[pos : pos+k]); pos += k; return v }
		mod := func(v *big.Int, bits uint) *big.Int {
			return new(big.Int).Mod(v, new(big.Int).Lsh(big.NewInt(1), bits))
		}
		s := new(big.Int).Add(X, Y)
		want := []*big.Int{mod(s, n), big.NewInt(int64(s.Bit(n))), mod(new(big.Int).Sub(X, Y), n)}
		geqWant := int64(0)
		if X.Cmp(Y) >= 0 {
			geqWant = 1
		}
		want = append(want, big.NewInt(geqWant), new(big.Int).Add(new(big.Int).Mul(U, V), boothOffset(vb, n)))
		want = append(want, new(big.Int).Mod(new(big.Int).Sub(X, Y), q), new(big.Int).Mod(W, q))
		ltWant := big.NewInt(1 - geqWant)
		want = append(want, ltWant)
		muxWant := X
		if geqWant == 0 {
			muxWant = U
		}
		want = append(want, muxWant)
		widths := []int{n, 1, n, 1, boothWidth(vb, n), n, 60, 1, n}
		for i, w := range widths {
			if g := take(w); g.Cmp(want[i]) != 0 {
				t.Fatalf("trial %d, output %d: got %v, want %v (x=%v y=%v u=%v v=%v w=%v)", trial, i, g, want[i], X, Y, U, V, W)
			}
		}
	}
}

// TestDecisionCircuitMatchesReference evaluates the decision circuit in the
// clear against Reference on random and edge inputs: values in and out of
// their windows, at the windows' ends, tags at and just past the tolerance,
// random tags, and the extreme keys and masks. It is the check of the
// circuit's arithmetic as a whole (the garbled runs are fewer, and slower).
func TestDecisionCircuitMatchesReference(t *testing.T) {
	for _, p := range []Params{testParams, {Q: q0, CBits: 40, YBits: 25, Tol: 11}, {Q: q0, CBits: 2, YBits: 1, Tol: 0}} {
		c, l := decisionCircuit(p)
		rng := rand.New(rand.NewPCG(11, uint64(p.YBits)))
		edge := func(width, bits int) uint64 {
			switch rng.IntN(6) {
			case 0:
				return 0
			case 1:
				return uint64(width) - 1 // the window's last value
			case 2:
				return uint64(width) // just past it
			case 3:
				return q0 - 1 // just below it
			case 4:
				return rng.Uint64N(q0)
			}
			return rng.Uint64N(uint64(width))
		}
		var hits, misses int
		for trial := 0; trial < 3000; trial++ {
			wC, wY, wP := 1+rng.IntN(1<<p.CBits), 1+rng.IntN(1<<p.YBits), 1+rng.IntN(1<<p.YBits)
			zC, zY, zP := edge(wC, p.CBits), edge(wY, p.YBits), edge(wP, p.YBits)
			e := int64(rng.IntN(1<<(p.Tol+2))) - 1<<(p.Tol+1)
			s, x := honest(rng, p, zC, zY, zP, e)
			s.WidthC, s.WidthY, s.WidthP = uint64(wC), uint64(wY), uint64(wP)
			switch trial % 5 {
			case 1:
				s.K1, s.K2, s.K4, s.K3 = q0-1, q0-1, q0-1, q0-1
				s, x = rekey(p, s, zC, zY, zP, e)
			case 2:
				s.K1, s.K2, s.K4, s.K3, s.OffT = 0, 0, 0, 0, 0
				s, x = rekey(p, s, zC, zY, zP, e)
			case 3:
				x[3] = rng.Uint64N(q0) // a random tag
			}
			want := Reference(p, s, x)
			got := plain(c, append(l.garblerBits(s, p), l.evaluatorBits(x)...))[0] == 1
			if got != want {
				t.Fatalf("%+v trial %d: circuit %v, reference %v (z %d %d %d, e %d, secrets %+v)", p, trial, got, want, zC, zY, zP, e, *s)
			}
			if want {
				hits++
			} else {
				misses++
			}
		}
		if hits < 100 || misses < 100 {
			t.Fatalf("%+v: %d hits and %d misses: the cases do not exercise both outputs", p, hits, misses)
		}
	}
}

// rekey recomputes the evaluator's inputs for s's keys and masks.
func rekey(p Params, s *Secrets, zC, zY, zP uint64, e int64) (*Secrets, Inputs) {
	t := honestTag(p, s, zC, zY, zP, e)
	return s, Inputs{addMod(p.Q, zC, s.OffC), addMod(p.Q, zY, s.OffY), addMod(p.Q, zP, s.OffP), addMod(p.Q, t, s.OffT)}
}

// decide is the plaintext reference of the decision circuit.
func decide(p Params, s *Secrets, x Inputs) bool { return Reference(p, s, x) }

// honest returns secrets and the evaluator's values for plaintext
// coefficients zC, zY and zP (in their windows when wanted) with a tag
// that satisfies the MAC up to noise e.
func honest(rng *rand.Rand, p Params, zC, zY, zP uint64, e int64) (*Secrets, Inputs) {
	s := &Secrets{
		OffC: rng.Uint64N(p.Q), OffY: rng.Uint64N(p.Q), OffP: rng.Uint64N(p.Q), OffT: rng.Uint64N(p.Q),
		WidthC: 1 << (p.CBits - 1), WidthY: 1 << max(p.YBits-2, 0), WidthP: 1 << max(p.YBits-3, 0),
		K1: rng.Uint64N(p.Q), K2: rng.Uint64N(p.Q), K4: rng.Uint64N(p.Q), K3: rng.Uint64N(p.Q),
	}
	return rekey(p, s, zC, zY, zP, e)
}

// honestTag is the tag's plaintext coefficient for s's keys: the MAC of
// the windows' bits of zC, zY and zP, plus noise e.
func honestTag(p Params, s *Secrets, zC, zY, zP uint64, e int64) uint64 {
	zT := new(big.Int).Mul(new(big.Int).SetUint64(zC%(1<<p.CBits)), new(big.Int).SetUint64(s.K1))
	zT.Add(zT, new(big.Int).Mul(new(big.Int).SetUint64(zY%(1<<p.YBits)), new(big.Int).SetUint64(s.K2)))
	zT.Add(zT, new(big.Int).Mul(new(big.Int).SetUint64(zP%(1<<p.YBits)), new(big.Int).SetUint64(s.K4)))
	zT.Add(zT, new(big.Int).SetUint64(s.K3))
	zT.Add(zT, big.NewInt(e))
	return zT.Mod(zT, new(big.Int).SetUint64(p.Q)).Uint64()
}

func addMod(q, z, off uint64) uint64 {
	return new(big.Int).Mod(new(big.Int).Add(new(big.Int).SetUint64(z), new(big.Int).SetUint64(off)), new(big.Int).SetUint64(q)).Uint64()
}

// run garbles, transfers and evaluates one opening.
func run(t *testing.T, p Params, s *Secrets, x Inputs, seed byte) (bool, error) {
	t.Helper()
	return runWith(t, p, s, x, seed, NewEvaluator)
}

// runWith is run with the evaluator's constructor newEv.
func runWith(t *testing.T, p Params, s *Secrets, x Inputs, seed byte,
	newEv func(Params, []byte, []byte, Inputs, io.Reader) (*Evaluator, []byte, error)) (bool, error) {
	t.Helper()
	session := []byte("session")
	g, msg, err := Garble(p, s, session, reader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) != p.GarbledBytes() {
		t.Fatalf("garbled message %d bytes, GarbledBytes says %d", len(msg), p.GarbledBytes())
	}
	e, req, err := newEv(p, session, msg, x, reader(seed+1))
	if err != nil {
		t.Fatal(err)
	}
	if len(req) != p.TransferRequestBytes() {
		t.Fatalf("request %d bytes, want %d", len(req), p.TransferRequestBytes())
	}
	resp, err := g.Transfer(req, reader(seed+2))
	if err != nil {
		t.Fatal(err)
	}
	return e.Finish(resp)
}

// TestOpeningDecides runs the garbled circuit against its plaintext
// reference on the cases the responder meets: counts inside and outside
// the window, norms inside and outside, a tag within the tolerance and one
// just outside it.
func TestOpeningDecides(t *testing.T) {
	p := testParams
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		name       string
		zC, zY, zP uint64
		e          int64
		want       bool
	}{
		{"hit", 12345, 777, 55, 0, true},
		{"hit, noise at the tolerance", 1 << 30, 1 << 20, 1<<(p.YBits-3) - 1, 1<<p.Tol - 1, true},
		{"hit, noise below the tolerance", 5, 6, 0, -(1 << p.Tol), true},
		{"tag just outside the tolerance", 12345, 777, 55, 1 << p.Tol, false},
		{"count outside its window", 1 << (p.CBits - 1), 777, 55, 0, false},
		{"count below its window", q0 - 5, 777, 55, 0, false},
		{"norm outside its window", 12345, 1 << (p.YBits - 2), 55, 0, false},
		{"padding norm outside its window", 12345, 777, 1 << (p.YBits - 3), 0, false},
		{"padding norm below its window", 12345, 777, q0 - 1, 0, false},
		{"padding norm a multiple of 2^YBits past its window", 12345, 777, 55 + 1<<p.YBits, 0, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, x := honest(rng, p, c.zC, c.zY, c.zP, c.e)
			if ref := decide(p, s, x); ref != c.want {
				t.Fatalf("reference decides %v, the case wants %v", ref, c.want)
			}
			got, err := run(t, p, s, x, byte(10*i))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("opening decided %v, want %v", got, c.want)
			}
		})
	}
}

// TestShiftedSharesFailTheMAC mounts the querier's shift attack: it adds δ
// to its share of the norm or of the padding norm to move the value into
// its window, with a guessed change of the tag share. Every attempt must
// open to no-hit. 200 attempts per value: a MAC that let even 2% through
// would show.
func TestShiftedSharesFailTheMAC(t *testing.T) {
	p := testParams
	rng := rand.New(rand.NewPCG(5, 6))
	far := uint64(1) << (p.YBits + 3) // far outside either norm's window
	into := (q0 - far + 100) % q0     // far + into = 100: inside
	for _, v := range []struct {
		i    int
		name string
	}{{1, "norm"}, {2, "padding norm"}} {
		i, name := v.i, v.name
		// shifted returns an honest case with value i far outside its window,
		// and the querier's inputs with that value's share shifted into it and
		// a guessed tag shift.
		shifted := func() (*Secrets, Inputs) {
			z := [3]uint64{1000, 300, 20}
			z[i] = far
			s, x := honest(rng, p, z[0], z[1], z[2], 0)
			if decide(p, s, x) {
				t.Fatalf("%s: the unshifted case opens to hit", name)
			}
			x[i] = (x[i] + into) % q0
			x[3] = (x[3] + rng.Uint64N(q0)) % q0
			return s, x
		}
		passed := 0
		for range 200 {
			if s, x := shifted(); decide(p, s, x) {
				passed++
			}
		}
		if passed != 0 {
			t.Fatalf("%s: %d of 200 shifted shares passed the MAC (reference)", name, passed)
		}
		// and through the garbled circuit, a few of them
		for j := range 4 {
			s, x := shifted()
			got, err := run(t, p, s, x, byte(100+10*i+3*j))
			if err != nil || got {
				t.Fatalf("%s: shifted shares opened to %v, %v; want no-hit", name, got, err)
			}
		}
	}
}

// TestGarblerCheatingIsDetected corrupts what the garbler sends: a table
// entry or a transferred label. The evaluator must report ErrCheating (or,
// for a corrupted table entry that the output does not depend on, the right
// answer), never a wrong decision silently.
func TestGarblerCheatingIsDetected(t *testing.T) {
	p := testParams
	rng := rand.New(rand.NewPCG(7, 8))
	s, x := honest(rng, p, 4242, 99, 7, 0)
	session := []byte("s")
	g, msg, err := Garble(p, s, session, reader(1))
	if err != nil {
		t.Fatal(err)
	}
	e, req, err := NewEvaluator(p, session, msg, x, reader(2))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.Transfer(req, reader(3))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(resp)
	bad[2*1088] ^= 1 // first transfer's message 0
	bad[2*1088+16] ^= 1
	if _, err := e.Finish(bad); !errors.Is(err, ErrCheating) {
		t.Fatalf("corrupted transfer: %v, want ErrCheating", err)
	}
	if _, err := e.Finish(resp); !errors.Is(err, ErrState) {
		t.Fatalf("second Finish: %v, want ErrState", err)
	}
	if _, err := g.Transfer(req, reader(4)); !errors.Is(err, ErrState) {
		t.Fatalf("second Transfer: %v, want ErrState", err)
	}
}

// TestOTChoices checks that the receiver gets exactly the chosen message of
// each transfer and that the request hides nothing obvious: two requests
// for opposite choices are the same size and differ everywhere.
func TestOTChoices(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 16
	pairs := make([][2]label, n)
	choices := make([]uint64, n)
	for i := range pairs {
		pairs[i] = [2]label{{rng.Uint64(), rng.Uint64()}, {rng.Uint64(), rng.Uint64()}}
		choices[i] = rng.Uint64() & 1
	}
	r, req, err := newOTRequest([]byte("s"), choices, reader(11))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := otRespond([]byte("s"), req, pairs, reader(12))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.receive(resp)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != pairs[i][choices[i]] {
			t.Fatalf("transfer %d: got the wrong message", i)
		}
		if got[i] == pairs[i][1-choices[i]] {
			t.Fatalf("transfer %d: got the other message", i)
		}
	}
	// another session's answer does not open
	resp2, err := otRespond([]byte("t"), req, pairs, reader(13))
	if err != nil {
		t.Fatal(err)
	}
	got2, _ := r.receive(resp2)
	for i := range got2 {
		if got2[i] == pairs[i][choices[i]] {
			t.Fatalf("transfer %d opened under another session", i)
		}
	}
}

func TestMalformedMessages(t *testing.T) {
	p := testParams
	if _, _, err := NewEvaluator(p, nil, make([]byte, 10), Inputs{}, reader(1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("short garbled message: %v", err)
	}
	msg := make([]byte, p.GarbledBytes())
	if _, _, err := NewEvaluator(p, nil, msg, Inputs{}, reader(1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbled message with the wrong digest: %v", err)
	}
	if _, err := otRespond(nil, make([]byte, otReqBytes+1), make([][2]label, 1), reader(1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("request of the wrong size: %v", err)
	}
	bad := make([]byte, otReqBytes)
	for i := range bad {
		bad[i] = 0xff // coefficients 4095 >= q
	}
	if _, err := otRespond(nil, bad, make([][2]label, 1), reader(1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("request with coefficients out of range: %v", err)
	}
	if err := (Params{Q: q0, CBits: 10, YBits: 9, Tol: 4}).Validate(); err != nil {
		t.Fatalf("the modulus cases' control is refused: %v", err)
	}
	for _, q := range []uint64{q0 + 2, 1<<61 + 1, 97} {
		if err := (Params{Q: q, CBits: 10, YBits: 9, Tol: 4}).Validate(); err == nil {
			t.Errorf("modulus %#x accepted", q)
		}
	}
}

// TestWindowWidthsBoundTheMAC: the circuit keeps a+CBits+1 bits of the
// MAC's sum, K1·z_C + K2·z_Y + K4·z_P + K3, which holds only with
// YBits < CBits. At the largest widths Validate accepts (YBits = CBits-1),
// with every key at Q-1 and every value at the top of its window, the
// circuit agrees with Reference; at YBits = CBits, which Validate refuses,
// the sum outgrows the kept bits and they disagree on honest inputs.
func TestWindowWidthsBoundTheMAC(t *testing.T) {
	for _, yb := range []int{39, 40} {
		p := Params{Q: q0, CBits: 40, YBits: yb, Tol: 14}
		valid := p.Validate() == nil
		if valid != (yb < p.CBits) {
			t.Fatalf("YBits %d, CBits %d: Validate accepts %v", yb, p.CBits, valid)
		}
		c, l := newDecisionCircuit(p)
		k := p.Q - 1
		s := &Secrets{WidthC: 1 << p.CBits, WidthY: 1 << p.YBits, WidthP: 1 << p.YBits, K1: k, K2: k, K4: k, K3: k}
		zC, zY := uint64(1)<<p.CBits-1, uint64(1)<<p.YBits-1
		q := new(big.Int).SetUint64(p.Q)
		m := new(big.Int).Mul(new(big.Int).SetUint64(zC), new(big.Int).SetUint64(k))
		m.Add(m, new(big.Int).Mul(new(big.Int).SetUint64(2*zY), new(big.Int).SetUint64(k)))
		m.Add(m, new(big.Int).SetUint64(k))
		x := Inputs{zC, zY, zY, new(big.Int).Mod(m, q).Uint64()}
		got := plain(c, append(l.garblerBits(s, p), l.evaluatorBits(x)...))[0] == 1
		if !Reference(p, s, x) {
			t.Fatalf("YBits %d: the honest case does not pass Reference", yb)
		}
		if got != valid {
			t.Errorf("YBits %d (Validate accepts %v): the circuit decides %v on an honest hit", yb, valid, got)
		}
	}
}

func TestSizes(t *testing.T) {
	p := testParams
	t.Logf("AND gates %d; garbled %d bytes; transfer request %d bytes, answer %d bytes",
		p.ANDGates(), p.GarbledBytes(), p.TransferRequestBytes(), p.TransferResponseBytes())
}

// TestDigestNamesTheCircuit: the digest changes with the parameters and
// with any one gate of the circuit, so that builds whose circuits differ
// refuse each other (he puts it in the parameter set's digest).
func TestDigestNamesTheCircuit(t *testing.T) {
	p := testParams
	d := p.Digest()
	if d != p.Digest() {
		t.Fatal("the digest of the same parameters differs")
	}
	q := p
	q.Tol++
	if q.Digest() == d {
		t.Fatal("parameters with another tolerance have the same digest")
	}
	c, _ := decisionCircuit(p)
	if circuitDigest(p, c) != d {
		t.Fatal("Digest is not the digest of the circuit")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for range 20 {
		m := *c
		m.gates = append([]gate(nil), c.gates...)
		i := rng.IntN(len(m.gates))
		switch g := &m.gates[i]; g.kind {
		case gateXOR:
			g.kind = gateAND
		case gateAND:
			g.kind = gateXOR
		default:
			g.b++
		}
		if circuitDigest(p, &m) == d {
			t.Fatalf("changing gate %d leaves the digest", i)
		}
	}
}

// TestInvalidParamsHaveSizes: the sizes and the digest of parameters that
// Validate refuses are defined (no panic, and the digest still names the
// parameters); Garble and NewEvaluator refuse them.
func TestInvalidParamsHaveSizes(t *testing.T) {
	seen := map[[32]byte]bool{}
	for _, p := range []Params{{}, {Q: 4}, {Q: q0, CBits: 70, YBits: 80, Tol: 100}, {Q: q0, CBits: -1, YBits: -5, Tol: -3}, {Q: q0, CBits: 40, YBits: 40, Tol: 10}} {
		if p.Validate() == nil {
			t.Fatalf("%+v: Validate accepts it", p)
		}
		_ = p.GarbledBytes() + p.TransferRequestBytes() + p.TransferResponseBytes() + p.ANDGates()
		d := p.Digest()
		if seen[d] {
			t.Fatalf("%+v: the digest of other parameters", p)
		}
		seen[d] = true
		if _, _, err := Garble(p, &Secrets{}, []byte("s"), reader(1)); err == nil {
			t.Fatalf("%+v: Garble accepts it", p)
		}
		if _, _, err := NewEvaluator(p, []byte("s"), nil, Inputs{}, reader(2)); err == nil {
			t.Fatalf("%+v: NewEvaluator accepts it", p)
		}
	}
}
