package opening

import (
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
)

// Oblivious transfer of the evaluator's input labels: the "endemic" OT of
// Masny and Rindal ("Endemic Oblivious Transfer", ACM CCS 2019, figure 3)
// over ML-KEM-768 (FIPS 203), so that the receiver's choices stay hidden
// from a sender with a quantum computer too.
//
// An ML-KEM-768 encapsulation key is t̂ ∈ Z_q^768 (q = 3329, NTT domain)
// and a 32-byte seed ρ; keys with the same ρ form a group under
// coefficient-wise addition, and a uniformly random t̂ is indistinguishable
// from a real one (Module-LWE). For choice bit c the receiver makes a key
// pair (t̂, ρ), draws r_{1-c} uniformly and sets r_c = t̂ - H(r_{1-c}); the
// sender derives pk_j = r_j + H(r_{1-j}) for j = 0, 1, encapsulates to both
// and pads message j with key j. pk_c is the receiver's key; the receiver
// cannot know the secret key of pk_{1-c} (Masny and Rindal, theorem 4.1, in
// the random-oracle model), and r_0, r_1 are uniform to the sender.

const (
	kemQ         = 3329
	kemCoeffs    = 3 * 256
	kemTBytes    = kemCoeffs * 12 / 8 // 1152
	kemRhoBytes  = 32
	otReqBytes   = kemRhoBytes + 2*kemTBytes                // one OT's receiver message
	otRespBytes  = 2*mlkem768.CiphertextSize + 2*labelBytes // one OT's sender message
	labelBytes   = 16
	kemSeedBytes = mlkem768.KeySeedSize
)

type kemVec [kemCoeffs]uint16

// decodeT unpacks 12-bit coefficients (FIPS 203 ByteDecode_12) and checks
// that each is below q (the encapsulation key check of FIPS 203, 7.2).
func decodeT(b []byte, v *kemVec) bool {
	for i := 0; i < kemCoeffs/2; i++ {
		lo := uint16(b[3*i]) | uint16(b[3*i+1]&0x0f)<<8
		hi := uint16(b[3*i+1]>>4) | uint16(b[3*i+2])<<4
		if lo >= kemQ || hi >= kemQ {
			return false
		}
		v[2*i], v[2*i+1] = lo, hi
	}
	return true
}

func encodeT(v *kemVec, b []byte) {
	for i := 0; i < kemCoeffs/2; i++ {
		lo, hi := v[2*i], v[2*i+1]
		b[3*i] = byte(lo)
		b[3*i+1] = byte(lo>>8) | byte(hi<<4)
		b[3*i+2] = byte(hi >> 4)
	}
}

func (v *kemVec) add(a, b *kemVec) {
	for i := range v {
		s := a[i] + b[i]
		if s >= kemQ {
			s -= kemQ
		}
		v[i] = s
	}
}

func (v *kemVec) sub(a, b *kemVec) {
	for i := range v {
		s := a[i] + kemQ - b[i]
		if s >= kemQ {
			s -= kemQ
		}
		v[i] = s
	}
}

// sampleUniform fills v with uniform coefficients below q by rejection from
// an extendable-output stream (as FIPS 203 SampleNTT does).
func sampleUniform(xof io.Reader, v *kemVec) {
	var buf [3 * 64]byte
	n := 0
	for n < kemCoeffs {
		xof.Read(buf[:]) // a SHAKE stream never fails
		for i := 0; i+3 <= len(buf) && n < kemCoeffs; i += 3 {
			d1 := uint16(buf[i]) | uint16(buf[i+1]&0x0f)<<8
			d2 := uint16(buf[i+1]>>4) | uint16(buf[i+2])<<4
			if d1 < kemQ {
				v[n] = d1
				n++
			}
			if d2 < kemQ && n < kemCoeffs {
				v[n] = d2
				n++
			}
		}
	}
}

// otHash is H: it maps the other key of a pair to a uniform element of
// Z_q^768, domain-separated by session, transfer index, position j of the
// key it is added to, and ρ.
func otHash(session []byte, idx int, j int, rho []byte, other *kemVec, out *kemVec) {
	h := sha3.NewSHAKE128()
	h.Write([]byte("puente/opening/v1 ot-hash\x00"))
	h.Write(session)
	var b [9]byte
	binary.BigEndian.PutUint64(b[:8], uint64(idx))
	b[8] = byte(j)
	h.Write(b[:])
	h.Write(rho)
	var enc [kemTBytes]byte
	encodeT(other, enc[:])
	h.Write(enc[:])
	sampleUniform(h, out)
}

// otPad derives the 16-byte pad of message j from a shared key.
func otPad(session []byte, idx, j int, ss []byte) label {
	h := sha256.New()
	h.Write([]byte("puente/opening/v1 ot-pad\x00"))
	h.Write(session)
	var b [9]byte
	binary.BigEndian.PutUint64(b[:8], uint64(idx))
	b[8] = byte(j)
	h.Write(b[:])
	h.Write(ss)
	return labelFrom(h.Sum(nil)[:16])
}

// otReceiver holds the receiver's secret keys between its request and the
// sender's answer.
type otReceiver struct {
	session []byte
	choices []uint64
	sks     []*mlkem768.PrivateKey
}

