package opening

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func randomPairs(rng *rand.Rand, n int) [][2]label {
	pairs := make([][2]label, n)
	for i := range pairs {
		pairs[i] = [2]label{{rng.Uint64(), rng.Uint64()}, {rng.Uint64(), rng.Uint64()}}
	}
	return pairs
}

// TestExtensionChoices checks that the evaluator gets exactly the chosen
// label of each extended transfer, never the other, and that an answer
// made for another session does not open.
func TestExtensionChoices(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 63, 64, 65, 180} {
		pairs := randomPairs(rng, n)
		choices := make([]uint64, n)
		for i := range choices {
			choices[i] = rng.Uint64() & 1
		}
		snd, baseReq, err := newExtSender([]byte("s"), n, reader(23))
		if err != nil {
			t.Fatal(err)
		}
		rcv, req, err := newExtReceiver([]byte("s"), baseReq, choices, reader(24))
		if err != nil {
			t.Fatal(err)
		}
		if len(baseReq) != extBaseRequestBytes || len(req) != extRequestBytes(n) {
			t.Fatalf("n = %d: message sizes %d and %d", n, len(baseReq), len(req))
		}
		resp, err := snd.send(req, pairs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rcv.receive(resp)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != pairs[i][choices[i]] || got[i] == pairs[i][1-choices[i]] {
				t.Fatalf("n = %d, transfer %d: not the chosen label", n, i)
			}
		}
		// The same request answered under another session opens nothing.
		other, baseOther, err := newExtSender([]byte("t"), n, reader(25))
		if err != nil {
			t.Fatal(err)
		}
		rcv2, req2, err := newExtReceiver([]byte("s"), baseOther, choices, reader(26))
		if err != nil {
			t.Fatal(err)
		}
		resp2, err := other.send(req2, pairs)
		if err != nil {
			t.Fatal(err)
		}
		got2, _ := rcv2.receive(resp2)
		for i := range got2 {
			if got2[i] == pairs[i][choices[i]] {
				t.Fatalf("n = %d, transfer %d opened under another session", n, i)
			}
		}
	}
}

// TestExtensionInconsistentColumns mounts the malicious evaluator's attack
// on the extension: columns that disagree on one wire's row, so that the
// garbler's row is q_j = t_j ⊕ (x ∧ s) for an x the evaluator chose, then
// every guess of s where the evaluator can afford it. Over 40 openings and
// x of weight 1, 8 and 16 (up to 65,536 guesses for the label of 0), the
// evaluator never holds both labels of the wire: the label of 1 would need
// s on the other 128 - w positions. The control runs the same attack with
// s known, and gets both labels every time.
func TestExtensionInconsistentColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const n, wire, sessions = 8, 3, 40
	for _, w := range []int{1, 8, 16} {
		var label0, both, control int
		for k := 0; k < sessions; k++ {
			pairs := randomPairs(rng, n)
			snd, baseReq, err := newExtSender([]byte{byte(k)}, n, reader(byte(40+k)))
			if err != nil {
				t.Fatal(err)
			}
			// Row wire is x: ones on w random columns; every other row
			// asks for the label of 0.
			var x label
			for _, i := range rng.Perm(kappa)[:w] {
				x = x.xor(unitLabel(i))
			}
			cols := make([]column, kappa)
			for i := range cols {
				cols[i] = newColumn(n)
				cols[i][0] |= sBit(x, i) << wire
			}
			rcv, req, err := newExtReceiverColumns([]byte{byte(k)}, baseReq, n, cols, reader(byte(90+k)))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := snd.send(req, pairs)
			if err != nil {
				t.Fatal(err)
			}
			y0 := labelFrom(resp[2*wire*labelBytes:])
			y1 := labelFrom(resp[(2*wire+1)*labelBytes:])
			tj := rcv.t[wire]
			// The label of 0: try every s on the support of x.
			support := bitsOfLabel(x)
			got0 := false
			for g := 0; g < 1<<w; g++ {
				var guess label
				for b, i := range support {
					if g>>b&1 == 1 {
						guess = guess.xor(unitLabel(i))
					}
				}
				if y0.xor(extHash([]byte{byte(k)}, wire, tj.xor(guess))) == pairs[wire][0] {
					got0 = true
				}
			}
			// The label of 1 needs s off the support; the evaluator can
			// only try what it knows: s = 0 there, and as many random
			// guesses as it spent on the label of 0.
			got1 := y1.xor(extHash([]byte{byte(k)}, wire, tj)) == pairs[wire][1]
			for g := 0; g < 1<<w && !got1; g++ {
				guess := label{rng.Uint64(), rng.Uint64()}
				guess = label{guess.lo &^ x.lo, guess.hi &^ x.hi}
				got1 = y1.xor(extHash([]byte{byte(k)}, wire, tj.xor(guess))) == pairs[wire][1]
			}
			if got0 {
				label0++
			}
			if got0 && got1 {
				both++
			}
			// Control: knowing s opens both.
			notX := label{^x.lo, ^x.hi}
			c0 := y0.xor(extHash([]byte{byte(k)}, wire, tj.xor(label{x.lo & snd.s.lo, x.hi & snd.s.hi}))) == pairs[wire][0]
			c1 := y1.xor(extHash([]byte{byte(k)}, wire, tj.xor(label{notX.lo & snd.s.lo, notX.hi & snd.s.hi}))) == pairs[wire][1]
			if c0 && c1 {
				control++
			}
		}
		t.Logf("weight %d: label of 0 among the guesses in %d/%d openings, both labels in %d/%d; with s known, both in %d/%d",
			w, label0, sessions, both, sessions, control, sessions)
		if both != 0 {
			t.Errorf("weight %d: the evaluator got both labels of a wire in %d of %d openings", w, both, sessions)
		}
		if control != sessions || label0 != sessions {
			t.Errorf("weight %d: the attack harness is broken: control %d/%d, label of 0 %d/%d", w, control, sessions, label0, sessions)
		}
	}
}