// newOTRequest makes the receiver's message for the given choice bits.
func newOTRequest(session []byte, choices []uint64, rand io.Reader) (*otReceiver, []byte, error) {
	r := &otReceiver{session: session, choices: choices, sks: make([]*mlkem768.PrivateKey, len(choices))}
	msg := make([]byte, len(choices)*otReqBytes)
	var seed [kemSeedBytes]byte
	var t, rOther, h, rChosen kemVec
	for i, c := range choices {
		if _, err := io.ReadFull(rand, seed[:]); err != nil {
			return nil, nil, fmt.Errorf("opening: reading randomness: %w", err)
		}
		pk, sk := mlkem768.NewKeyFromSeed(seed[:])
		r.sks[i] = sk
		var pkb [mlkem768.PublicKeySize]byte
		pk.Pack(pkb[:])
		if !decodeT(pkb[:kemTBytes], &t) {
			return nil, nil, fmt.Errorf("opening: ML-KEM key out of range") // cannot happen for a generated key
		}
		rho := pkb[kemTBytes:]
		if _, err := io.ReadFull(rand, seed[:32]); err != nil {
			return nil, nil, fmt.Errorf("opening: reading randomness: %w", err)
		}
		xof := sha3.NewSHAKE128()
		xof.Write([]byte("puente/opening/v1 ot-random\x00"))
		xof.Write(seed[:32])
		sampleUniform(xof, &rOther)
		otHash(session, i, int(c&1), rho, &rOther, &h)
		rChosen.sub(&t, &h)
		out := msg[i*otReqBytes : (i+1)*otReqBytes]
		copy(out, rho)
		if c&1 == 0 {
			encodeT(&rChosen, out[kemRhoBytes:])
			encodeT(&rOther, out[kemRhoBytes+kemTBytes:])
		} else {
			encodeT(&rOther, out[kemRhoBytes:])
			encodeT(&rChosen, out[kemRhoBytes+kemTBytes:])
		}
	}
	clear(seed[:])
	return r, msg, nil
}

// otRespond answers a receiver's message: message pairs[i][j] is sent
// under pk_j of transfer i. It refuses a request of the wrong size or with
// coefficients out of range.
func otRespond(session []byte, req []byte, pairs [][2]label, rand io.Reader) ([]byte, error) {
	if len(req) != len(pairs)*otReqBytes {
		return nil, fmt.Errorf("%w: transfer request of %d bytes, want %d", ErrMalformed, len(req), len(pairs)*otReqBytes)
	}
	out := make([]byte, len(pairs)*otRespBytes)
	var r [2]kemVec
	var h, pk kemVec
	var pkb [mlkem768.PublicKeySize]byte
	var seed [mlkem768.EncapsulationSeedSize]byte
	var ss [mlkem768.SharedKeySize]byte
	for i := range pairs {
		in := req[i*otReqBytes : (i+1)*otReqBytes]
		rho := in[:kemRhoBytes]
		if !decodeT(in[kemRhoBytes:kemRhoBytes+kemTBytes], &r[0]) || !decodeT(in[kemRhoBytes+kemTBytes:], &r[1]) {
			return nil, fmt.Errorf("%w: transfer %d: key coefficient out of range", ErrMalformed, i)
		}
		o := out[i*otRespBytes : (i+1)*otRespBytes]
		for j := 0; j < 2; j++ {
			otHash(session, i, j, rho, &r[1-j], &h)
			pk.add(&r[j], &h)
			encodeT(&pk, pkb[:kemTBytes])
			copy(pkb[kemTBytes:], rho)
			var key mlkem768.PublicKey
			if err := key.Unpack(pkb[:]); err != nil {
				return nil, fmt.Errorf("%w: transfer %d: %v", ErrMalformed, i, err)
			}
			if _, err := io.ReadFull(rand, seed[:]); err != nil {
				return nil, fmt.Errorf("opening: reading randomness: %w", err)
			}
			key.EncapsulateTo(o[j*mlkem768.CiphertextSize:(j+1)*mlkem768.CiphertextSize], ss[:], seed[:])
			pad := otPad(session, i, j, ss[:])
			pairs[i][j].xor(pad).bytes(o[2*mlkem768.CiphertextSize+j*labelBytes:])
		}
	}
	clear(seed[:])
	clear(ss[:])
	return out, nil
}

// destroy drops the receiver's secret keys and choices.
func (r *otReceiver) destroy() {
	clear(r.sks)
	clear(r.choices)
}

// receive opens the chosen message of every transfer.
func (r *otReceiver) receive(resp []byte) ([]label, error) {
	if len(resp) != len(r.choices)*otRespBytes {
		return nil, fmt.Errorf("%w: transfer answer of %d bytes, want %d", ErrMalformed, len(resp), len(r.choices)*otRespBytes)
	}
	out := make([]label, len(r.choices))
	var ss [mlkem768.SharedKeySize]byte
	for i, c := range r.choices {
		o := resp[i*otRespBytes : (i+1)*otRespBytes]
		j := int(c & 1)
		r.sks[i].DecapsulateTo(ss[:], o[j*mlkem768.CiphertextSize:(j+1)*mlkem768.CiphertextSize])
		pad := otPad(r.session, i, j, ss[:])
		out[i] = labelFrom(o[2*mlkem768.CiphertextSize+j*labelBytes:]).xor(pad)
	}
	clear(ss[:])
	return out, nil
}