func unitLabel(i int) label {
	if i < 64 {
		return label{lo: 1 << i}
	}
	return label{hi: 1 << (i - 64)}
}

func bitsOfLabel(x label) []int {
	var out []int
	for i := 0; i < kappa; i++ {
		if sBit(x, i) == 1 {
			out = append(out, i)
		}
	}
	return out
}

// TestExtensionMalformed checks that every wrong-sized or non-canonical
// extension message is refused with ErrMalformed.
func TestExtensionMalformed(t *testing.T) {
	const n = 70
	snd, baseReq, err := newExtSender([]byte("s"), n, reader(51))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := newExtReceiver([]byte("s"), baseReq[1:], make([]uint64, n), reader(52)); !errors.Is(err, ErrMalformed) {
		t.Errorf("short base request: %v", err)
	}
	rcv, req, err := newExtReceiver([]byte("s"), baseReq, make([]uint64, n), reader(53))
	if err != nil {
		t.Fatal(err)
	}
	pairs := randomPairs(rand.New(rand.NewPCG(1, 2)), n)
	if _, err := snd.send(req[:len(req)-1], pairs); !errors.Is(err, ErrMalformed) {
		t.Errorf("short request: %v", err)
	}
	bad := append([]byte(nil), req...)
	bad[len(bad)-1] |= 0x80 // bit 71 of the last column, beyond its 70 transfers
	if _, err := snd.send(bad, pairs); !errors.Is(err, ErrMalformed) {
		t.Errorf("column with bits beyond n: %v", err)
	}
	if _, err := rcv.receive(make([]byte, extAnswerBytes(n)+1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("long answer: %v", err)
	}
}

// FuzzTransferRequest feeds arbitrary transfer requests to a garbler: it
// never panics, refuses every request of the wrong size or with a
// non-canonical field with ErrMalformed, and answers any other with an
// answer of the fixed size.
func FuzzTransferRequest(f *testing.F) {
	const n = 9
	f.Add(make([]byte, extRequestBytes(n)))
	f.Add([]byte{1, 2, 3})
	_, baseReq, _ := newExtSender([]byte("f"), n, reader(61))
	_, req, _ := newExtReceiver([]byte("f"), baseReq, make([]uint64, n), reader(62))
	f.Add(req)
	f.Fuzz(func(t *testing.T, req []byte) {
		snd, _, err := newExtSender([]byte("f"), n, reader(61))
		if err != nil {
			t.Fatal(err)
		}
		out, err := snd.send(req, make([][2]label, n))
		switch {
		case err != nil && !errors.Is(err, ErrMalformed):
			t.Fatalf("error is not ErrMalformed: %v", err)
		case err == nil && len(out) != extAnswerBytes(n):
			t.Fatalf("answer of %d bytes", len(out))
		case err == nil && len(req) != extRequestBytes(n):
			t.Fatalf("request of %d bytes accepted", len(req))
		}
	})
}
